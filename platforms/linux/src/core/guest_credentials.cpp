#include "litebox/linux/core/guest_credentials.hpp"

#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <new>
#include <string>

namespace litebox::linux_host::core {
namespace {

// ---- /proc/<tid>/status ----

template <typename T>
bool parse_number(std::string_view text, T& out, int base) noexcept {
  if (text.empty()) return false;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out, base);
  return error == std::errc{} && end == text.data() + text.size();
}

bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\r'; }

// The whitespace-separated words of a status value.
template <typename F>
bool for_each_word(std::string_view value, F&& f) {
  std::size_t at = 0;
  while (at < value.size()) {
    while (at < value.size() && is_space(value[at])) ++at;
    if (at == value.size()) break;
    std::size_t end = at;
    while (end < value.size() && !is_space(value[end])) ++end;
    if (!f(value.substr(at, end - at))) return false;
    at = end;
  }
  return true;
}

template <typename T>
bool parse_list(std::string_view value, std::vector<T>& out) {
  out.clear();
  return for_each_word(value, [&](std::string_view word) {
    T number{};
    if (!parse_number(word, number, 10)) return false;
    out.push_back(number);
    return true;
  });
}

bool parse_pid(std::string_view value, pid_t& out) {
  std::vector<pid_t> words;
  return parse_list(value, words) && words.size() == 1 && words[0] >= 0 && ((out = words[0]), true);
}

// "Uid:\treal\teffective\tsaved\tfs": the fourth is what permission checks use.
template <typename T>
bool parse_fs_id(std::string_view value, T& out) {
  std::vector<T> words;
  if (!parse_list(value, words) || words.size() != 4) return false;
  out = words[3];
  return true;
}

Error invalid(std::string_view field) {
  return Error{EINVAL, "/proc status: missing or malformed \"" + std::string(field) + "\""};
}

// ---- thread credentials, raw per-thread system calls ----

struct CapabilitySets {
  std::uint64_t effective = 0;
  std::uint64_t permitted = 0;
  std::uint64_t inheritable = 0;
};

int capability_get(CapabilitySets& out) noexcept {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  std::array<__user_cap_data_struct, _LINUX_CAPABILITY_U32S_3> data{};
  if (::syscall(SYS_capget, &header, data.data()) != 0) return errno;
  out.effective = data[0].effective | (std::uint64_t{data[1].effective} << 32);
  out.permitted = data[0].permitted | (std::uint64_t{data[1].permitted} << 32);
  out.inheritable = data[0].inheritable | (std::uint64_t{data[1].inheritable} << 32);
  return 0;
}

int capability_set(const CapabilitySets& sets) noexcept {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};  // pid 0: the calling thread
  std::array<__user_cap_data_struct, _LINUX_CAPABILITY_U32S_3> data{};
  data[0].effective = static_cast<std::uint32_t>(sets.effective);
  data[1].effective = static_cast<std::uint32_t>(sets.effective >> 32);
  data[0].permitted = static_cast<std::uint32_t>(sets.permitted);
  data[1].permitted = static_cast<std::uint32_t>(sets.permitted >> 32);
  data[0].inheritable = static_cast<std::uint32_t>(sets.inheritable);
  data[1].inheritable = static_cast<std::uint32_t>(sets.inheritable >> 32);
  return ::syscall(SYS_capset, &header, data.data()) == 0 ? 0 : errno;
}

constexpr auto kUnchanged = static_cast<unsigned long>(static_cast<std::uint32_t>(-1));

// setfsuid/setfsgid return the previous value and never fail visibly: -1 (not a valid id) changes nothing and
// returns the current one, which tells whether the change took.
uid_t current_fsuid() noexcept { return static_cast<uid_t>(::syscall(SYS_setfsuid, kUnchanged)); }
gid_t current_fsgid() noexcept { return static_cast<gid_t>(::syscall(SYS_setfsgid, kUnchanged)); }

int set_fsuid(uid_t uid) noexcept {
  ::syscall(SYS_setfsuid, static_cast<unsigned long>(uid));
  return current_fsuid() == uid ? 0 : EPERM;
}

int set_fsgid(gid_t gid) noexcept {
  ::syscall(SYS_setfsgid, static_cast<unsigned long>(gid));
  return current_fsgid() == gid ? 0 : EPERM;
}

