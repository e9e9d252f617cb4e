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
  bool operator==(const CapabilitySets&) const = default;
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

namespace {

Error thread_gone(pid_t tid, int error) {
  if (error == ENOENT) error = ESRCH;
  return Error::from_errno("read credentials of thread " + std::to_string(tid), error);
}

// "user:[4026531837]": the user namespace a task is in (readlink is cheaper than stat on nsfs).
std::string user_namespace_link(int dir, const char* path) {
  char link[64];
  const ssize_t n = ::readlinkat(dir, path, link, sizeof link);
  return n > 0 ? std::string(link, static_cast<std::size_t>(n)) : std::string();
}

}  // namespace

Expected<GuestCredentials> read_guest_status(int status, pid_t tid) {
  if (tid <= 0 || status < 0) return thread_gone(tid, ESRCH);
  // procfs makes the whole file at each read from offset 0 and hands out what fits.
  char buffer[8192];
  ssize_t n;
  do {
    n = ::pread(status, buffer, sizeof buffer, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return thread_gone(tid, errno);  // ESRCH: the thread exited
  if (n == 0) return thread_gone(tid, ESRCH);
  auto creds = parse_guest_status(std::string_view(buffer, static_cast<std::size_t>(n)));
  if (!creds) {
    Error error = std::move(creds).error();
    return error.context("thread " + std::to_string(tid));
  }
  return creds;
}

int in_own_user_namespace(int task_dir) noexcept {
  try {
    const std::string theirs = user_namespace_link(task_dir, "ns/user");
    if (theirs.empty()) return errno == ENOENT ? -ESRCH : -errno;
    // The shim never changes its own user namespace: read once.
    static const std::string ours = user_namespace_link(AT_FDCWD, "/proc/self/ns/user");
    return theirs != ours ? 1 : 0;
  } catch (...) {
    return -ENOMEM;
  }
}

Expected<GuestCredentials> read_guest_credentials(int task_dir, int status, pid_t tid) {
  auto creds = read_guest_status(status, tid);
  if (!creds) return creds;
  const int own = in_own_user_namespace(task_dir);
  if (own < 0) return thread_gone(tid, -own);
  creds.value().own_user_namespace = own == 1;
  return creds;
}

Expected<GuestCredentials> read_guest_credentials(pid_t tid) {
  if (tid <= 0) return thread_gone(tid, ESRCH);
  const std::string path = "/proc/" + std::to_string(tid);
  const int dir = ::open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return thread_gone(tid, errno);
  const int status = ::openat(dir, "status", O_RDONLY | O_CLOEXEC);
  if (status < 0) {
    const int error = errno;
    ::close(dir);
    return thread_gone(tid, error);
  }
  auto creds = read_guest_credentials(dir, status, tid);
  ::close(status);
  ::close(dir);
  return creds;
}

Status prepare_worker_thread() {
  if (::unshare(CLONE_FS) != 0) return Error::from_errno("unshare(CLONE_FS)");
  return {};
}

namespace {

// What a thread's file-system permission checks use, as far as the core switches it.
struct Identity {
  std::vector<gid_t> groups;
  gid_t fsgid = 0;
  uid_t fsuid = 0;
  CapabilitySets caps;
  mode_t umask = 022;
  bool operator==(const Identity&) const = default;
};

// A thread's own identity (read once, at its first switch) and the one in effect now. A serving thread stays
// as its last guest between calls (act_as): consecutive calls mostly come from one guest, and every step of a
// switch is a system call.
struct ThreadIdentity {
  bool known = false;
  Identity home;
  Identity current;
};
thread_local ThreadIdentity thread_identity;

int read_thread_identity(ThreadIdentity& id) noexcept {
  Identity& home = id.home;
  if (const int error = capability_get(home.caps); error != 0) return error;
  home.fsuid = current_fsuid();
  home.fsgid = current_fsgid();
  try {
    const int count = ::getgroups(0, nullptr);
    if (count < 0) return errno;
    home.groups.resize(static_cast<std::size_t>(count));
    const int got = ::getgroups(count, home.groups.data());
    if (got < 0) return errno;
    home.groups.resize(static_cast<std::size_t>(got));
    home.umask = ::umask(022);
    ::umask(home.umask);
    id.current = home;
  } catch (const std::bad_alloc&) {
    return ENOMEM;
  }
  id.known = true;
  return 0;
}

// Makes `target` the calling thread's identity, changing only what differs from the one in effect. Groups and
// fsgid need CAP_SETGID and fsuid CAP_SETUID, which a guest's set may lack: our own set goes back first when
// they change. A change of fsuid away from 0 drops the file-system capabilities from the effective set (and
// back to 0 raises them): the target's set is applied after it. The umask last. 0, or the errno of the step
// that failed (the thread is then put back to its own identity as far as it can be).
int switch_identity(ThreadIdentity& id, const Identity& target) noexcept {
  Identity& now = id.current;
  if (now == target) return 0;
  const auto steps = [&]() noexcept -> int {
    try {
      const bool ids = now.groups != target.groups || now.fsgid != target.fsgid || now.fsuid != target.fsuid;
      if (ids && now.caps != id.home.caps) {
        if (const int error = capability_set(id.home.caps); error != 0) return error;
        now.caps = id.home.caps;
      }
      if (now.groups != target.groups) {
        if (const int error = set_groups(target.groups); error != 0) return error;
        now.groups = target.groups;
      }
      if (now.fsgid != target.fsgid) {
        if (const int error = set_fsgid(target.fsgid); error != 0) return error;
        now.fsgid = target.fsgid;
      }
      bool caps_changed_by_kernel = false;
      if (now.fsuid != target.fsuid) {
        if (const int error = set_fsuid(target.fsuid); error != 0) return error;
        now.fsuid = target.fsuid;
        caps_changed_by_kernel = true;
      }
      if (caps_changed_by_kernel || now.caps != target.caps) {
        if (const int error = capability_set(target.caps); error != 0) return error;
        now.caps = target.caps;
      }
    } catch (const std::bad_alloc&) {
      return ENOMEM;
    }
    if (now.umask != target.umask) {
      ::umask(target.umask);
      now.umask = target.umask;
    }
    return 0;
  };
  const int error = steps();
  if (error != 0) {
    // Back to our own identity from whatever was changed (the state above says what); when that fails too, or
    // it was the way back that failed, everything is read afresh next time.
    if (&target == &id.home || switch_identity(id, id.home) != 0) id.known = false;
  }
  return error;
}

// The identity a guest's open runs with: its ids, groups and umask, and its effective capabilities within our
// permitted set (none for a guest in a user namespace of its own: its capabilities mean nothing in ours).
int guest_identity(ThreadIdentity& id, const GuestCredentials& guest, Identity& out) noexcept {
  if (!id.known) {
    if (const int error = read_thread_identity(id); error != 0) return error;
  }
  try {
    out.groups = guest.groups;
  } catch (const std::bad_alloc&) {
    return ENOMEM;
  }
  out.fsgid = guest.fsgid;
  out.fsuid = guest.fsuid;
  out.caps = id.home.caps;
  out.caps.effective = guest.own_user_namespace ? 0 : guest.effective_caps & id.home.caps.permitted;
  out.umask = guest.umask & 0777;
  return 0;
}

}  // namespace

int act_as(const GuestCredentials& guest) noexcept {
  ThreadIdentity& id = thread_identity;
  Identity target;
  if (const int error = guest_identity(id, guest, target); error != 0) return error;
  return switch_identity(id, target);
}

int act_as_self() noexcept {
  ThreadIdentity& id = thread_identity;
  if (!id.known) return 0;  // never switched
  return switch_identity(id, id.home);
}

bool acting_as_guest() noexcept {
  const ThreadIdentity& id = thread_identity;
  return id.known && !(id.current == id.home);
}

ActingAs::ActingAs(const GuestCredentials& guest) noexcept : error_(act_as(guest)) {}

ActingAs::~ActingAs() { (void)act_as_self(); }

}  // namespace litebox::linux_host::core
