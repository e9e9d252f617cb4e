// Path opens for guests: see path_open.hpp.
#include "path_open.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <optional>
#include <sched.h>
#include <string_view>

namespace litebox::linux_host::core::detail {
namespace {

// The shim's /proc and root, opened before any chroot (a chrooted worker's "/proc" is the guest's).
int proc_dir() noexcept {
  static const int fd = ::open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
  return fd;
}
int our_root() noexcept {
  static const int fd = ::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  return fd;
}

bool parse_number(std::string_view text, int& out) noexcept {
  if (text.empty() || text.size() > 10) return false;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && p == text.data() + text.size() && out >= 0;
}

// Drops "." components and repeated slashes (not "..": a symlink may stand before it).
std::string tidy(std::string_view path) {
  std::string out;
  std::size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    std::size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view part = path.substr(i, j - i);
    if (!part.empty() && part != ".") {
      out += '/';
      out += part;
    }
    i = j;
  }
  return out.empty() ? "/" : out;
}

long openat2_call(int dir, const std::string& path, const open_how& how) noexcept {
  return ::syscall(SYS_openat2, dir, path.c_str(), &how, sizeof how);
}

// chroot of this worker thread (its own fs_struct) for the duration of a relative lookup.
class WorkerRoot {
 public:
  explicit WorkerRoot(int root) noexcept {
    if (::fchdir(root) != 0 || ::chroot(".") != 0) {
      error_ = errno;
      (void)::fchdir(our_root());
    }
  }
  ~WorkerRoot() {
    if (::fchdir(our_root()) == 0) (void)::chroot(".");
  }
  WorkerRoot(const WorkerRoot&) = delete;
  WorkerRoot& operator=(const WorkerRoot&) = delete;
  int error() const noexcept { return error_; }

 private:
  int error_ = 0;
};

int open_proc_entry(pid_t pid, const char* entry, int flags) noexcept {
  const std::string name = std::to_string(pid) + "/" + entry;
  return ::openat(proc_dir(), name.c_str(), flags);
}

// The open with `flags` (the guest's, or the probe's O_PATH), as the guest or with the shim's credentials.
int open_as(const OpenRequest& r, std::uint64_t open_flags, bool as_guest) noexcept;

}  // namespace

int own_descriptor_alias(const std::string& raw_path, pid_t guest_pid, pid_t guest_tid,
                         bool* thread_table) noexcept {
  if (thread_table != nullptr) *thread_table = false;
  const std::string path = tidy(raw_path);
  int n = -1;
  if (path == "/dev/stdin") return 0;
  if (path == "/dev/stdout") return 1;
  if (path == "/dev/stderr") return 2;
  const std::string pid_prefix = "/proc/" + std::to_string(guest_pid) + "/fd/";
  const std::string task_prefix =
      "/proc/" + std::to_string(guest_pid) + "/task/" + std::to_string(guest_tid) + "/fd/";
  struct Prefix {
    std::string_view text;
    bool thread;
  };
  for (const Prefix& prefix : {Prefix{"/dev/fd/", false}, Prefix{"/proc/self/fd/", false},
                               Prefix{"/proc/thread-self/fd/", true}, Prefix{pid_prefix, false},
                               Prefix{task_prefix, true}}) {
    if (path.starts_with(prefix.text)) {
      if (thread_table != nullptr) *thread_table = prefix.thread;
      return parse_number(std::string_view(path).substr(prefix.text.size()), n) ? n : -1;
    }
  }
  return -1;
}

bool magic_links_allowed(std::uint64_t resolve) noexcept {
  return (resolve & (RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS)) == 0;
}

int prepare_path_worker() noexcept { return proc_dir() >= 0 && our_root() >= 0 ? 0 : -EMFILE; }