// The raw system call changes the calling thread only; glibc's setgroups() changes all of them.
int set_groups(const std::vector<gid_t>& groups) noexcept {
  return ::syscall(SYS_setgroups, groups.size(), groups.data()) == 0 ? 0 : errno;
}

enum Step : unsigned {
  kGroups = 1U << 0,
  kFsgid = 1U << 1,
  kFsuid = 1U << 2,
  kCaps = 1U << 3,
  kUmask = 1U << 4,
};

}  // namespace

Expected<GuestCredentials> parse_guest_status(std::string_view status) {
  GuestCredentials creds;
  bool have_tgid = false, have_ppid = false, have_uid = false, have_gid = false, have_caps = false;
  std::size_t at = 0;
  while (at < status.size()) {
    std::size_t end = status.find('\n', at);
    if (end == std::string_view::npos) end = status.size();
    const std::string_view line = status.substr(at, end - at);
    at = end + 1;
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view key = line.substr(0, colon);
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && is_space(value.front())) value.remove_prefix(1);
    while (!value.empty() && is_space(value.back())) value.remove_suffix(1);
    if (key == "Tgid") {
      if (!parse_pid(value, creds.tgid)) return invalid(key);
      have_tgid = true;
    } else if (key == "PPid") {
      if (!parse_pid(value, creds.ppid)) return invalid(key);
      have_ppid = true;
    } else if (key == "NSpid" || key == "NStgid") {
      std::vector<pid_t>& list = key == "NSpid" ? creds.nspids : creds.nstgids;
      if (!parse_list(value, list) || list.empty()) return invalid(key);
      for (const pid_t pid : list) {
        if (pid <= 0) return invalid(key);
      }
    } else if (key == "Uid") {
      if (!parse_fs_id(value, creds.fsuid)) return invalid(key);
      have_uid = true;
    } else if (key == "Gid") {
      if (!parse_fs_id(value, creds.fsgid)) return invalid(key);
      have_gid = true;
    } else if (key == "Groups") {
      if (!parse_list(value, creds.groups)) return invalid(key);
    } else if (key == "CapEff") {
      if (!parse_number(value, creds.effective_caps, 16)) return invalid(key);
      have_caps = true;
    } else if (key == "Umask") {
      unsigned mask = 0;
      if (!parse_number(value, mask, 8) || mask > 0777) return invalid(key);
      creds.umask = static_cast<mode_t>(mask);
    }
  }
  if (!have_tgid) return invalid("Tgid");
  if (!have_ppid) return invalid("PPid");
  if (!have_uid) return invalid("Uid");
  if (!have_gid) return invalid("Gid");
  if (!have_caps) return invalid("CapEff");
  return creds;
}

Expected<GuestCredentials> read_guest_credentials(pid_t tid) {
  const auto gone = [tid](int error) {
    if (error == ENOENT) error = ESRCH;
    return Error::from_errno("read credentials of thread " + std::to_string(tid), error);
  };
  if (tid <= 0) return gone(ESRCH);
  const std::string base = "/proc/" + std::to_string(tid);
  const int fd = ::open((base + "/status").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return gone(errno);
  std::string text;
  char buffer[8192];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      ::close(fd);
      return gone(error);  // ESRCH: the thread exited after the open
    }
    text.append(buffer, static_cast<std::size_t>(n));
    // procfs makes the whole file at the first read and hands out what fits: a read that did not fill the
    // buffer got the rest (this saves a read per stopped call).
    if (static_cast<std::size_t>(n) < sizeof buffer) break;
  }
  ::close(fd);
  if (text.empty()) return gone(ESRCH);
  auto creds = parse_guest_status(text);
  if (!creds) {
    Error error = std::move(creds).error();
    return error.context("thread " + std::to_string(tid));
  }
  struct stat theirs {};
  if (::stat((base + "/ns/user").c_str(), &theirs) != 0) return gone(errno);
  // The shim never changes its own user namespace: read once.
  static const struct stat ours = [] {
    struct stat st {};
    (void)::stat("/proc/self/ns/user", &st);
    return st;
  }();
  creds.value().own_user_namespace = theirs.st_ino != ours.st_ino || theirs.st_dev != ours.st_dev;
  return creds;
}

Status prepare_worker_thread() {
  if (::unshare(CLONE_FS) != 0) return Error::from_errno("unshare(CLONE_FS)");
  return {};
}

