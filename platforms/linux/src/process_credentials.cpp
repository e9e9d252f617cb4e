#include "litebox/linux/process_credentials.hpp"

#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <string_view>

#include "child_safe_error.hpp"

namespace litebox::linux_host {
namespace {

// A whole (small) file read with open/read: no stdio, no locks. Empty with errno set on failure.
bool read_small_file(const char* path, std::string& content, int& error) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = errno;
    return false;
  }
  std::array<char, 4096> buffer{};
  for (;;) {
    ssize_t n = read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      error = errno;
      close(fd);
      return false;
    }
    if (n == 0) {
      break;
    }
    content.append(buffer.data(), static_cast<std::size_t>(n));
    if (content.size() > (std::size_t{16} << 20)) {
      error = EFBIG;
      close(fd);
      return false;
    }
  }
  close(fd);
  return true;
}

}  // namespace

Expected<UserPlan> make_user_plan(const oci::User& user) {
  UserPlan plan;
  plan.uid = static_cast<uid_t>(user.uid);
  plan.gid = static_cast<gid_t>(user.gid);
  plan.additional_gids.assign(user.additional_gids.begin(), user.additional_gids.end());
  if (user.umask) {
    if (*user.umask > 0777) {
      return Error{EINVAL, "invalid umask " + std::to_string(*user.umask) + ": at most 0777"};
    }
    plan.umask = static_cast<mode_t>(*user.umask);
  }
  return plan;
}

Status fix_stdio_ownership(uid_t uid) {
  struct stat null_stat {};
  if (stat("/dev/null", &null_stat) != 0) {
    return detail::child_error("stat /dev/null", errno);
  }
  for (int fd = 0; fd <= 2; ++fd) {
    struct stat fd_stat {};
    if (fstat(fd, &fd_stat) != 0) {
      if (errno == EBADF) {
        continue;  // not open: nothing to own
      }
      return detail::child_error("fstat fd " + std::to_string(fd), errno);
    }
    if (fd_stat.st_uid == uid || (S_ISCHR(fd_stat.st_mode) && fd_stat.st_rdev == null_stat.st_rdev)) {
      continue;
    }
    if (fchown(fd, uid, static_cast<gid_t>(-1)) != 0) {
      if (errno == EINVAL || errno == EPERM || errno == EROFS) {
        continue;
      }
      return detail::child_error("fchown fd " + std::to_string(fd) + " to uid " + std::to_string(uid), errno);
    }
  }
  return {};
}

Status switch_user(const UserPlan& plan) {
  std::string setgroups_policy;
  int error = 0;
  bool setgroups_denied = false;
  if (read_small_file("/proc/self/setgroups", setgroups_policy, error)) {
    setgroups_denied = setgroups_policy.starts_with("deny");
  } else if (error != ENOENT) {
    return detail::child_error("read /proc/self/setgroups", error);
  }
  if (setgroups_denied) {
    if (!plan.additional_gids.empty()) {
      return Error{EPERM, "cannot set additional groups: setgroups is denied in this user namespace"};
    }
  } else if (setgroups(plan.additional_gids.size(), plan.additional_gids.data()) != 0) {
    return detail::child_error("setgroups", errno);
  }
  if (setresgid(plan.gid, plan.gid, plan.gid) != 0) {
    if (errno == EINVAL) {
      return Error{EINVAL, "cannot setgid to unmapped gid " + std::to_string(plan.gid) + " in user namespace"};
    }
    return detail::child_error("setresgid " + std::to_string(plan.gid), errno);
  }
  if (setresuid(plan.uid, plan.uid, plan.uid) != 0) {
    if (errno == EINVAL) {
      return Error{EINVAL, "cannot setuid to unmapped uid " + std::to_string(plan.uid) + " in user namespace"};
    }
    return detail::child_error("setresuid " + std::to_string(plan.uid), errno);
  }
  return {};
}

void apply_umask(const UserPlan& plan) { umask(plan.umask); }

std::string home_directory_for(uid_t uid, const std::string& passwd_path) {
  std::string content;
  int error = 0;
  if (!read_small_file(passwd_path.c_str(), content, error)) {
    return "/";
  }
  // name:password:uid:gid:gecos:home:shell
  std::string_view rest = content;
  while (!rest.empty()) {
    std::size_t end = rest.find('\n');
    std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
    std::array<std::string_view, 7> fields{};
    std::size_t count = 0;
    for (std::string_view field = line; count < fields.size();) {
      std::size_t colon = field.find(':');
      fields[count++] = field.substr(0, colon);
      if (colon == std::string_view::npos) {
        break;
      }
      field = field.substr(colon + 1);
    }
    if (count < 6 || fields[0].starts_with('#')) {
      continue;
    }
    unsigned long entry_uid = 0;
    auto [ptr, ec] = std::from_chars(fields[2].data(), fields[2].data() + fields[2].size(), entry_uid);
    if (ec != std::errc{} || ptr != fields[2].data() + fields[2].size() || entry_uid != uid) {
      continue;
    }
    return fields[5].empty() ? std::string("/") : std::string(fields[5]);
  }
  return "/";
}

}  // namespace litebox::linux_host