bool names_foreign_magic_link(const std::string& raw_path, const GuestCredentials& creds) noexcept {
  const pid_t own = creds.nstgids.empty() ? creds.tgid : creds.nstgids.back();
  const std::string path = tidy(raw_path);
  if (!path.starts_with("/proc/")) return false;
  std::string_view rest = std::string_view(path).substr(6);
  const std::size_t slash = rest.find('/');
  int pid = 0;
  if (slash == std::string_view::npos || !parse_number(rest.substr(0, slash), pid) || pid == own) return false;
  rest = rest.substr(slash + 1);
  if (rest.starts_with("task/")) {
    rest = rest.substr(5);
    const std::size_t next = rest.find('/');
    if (next == std::string_view::npos) return false;
    rest = rest.substr(next + 1);
  }
  return rest.starts_with("fd/") || rest == "cwd" || rest == "root" || rest == "exe" || rest.starts_with("cwd/") ||
         rest.starts_with("root/");
}

// Character devices whose open returns at once: the memory devices (/dev/null, zero, full, random, urandom),
// the tty and console devices and pseudo-terminal slaves. Others (serial lines waiting for a carrier, ...)
// may block.
namespace {
bool never_blocks_on_open(dev_t device) noexcept {
  const unsigned int m = major(device);
  return m == 1 || m == 5 || (m >= 136 && m <= 143);
}

// File systems whose opens wait for another party: a FUSE server (which may itself be a guest waiting for
// this very thread), or a network server. Their files are opened on the pool.
bool opens_wait_for_a_server(int fd) noexcept {
  struct statfs fs{};
  if (::fstatfs(fd, &fs) != 0) return true;
  switch (static_cast<unsigned long>(fs.f_type)) {
    case 0x65735546UL:  // FUSE (and virtiofs)
    case 0x6969UL:      // NFS
    case 0xff534d42UL:  // CIFS
    case 0xfe534d42UL:  // SMB2
    case 0x00c36400UL:  // Ceph
    case 0x01021997UL:  // 9p
      return true;
    default:
      return false;
  }
}
}  // namespace

bool open_might_block(const OpenRequest& r) noexcept {
  if (r.alias.valid()) return true;  // a pipe or a tty, most likely
  // Resolved as the guest, as the real open will be (one switch of credentials for both, kept for the next
  // call): a path the guest cannot resolve fails the real open the same way at once.
  const int fd = open_as(r, O_PATH | (r.flags & (O_NOFOLLOW | O_DIRECTORY)), /*as_guest=*/true);
  if (fd == -ENOENT || fd == -EACCES || fd == -ENOTDIR || fd == -ELOOP) return false;
  if (fd < 0) return true;          // unsure: the pool's worker may block, a listener's thread must not
  struct stat st{};
  const bool plain = ::fstat(fd, &st) == 0 &&
                     (((S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) && !opens_wait_for_a_server(fd)) ||
                      (S_ISCHR(st.st_mode) && never_blocks_on_open(st.st_rdev)));
  ::close(fd);
  return !plain;
}

int open_for_guest(const OpenRequest& r) noexcept { return open_as(r, r.flags, /*as_guest=*/true); }

namespace {
// Runs `open` (a descriptor, or -1 with errno) with the guest's credentials when `as_guest`, else with the
// shim's: our descriptor, or -errno. The thread keeps the guest's credentials afterwards (act_as): the next
// call most likely comes from the same guest.
template <typename Open>
int open_acting_as(const GuestCredentials& creds, bool as_guest, Open&& open) noexcept {
  if (const int error = as_guest ? act_as(creds) : act_as_self(); error != 0) return -error;
  const long fd = open();
  return fd < 0 ? -errno : static_cast<int>(fd);
}
}  // namespace

