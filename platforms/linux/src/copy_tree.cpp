#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

#include "litebox/linux/owned_fd.hpp"
#include "rootfs_util.hpp"
#include "spec_mounts.hpp"

namespace litebox::linux_host::rootfs_detail {
namespace {

Status copy_file_contents(int source_dir_fd, int destination_dir_fd, const char* name, const struct stat& status,
                          const std::string& where) {
  OwnedFd input(::openat(source_dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!input.valid()) return sys_error("tmpcopyup: open " + where, errno);
  OwnedFd output(
      ::openat(destination_dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, status.st_mode & 07777));
  if (!output.valid()) return sys_error("tmpcopyup: create " + where, errno);
  char buffer[65536];
  for (;;) {
    const ssize_t got = ::read(input.get(), buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return sys_error("tmpcopyup: read " + where, errno);
    if (got == 0) return {};
    for (ssize_t done = 0; done < got;) {
      const ssize_t put = ::write(output.get(), buffer + done, static_cast<std::size_t>(got - done));
      if (put < 0 && errno == EINTR) continue;
      if (put < 0) return sys_error("tmpcopyup: write " + where, errno);
      done += put;
    }
  }
}

Status copy_entry(int source_dir_fd, int destination_dir_fd, const char* name, const std::string& where) {
  struct stat status {};
  if (::fstatat(source_dir_fd, name, &status, AT_SYMLINK_NOFOLLOW) != 0) {
    return sys_error("tmpcopyup: stat " + where, errno);
  }
  const mode_t permissions = status.st_mode & 07777;
  if (S_ISDIR(status.st_mode)) {
    if (::mkdirat(destination_dir_fd, name, 0700) != 0) return sys_error("tmpcopyup: mkdir " + where, errno);
    OwnedFd from(::openat(source_dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    OwnedFd to(::openat(destination_dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!from.valid() || !to.valid()) return sys_error("tmpcopyup: open " + where, errno);
    auto copied = copy_tree(from.get(), to.get(), where);
    if (!copied) return copied;
  } else if (S_ISREG(status.st_mode)) {
    auto copied = copy_file_contents(source_dir_fd, destination_dir_fd, name, status, where);
    if (!copied) return copied;
  } else if (S_ISLNK(status.st_mode)) {
    char target[PATH_MAX];
    const ssize_t length = ::readlinkat(source_dir_fd, name, target, sizeof target - 1);
    if (length < 0) return sys_error("tmpcopyup: readlink " + where, errno);
    target[length] = '\0';
    if (::symlinkat(target, destination_dir_fd, name) != 0) return sys_error("tmpcopyup: symlink " + where, errno);
  } else if (::mknodat(destination_dir_fd, name, status.st_mode, status.st_rdev) != 0) {
    return sys_error("tmpcopyup: mknod " + where, errno);
  }
  if (::fchownat(destination_dir_fd, name, status.st_uid, status.st_gid, AT_SYMLINK_NOFOLLOW) != 0) {
    return sys_error("tmpcopyup: chown " + where, errno);
  }
  // After chown, which clears set-id bits; symlinks have no mode of their own.
  if (!S_ISLNK(status.st_mode) && ::fchmodat(destination_dir_fd, name, permissions, 0) != 0) {
    return sys_error("tmpcopyup: chmod " + where, errno);
  }
  const struct timespec times[2] = {status.st_atim, status.st_mtim};
  if (::utimensat(destination_dir_fd, name, times, AT_SYMLINK_NOFOLLOW) != 0) {
    return sys_error("tmpcopyup: set times of " + where, errno);
  }
  return {};
}

}  // namespace

Status copy_tree(int source_dir_fd, int destination_dir_fd, const std::string& where) {
  const int listing_fd = ::openat(source_dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (listing_fd < 0) return sys_error("tmpcopyup: open " + where, errno);
  DIR* listing = ::fdopendir(listing_fd);
  if (listing == nullptr) {
    const int code = errno;
    ::close(listing_fd);
    return sys_error("tmpcopyup: list " + where, code);
  }
  Status result;
  for (;;) {
    errno = 0;
    const dirent* entry = ::readdir(listing);
    if (entry == nullptr) {
      if (errno != 0) result = sys_error("tmpcopyup: list " + where, errno);
      break;
    }
    const std::string_view name(entry->d_name);
    if (name == "." || name == "..") continue;
    result = copy_entry(source_dir_fd, destination_dir_fd, entry->d_name, where + "/" + entry->d_name);
    if (!result) break;
  }
  ::closedir(listing);
  return result;
}

}  // namespace litebox::linux_host::rootfs_detail