namespace {

// A thread's own identity, read at its first ActingAs: every ActingAs puts it back, so later ones need not
// read it again (five system calls per guest open). Forgotten when a restore step fails.
struct ThreadIdentity {
  bool known = false;
  CapabilitySets caps;
  uid_t fsuid = 0;
  gid_t fsgid = 0;
  std::vector<gid_t> groups;
  mode_t umask = 0;
  bool umask_known = false;
};
thread_local ThreadIdentity thread_identity;

int read_thread_identity(ThreadIdentity& id) noexcept {
  if (const int error = capability_get(id.caps); error != 0) return error;
  id.fsuid = current_fsuid();
  id.fsgid = current_fsgid();
  try {
    const int count = ::getgroups(0, nullptr);
    if (count < 0) return errno;
    id.groups.resize(static_cast<std::size_t>(count));
    const int got = ::getgroups(count, id.groups.data());
    if (got < 0) return errno;
    id.groups.resize(static_cast<std::size_t>(got));
  } catch (const std::bad_alloc&) {
    return ENOMEM;
  }
  id.known = true;
  return 0;
}

}  // namespace

ActingAs::ActingAs(const GuestCredentials& guest) noexcept {
  ThreadIdentity& home = thread_identity;
  if (!home.known && (error_ = read_thread_identity(home)) != 0) return;
  const CapabilitySets caps = home.caps;
  saved_effective_ = caps.effective;
  saved_permitted_ = caps.permitted;
  saved_inheritable_ = caps.inheritable;
  saved_fsuid_ = home.fsuid;
  saved_fsgid_ = home.fsgid;
  try {
    saved_groups_ = home.groups;
  } catch (const std::bad_alloc&) {
    error_ = ENOMEM;
    return;
  }

  // Groups and fsgid while our fsuid still is ours; then fsuid, which drops the file-system capabilities
  // from the effective set when it leaves 0; then the effective set the guest gets (which may raise some of
  // them again: a capable non-root guest keeps CAP_DAC_OVERRIDE); the umask last.
  CapabilitySets acting = caps;
  acting.effective = guest.own_user_namespace ? 0 : guest.effective_caps & caps.permitted;
  const auto step = [this](int error, Step done) {
    if (error != 0) {
      error_ = error;
      restore();  // the thread is never left half-switched
      return false;
    }
    applied_ |= done;
    return true;
  };
  // Steps that would change nothing are skipped: each is a system call, and a guest running as root with the
  // runtime's usual capability set differs from us only in its capabilities.
  if ((guest.groups != saved_groups_ && !step(set_groups(guest.groups), kGroups)) ||
      (guest.fsgid != saved_fsgid_ && !step(set_fsgid(guest.fsgid), kFsgid)) ||
      (guest.fsuid != saved_fsuid_ && !step(set_fsuid(guest.fsuid), kFsuid)) ||
      // A change of fsuid away from 0 dropped the file-system capabilities: the set is applied again then.
      ((acting.effective != caps.effective || (applied_ & kFsuid) != 0) && !step(capability_set(acting), kCaps))) {
    return;
  }
  const mode_t umask = guest.umask & 0777;
  if (home.umask_known && home.umask == umask) return;
  saved_umask_ = ::umask(umask);
  home.umask = saved_umask_;
  home.umask_known = true;
  applied_ |= kUmask;
}

ActingAs::~ActingAs() { restore(); }

void ActingAs::restore() noexcept {
  if (applied_ == 0) return;
  const CapabilitySets saved{saved_effective_, saved_permitted_, saved_inheritable_};
  if ((applied_ & kUmask) != 0) ::umask(saved_umask_);
  int failed = 0;
  // Our effective set first: setgroups needs CAP_SETGID, which the guest's set may lack.
  if ((applied_ & kCaps) != 0) failed |= capability_set(saved);
  if ((applied_ & kFsuid) != 0) failed |= set_fsuid(saved_fsuid_);
  if ((applied_ & kFsgid) != 0) failed |= set_fsgid(saved_fsgid_);
  if ((applied_ & kGroups) != 0) failed |= set_groups(saved_groups_);
  // fsuid back to 0 raises the permitted file-system capabilities into the effective set, which ours may not
  // have had.
  if ((applied_ & kFsuid) != 0) {
    CapabilitySets now;
    if (capability_get(now) == 0 && now.effective != saved_effective_) failed |= capability_set(saved);
  }
  if (failed != 0) thread_identity.known = false;  // read it afresh next time
  applied_ = 0;
}

}  // namespace litebox::linux_host::core