namespace {
// procfs resolves "self", "thread-self" and its two top-level links to them ("net" -> self/net, "mounts" ->
// self/mounts) for the opener, which is the shim and has no pid in the guest's procfs (ENOENT). `rest` is a
// path below a procfs root; the result names the caller instead, or is empty when there is nothing to
// rewrite. A last component opened with O_NOFOLLOW stays the link it is.
std::string caller_procfs_path(std::string_view rest, pid_t pid, pid_t tid, bool nofollow) {
  const std::string_view first = rest.substr(0, rest.find('/'));
  const std::string_view tail = rest.substr(first.size());  // "" or "/..."
  if (tail.empty() && nofollow) return {};
  if (first == "self") return std::to_string(pid) + std::string(tail);
  if (first == "thread-self") return std::to_string(pid) + "/task/" + std::to_string(tid) + std::string(tail);
  if (first == "net" || first == "mounts") return std::to_string(pid) + "/" + std::string(rest);
  return {};
}

bool is_procfs_root(int dir) noexcept {
  struct statfs fs {};
  struct stat st {};
  constexpr long kProcSuperMagic = 0x9fa0;  // PROC_SUPER_MAGIC
  constexpr ino_t kProcRootIno = 1;         // PROC_ROOT_INO
  return ::fstatfs(dir, &fs) == 0 && fs.f_type == kProcSuperMagic && ::fstat(dir, &st) == 0 &&
         st.st_ino == kProcRootIno;
}

// /proc/sys answers from the opener's namespaces (net.*, kernel.shm*, msg*, sem, hostname, ...): for an open
// there the worker enters the caller's network, IPC and UTS namespaces (each a per-thread setns), and returns
// to the shim's own after it.
class InCallerNamespaces {
 public:
  explicit InCallerNamespaces(pid_t tid) noexcept {
    (void)act_as_self();  // setns needs CAP_SYS_ADMIN
    const std::string base = std::to_string(tid) + "/ns/";
    for (Kind& kind : kinds_) {
      const int theirs = ::openat(proc_dir(), (base + kind.name).c_str(), O_RDONLY | O_CLOEXEC);
      if (theirs < 0) {
        error_ = errno == ENOENT ? ESRCH : errno;
        return;
      }
      const int entered = ::setns(theirs, kind.flag);
      const int setns_errno = errno;
      ::close(theirs);
      if (entered != 0) {
        error_ = setns_errno;
        return;
      }
      kind.entered = true;
    }
  }
  ~InCallerNamespaces() {
    (void)act_as_self();
    for (const Kind& kind : kinds_) {
      if (kind.entered && ::setns(ours(kind), kind.flag) != 0) {
        ::_exit(121);  // a worker in a guest's namespaces must never serve another call
      }
    }
  }
  InCallerNamespaces(const InCallerNamespaces&) = delete;
  InCallerNamespaces& operator=(const InCallerNamespaces&) = delete;
  int error() const noexcept { return error_; }

 private:
  struct Kind {
    const char* name;
    int flag;
    bool entered = false;
  };
  static int ours(const Kind& kind) noexcept {
    static const int net = ::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    static const int ipc = ::open("/proc/self/ns/ipc", O_RDONLY | O_CLOEXEC);
    static const int uts = ::open("/proc/self/ns/uts", O_RDONLY | O_CLOEXEC);
    return kind.flag == CLONE_NEWNET ? net : kind.flag == CLONE_NEWIPC ? ipc : uts;
  }
  Kind kinds_[3] = {{"net", CLONE_NEWNET}, {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS}};
  int error_ = 0;
};

bool names_proc_sys(std::string_view path) noexcept {
  return path == "/proc/sys" || path.starts_with("/proc/sys/");
}

int open_as(const OpenRequest& r, std::uint64_t open_flags, bool as_guest) noexcept {
  const GuestCredentials& creds = r.creds;
  const pid_t guest_pid = creds.nstgids.empty() ? creds.tgid : creds.nstgids.back();
  const pid_t guest_tid = creds.nspids.empty() ? r.tid : creds.nspids.back();
  // Ours are always close-on-exec and never become the shim's controlling terminal. O_PATH takes only
  // O_DIRECTORY and O_NOFOLLOW (open and openat drop the rest; openat2 refuses them).
  constexpr int kPathFlags = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
  int own_flags = static_cast<int>(open_flags) | O_CLOEXEC;
  if ((own_flags & O_PATH) == 0) {
    own_flags |= O_NOCTTY;
  } else if (!r.strict) {
    own_flags &= kPathFlags;
  }

  // The caller's own descriptors: reopened from ours, as the kernel reopens /proc/self/fd/N.
  std::string path = r.path;
  const bool absolute = !path.empty() && path[0] == '/';
  const bool nofollow = (open_flags & O_NOFOLLOW) != 0 || (r.resolve & RESOLVE_NO_SYMLINKS) != 0;
  bool sysctl = absolute && names_proc_sys(path);
  if (!absolute && r.dir.valid()) {
    // The same names relative to the procfs root (`cd /proc; cat net/dev`): checked only for those names.
    std::string caller = caller_procfs_path(path, guest_pid, guest_tid, nofollow);
    if (!caller.empty() && is_procfs_root(r.dir.get())) path = std::move(caller);
    if ((path == "sys" || path.starts_with("sys/")) && is_procfs_root(r.dir.get())) sysctl = true;
  }
  std::optional<InCallerNamespaces> in_namespaces;
  if (sysctl) {
    in_namespaces.emplace(r.tid);
    if (in_namespaces->error() != 0) return -in_namespaces->error();
  }
  // The caller's own magic links are still magic links: a caller that refuses them gets ELOOP.
  const bool no_magic = (r.resolve & (RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS)) != 0;
  if (absolute) {
    if (r.alias.valid()) {
      if (no_magic) return -ELOOP;
      const std::string self = "self/fd/" + std::to_string(r.alias.get());
      return open_acting_as(creds, as_guest,
                            [&] { return ::openat(proc_dir(), self.c_str(), own_flags & ~O_CREAT, 0); });
    }
    // /proc/self, /proc/thread-self, /proc/net and /proc/mounts name the caller in the guest's procfs; its
    // own exe, cwd and root links are its own to open.
    if (path.starts_with("/proc/")) {
      std::string caller = caller_procfs_path(std::string_view(path).substr(6), guest_pid, guest_tid, nofollow);
      if (!caller.empty()) path = "/proc/" + caller;
    }
    const std::string own = "/proc/" + std::to_string(guest_pid) + "/";
    for (const char* link : {"exe", "cwd", "root"}) {
      if (tidy(path) == own + link) {
        if (no_magic) return -ELOOP;
        return open_acting_as(creds, as_guest, [&] { return open_proc_entry(r.tid, link, own_flags & ~O_CREAT); });
      }
    }
  }

  if (!r.root.valid()) return -EBADF;
  const int root = r.root.get();
  open_how how{};
  // open and openat ignore flag bits they do not know; openat2 refuses them.
  constexpr unsigned kKnownFlags = O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND | O_NONBLOCK |
                                   O_DSYNC | O_ASYNC | O_DIRECT | O_LARGEFILE | O_DIRECTORY | O_NOFOLLOW |
                                   O_NOATIME | O_CLOEXEC | O_SYNC | O_PATH | O_TMPFILE;
  const unsigned flags = r.strict ? static_cast<unsigned>(own_flags) : static_cast<unsigned>(own_flags) & kKnownFlags;
  how.flags = flags;
  // open and openat ignore the mode without O_CREAT or O_TMPFILE (which includes O_DIRECTORY's bit); openat2
  // refuses it, and gets it as given.
  const bool creates = (open_flags & O_CREAT) != 0 || (open_flags & O_TMPFILE) == O_TMPFILE;
  how.mode = creates || r.strict ? r.mode : 0;
  how.resolve = r.resolve | RESOLVE_NO_MAGICLINKS;
  int result = 0;
  if (absolute && (r.resolve & (RESOLVE_BENEATH | RESOLVE_IN_ROOT)) == 0) {
    how.resolve |= RESOLVE_IN_ROOT;
    result = open_acting_as(creds, as_guest, [&] { return openat2_call(root, path, how); });
  } else {
    if (!r.dir.valid()) return -EBADF;
    // chroot needs CAP_SYS_CHROOT, in and out: our own credentials around the guest's open.
    (void)act_as_self();
    WorkerRoot in_root(root);
    result = in_root.error() != 0
                 ? -in_root.error()
                 : open_acting_as(creds, as_guest, [&] { return openat2_call(r.dir.get(), path, how); });
    (void)act_as_self();
  }
  return result;
}
}  // namespace

}  // namespace litebox::linux_host::core::detail
