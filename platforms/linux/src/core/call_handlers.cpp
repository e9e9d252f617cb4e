// The descriptor system calls as the core serves them. Objects the core creates (files, pipes, eventfds, ...)
// are installed into the guest with SECCOMP_IOCTL_NOTIF_ADDFD at the number its table chose; calls whose
// effect only the kernel can apply to the guest's own table (close, F_SETFD, execve, clone, unshare) are
// mirrored in the table and then run natively. Every failure is an errno for the guest.
#include <fcntl.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

#include <spdlog/spdlog.h>

#include "core_state.hpp"
#include "litebox/linux/core/core_filter.hpp"
#include "litebox/linux/core/guest_credentials.hpp"
#include "litebox/linux/core/guest_memory.hpp"
#include "litebox/linux/core/guest_table.hpp"
#include "path_open.hpp"

namespace litebox::linux_host::core::detail {
namespace {

using fdcore::DescriptorKind;

int arg_int(const Notification& n, int i) { return static_cast<int>(static_cast<std::int32_t>(n.args[i])); }
std::uint32_t arg_u32(const Notification& n, int i) { return static_cast<std::uint32_t>(n.args[i]); }

Reply from_result(const fdcore::Result<int>& r) {
  return r ? Reply::ok(r.value()) : Reply::fail(static_cast<int>(r.error()));
}

// The guest's descriptor `fd` as the table has it, adopting it first when only the kernel knows it.
fdcore::Result<Ref> lookup(Call& call, TaskFiles& tf, pid_t tgid, int fd) {
  if (fd < 0) return fdcore::Errno::badf;
  if (!reconcile_number(call, tf, tgid, fd)) return fdcore::Errno::badf;
  return tf.files.get(static_cast<std::uint32_t>(fd));
}

// The lowest number at or above `from` free in both the table and the guest's kernel table (descriptors the
// guest got without the core are adopted on the way; a number another thread is still closing is skipped, as
// the kernel would skip it), or -1 when none is below the guest's RLIMIT_NOFILE.
int free_number(Call& call, TaskFiles& tf, pid_t tgid, std::uint32_t from) {
  (void)tf.files.set_nofile(std::min<std::uint64_t>(guest_nofile(call.n.pid), tf.files.files()->nr_open()));
  for (int tries = 0; tries < 4096; ++tries) {
    const int target = tf.files.lowest_free(from);
    if (target < 0) return -1;
    if (tf.still_closing(tgid, target)) {
      from = static_cast<std::uint32_t>(target) + 1;
      continue;
    }
    if (!reconcile_number(call, tf, tgid, target)) return target;
  }
  return -1;
}

// The container's descriptor budget: open file descriptions its processes hold together.
bool over_budget(const Container& c, std::size_t adding) {
  if (c.policy.descriptor_budget == 0 || c.store->size() + adding <= c.policy.descriptor_budget) return false;
  spdlog::warn("core {}: the container is at its descriptor budget ({}): EMFILE", c.id, c.policy.descriptor_budget);
  return true;
}

// A new object the core made (our `raw`, close-on-exec), installed at the lowest free number.
Reply install_new(Call& call, TaskFiles& tf, pid_t tgid, int raw, DescriptorKind kind, bool cloexec) {
  if (raw < 0) return Reply::fail(errno);
  if (over_budget(call.container, 1)) {
    ::close(raw);
    return Reply::fail(EMFILE);
  }
  Ref ref = adopt_raw(call.container, raw, kind);
  if (!ref) return Reply::fail(ENOMEM);
  return install_lowest(call, tf, tgid, std::move(ref), cloexec, true);
}

Reply serve_open(Call& call, TaskFiles& tf, pid_t tgid, int dirfd, std::uint64_t path_addr, std::uint64_t flags,
                 std::uint64_t mode, std::uint64_t resolve, bool strict = false) {
  const Notification& n = call.n;
  OpenRequest request;
  request.strict = strict;
  request.tid = n.pid;
  if (int r = read_guest_string(n.pid, path_addr, PATH_MAX, request.path); r < 0) return Reply::fail(-r);
  if (request.path.empty()) return Reply::fail(ENOENT);
  if (notification_valid(call.listener, n.id) != 0) return Reply::fail(EINTR);
  auto creds = read_guest_credentials(n.pid);
  if (!creds) return Reply::fail(ESRCH);
  Ref dir;
  if (request.path[0] != '/' && dirfd != AT_FDCWD) {
    auto got = lookup(call, tf, tgid, dirfd);
    if (!got) return Reply::fail(EBADF);
    dir = std::move(got).value();
    request.dir_raw = dir->raw();
  }
  request.creds = &creds.value();
  request.flags = flags;
  request.mode = mode;
  request.resolve = resolve;
  request.files = &tf.files;
  if ((flags & O_PATH) != 0) {
    // SECCOMP_IOCTL_NOTIF_ADDFD cannot install an O_PATH descriptor (the kernel's fget refuses them): the
    // kernel opens it, confined to the container's root as every open of the guest is, and the core adopts
    // the number before it gives out any other. Another process's magic links stay refused.
    if (names_foreign_magic_link(request.path, creds.value())) return Reply::fail(ELOOP);
    return Reply::run_natively();
  }
  const int root = open_guest_root(n.pid);
  if (root < 0) return Reply::fail(-root);
  request.root_raw = root;
  // The open itself may block (a FIFO, a device): a pool worker does those, without the container's lock.
  if (!call.may_block && open_might_block(request)) {
    ::close(root);
    return Reply::to_pool();
  }
  call.container.mu.unlock();
  const int raw = open_for_guest(request);
  ::close(root);
  call.container.mu.lock();
  if (raw < 0) return Reply::fail(-raw);
  spdlog::debug("core {}: pid {} open {:?} flags {:#o}", call.container.id, n.pid, request.path, flags);
  return install_new(call, tf, tgid, raw, DescriptorKind::raw, (flags & O_CLOEXEC) != 0);
}

Reply serve_openat2(Call& call, TaskFiles& tf, pid_t tgid) {
  const Notification& n = call.n;
  const std::uint64_t size = n.args[3];
  if (size < sizeof(std::uint64_t) * 3) return Reply::fail(EINVAL);
  if (size > 4096) return Reply::fail(E2BIG);
  open_how how{};
  if (int r = read_guest(n.pid, n.args[2], &how, sizeof how); r < 0) return Reply::fail(-r);
  if (size > sizeof how) {
    // Bytes past the struct this kernel knows must be zero (copy_struct_from_user's rule).
    std::string extra(size - sizeof how, '\0');
    if (int r = read_guest(n.pid, n.args[2] + sizeof how, extra.data(), extra.size()); r < 0) return Reply::fail(-r);
    if (extra.find_first_not_of('\0') != std::string::npos) return Reply::fail(E2BIG);
  }
  if ((how.flags & ~static_cast<std::uint64_t>(0xffffffffu)) != 0) return Reply::fail(EINVAL);
  return serve_open(call, tf, tgid, arg_int(n, 0), n.args[1], how.flags, how.mode, how.resolve, true);
}

Reply serve_close(Call& call, TaskFiles& tf, pid_t tgid, int fd) {
  if (!reconcile_number(call, tf, tgid, fd)) return Reply::fail(EBADF);
  auto closed = tf.files.get(static_cast<std::uint32_t>(fd));
  tf.start_closing(fd, call.n.pid, closed ? closed.value()->raw() : -1);
  (void)tf.files.close(static_cast<std::uint32_t>(fd));
  return Reply::run_natively();  // only the kernel can take a number out of the guest's table
}

Reply serve_close_range(Call& call, TaskFiles& tf, pid_t tgid) {
  const std::uint32_t first = arg_u32(call.n, 0);
  const std::uint32_t last = arg_u32(call.n, 1);
  const std::uint32_t flags = arg_u32(call.n, 2);
  if ((flags & ~(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC)) != 0 || first > last) return Reply::fail(EINVAL);
  // Everything the kernel has in the range must be known before it goes.
  for (int fd : guest_fd_numbers(tgid)) {
    if (static_cast<std::uint32_t>(fd) >= first && static_cast<std::uint32_t>(fd) <= last) {
      (void)reconcile_number(call, tf, tgid, fd);
    }
  }
  std::vector<std::pair<int, Ref>> closing;  // held until recorded: what each number referred to
  if ((flags & CLOSE_RANGE_CLOEXEC) == 0) {
    for (const auto& d : tf.files.list()) {
      if (d.fd < first || d.fd > last) continue;
      if (auto ref = tf.files.get(d.fd)) closing.emplace_back(static_cast<int>(d.fd), std::move(ref).value());
    }
  }
  auto r = tf.files.close_range(first, last, flags);
  if (!r) return from_result(r);
  for (const auto& [fd, ref] : closing) tf.start_closing(fd, call.n.pid, ref->raw());
  return Reply::run_natively();
}

Reply serve_dup(Call& call, TaskFiles& tf, pid_t tgid, int oldfd) {
  auto ref = lookup(call, tf, tgid, oldfd);
  if (!ref) return Reply::fail(EBADF);
  return install_lowest(call, tf, tgid, std::move(ref).value(), false, true);
}

// dup2/dup3: the number is the guest's choice, and the kernel replaces what is there (as dup2 does).
Reply serve_dup_to(Call& call, TaskFiles& tf, pid_t tgid, int oldfd, int newfd, bool cloexec) {
  auto ref = lookup(call, tf, tgid, oldfd);
  if (!ref) return Reply::fail(EBADF);
  if (newfd < 0) return Reply::fail(EBADF);
  (void)reconcile_number(call, tf, tgid, newfd);
  const std::uint64_t nofile = guest_nofile(call.n.pid);
  if (static_cast<std::uint64_t>(newfd) >= nofile) return Reply::fail(EBADF);
  const int got = add_descriptor(call.listener, call.n.id, ref.value()->raw(), newfd, cloexec, true);
  if (got < 0) return Reply::fail(-got);
  tf.closing.erase(newfd);
  (void)tf.files.files()->install_at(static_cast<std::uint32_t>(newfd), std::move(ref).value(), cloexec);
  return Reply::already_sent(got);
}

Reply serve_fcntl(Call& call, TaskFiles& tf, pid_t tgid) {
  const Notification& n = call.n;
  const int fd = arg_int(n, 0);
  const std::uint32_t cmd = arg_u32(n, 1);
  auto ref = lookup(call, tf, tgid, fd);
  if (!ref) return Reply::fail(EBADF);
  switch (cmd) {
    case F_GETFD:
      return from_result(tf.files.fcntl(static_cast<std::uint32_t>(fd), cmd, 0));
    case F_SETFD:
      (void)tf.files.fcntl(static_cast<std::uint32_t>(fd), cmd, n.args[2]);
      // Only the kernel can flip the guest's flag without closing and reinstalling (which would drop the
      // process's record locks on the file).
      return Reply::run_natively();
    case F_DUPFD:
    case F_DUPFD_CLOEXEC: {
      const auto start = static_cast<std::uint32_t>(n.args[2]);
      if (start >= guest_nofile(n.pid)) return Reply::fail(EINVAL);
      const int target = free_number(call, tf, tgid, start);
      if (target < 0) return Reply::fail(EMFILE);
      const bool cloexec = cmd == F_DUPFD_CLOEXEC;
      const int got = add_descriptor(call.listener, n.id, ref.value()->raw(), target, cloexec, true);
      if (got < 0) return Reply::fail(-got);
      (void)tf.files.files()->install_at(static_cast<std::uint32_t>(got), std::move(ref).value(), cloexec);
      return Reply::already_sent(got);
    }
    default:
      return Reply::run_natively();
  }
}

Reply serve_pipe(Call& call, TaskFiles& tf, pid_t tgid, std::uint64_t address, int flags) {
  const Notification& n = call.n;
  // O_EXCL is O_NOTIFICATION_PIPE (watch_queue pipes).
  if ((flags & ~(O_CLOEXEC | O_NONBLOCK | O_DIRECT | O_EXCL)) != 0) return Reply::fail(EINVAL);
  int probe[2] = {-1, -1};
  // The array must be writable before anything is installed.
  if (int r = write_guest(n.pid, address, probe, sizeof probe); r < 0) return Reply::fail(-r);
  // Both numbers must be free before either end goes in: the guest cannot be left with half a pipe.
  const int first_free = free_number(call, tf, tgid, 0);
  if (first_free < 0 || free_number(call, tf, tgid, static_cast<std::uint32_t>(first_free) + 1) < 0) {
    return Reply::fail(EMFILE);
  }
  if (over_budget(call.container, 2)) return Reply::fail(EMFILE);
  int ends[2];
  if (::pipe2(ends, (flags & ~O_CLOEXEC) | O_CLOEXEC) != 0) return Reply::fail(errno);
  Ref read_end = adopt_raw(call.container, ends[0], DescriptorKind::raw);
  Ref write_end = adopt_raw(call.container, ends[1], DescriptorKind::raw);
  if (!read_end || !write_end) return Reply::fail(ENOMEM);
  const bool cloexec = (flags & O_CLOEXEC) != 0;
  Reply first = install_lowest(call, tf, tgid, std::move(read_end), cloexec, false);
  if (first.kind != Reply::Kind::value) return first;
  Reply second = install_lowest(call, tf, tgid, std::move(write_end), cloexec, false);
  if (second.kind != Reply::Kind::value) {
    // The guest no longer waits, or has no room: the first end is in its table already. Only the kernel
    // could take it out; it stays listed (never lost) and the guest sees the error.
    spdlog::warn("core {}: pid {} pipe: read end left at fd {} after {}", call.container.id, n.pid, first.value,
                 second.value);
    return second;
  }
  const int numbers[2] = {static_cast<int>(first.value), static_cast<int>(second.value)};
  if (int r = write_guest(n.pid, address, numbers, sizeof numbers); r < 0) return Reply::fail(-r);
  return Reply::ok(0);
}

Reply serve_socket(Call& call, TaskFiles& tf, pid_t tgid) {
  const Notification& n = call.n;
  const int domain = arg_int(n, 0);
  const int type = arg_int(n, 1);
  const int protocol = arg_int(n, 2);
  auto creds = read_guest_credentials(n.pid);
  if (!creds) return Reply::fail(ESRCH);
  // The socket belongs to the guest's network namespace: the worker enters it for the call.
  const std::string ns = "/proc/" + std::to_string(n.pid) + "/ns/net";
  const int guest_net = ::open(ns.c_str(), O_RDONLY | O_CLOEXEC);
  if (guest_net < 0) return Reply::fail(ESRCH);
  static const int our_net = ::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  int raw = -1;
  int err = 0;
  if (::setns(guest_net, CLONE_NEWNET) != 0) {
    err = errno;
  } else {
    {
      ActingAs as(creds.value());
      if (as.error() != 0) {
        err = as.error();
      } else {
        raw = ::socket(domain, (type & ~SOCK_CLOEXEC) | SOCK_CLOEXEC, protocol);
        if (raw < 0) err = errno;
      }
    }
    if (::setns(our_net, CLONE_NEWNET) != 0) spdlog::error("core: a worker could not return to the shim's network namespace");
  }
  ::close(guest_net);
  if (raw < 0) return Reply::fail(err);
  return install_new(call, tf, tgid, raw, domain == AF_UNIX ? DescriptorKind::unix_socket : DescriptorKind::raw,
                     (type & SOCK_CLOEXEC) != 0);
}

// Objects with no path and no namespace: made here with the guest's credentials, installed into the guest.
template <typename Make>
Reply serve_made(Call& call, TaskFiles& tf, pid_t tgid, DescriptorKind kind, bool cloexec, Make make) {
  auto creds = read_guest_credentials(call.n.pid);
  if (!creds) return Reply::fail(ESRCH);
  int raw = -1;
  {
    ActingAs as(creds.value());
    if (as.error() != 0) return Reply::fail(as.error());
    raw = make();
  }
  return install_new(call, tf, tgid, raw, kind, cloexec);
}

Reply serve_signalfd(Call& call, TaskFiles& tf, pid_t tgid, int flags) {
  const Notification& n = call.n;
  if ((flags & ~(SFD_CLOEXEC | SFD_NONBLOCK)) != 0) return Reply::fail(EINVAL);
  if (n.args[2] != sizeof(std::uint64_t)) return Reply::fail(EINVAL);
  std::uint64_t mask = 0;
  if (int r = read_guest(n.pid, n.args[1], &mask, sizeof mask); r < 0) return Reply::fail(-r);
  const int fd = arg_int(n, 0);
  if (fd != -1) {
    // Changes the mask of an existing signalfd: the description is shared with ours.
    auto ref = lookup(call, tf, tgid, fd);
    if (!ref) return Reply::fail(EBADF);
    if (::syscall(SYS_signalfd4, ref.value()->raw(), &mask, sizeof mask, 0) < 0) return Reply::fail(errno);
    return Reply::ok(fd);
  }
  return serve_made(call, tf, tgid, DescriptorKind::raw, (flags & SFD_CLOEXEC) != 0, [&] {
    return static_cast<int>(::syscall(SYS_signalfd4, -1, &mask, sizeof mask, (flags & ~SFD_CLOEXEC) | SFD_CLOEXEC));
  });
}

Reply serve_memfd(Call& call, TaskFiles& tf, pid_t tgid) {
  const Notification& n = call.n;
  std::string name;
  if (int r = read_guest_string(n.pid, n.args[0], 250, name); r < 0) return Reply::fail(r == -ENAMETOOLONG ? EINVAL : -r);
  const auto flags = arg_u32(n, 1);
  return serve_made(call, tf, tgid, DescriptorKind::raw, (flags & MFD_CLOEXEC) != 0, [&] {
    return static_cast<int>(::syscall(SYS_memfd_create, name.c_str(), flags | MFD_CLOEXEC));
  });
}

// Who gets a private copy of a shared table: the calling thread alone (unshare), or every thread of its
// process (execve, whose other threads the kernel is about to end).
enum class CopyFor { caller, process };

// Gives the caller (or its process) a table of its own when other tasks share `tf`, as the kernel does at
// unshare(CLONE_FILES) and execve; false when there is no memory for the copy.
bool own_table(Call& call, std::shared_ptr<TaskFiles>& tf, CopyFor scope) {
  long sharers = 0;
  for (const auto& [tid, task] : call.container.tasks) sharers += task.files == tf ? 1 : 0;
  if (sharers <= 1) return true;
  auto copy = tf->files.clone(false);
  if (!copy) return false;
  auto own = std::make_shared<TaskFiles>(std::move(copy).value());
  const pid_t tgid = call.container.tasks[call.n.pid].tgid;
  for (auto& [tid, task] : call.container.tasks) {
    if (scope == CopyFor::process ? task.tgid == tgid : tid == call.n.pid) task.files = own;
  }
  tf = own;
  return true;
}

// execve, execveat: the kernel unshares the table and closes the close-on-exec descriptors; the core does the
// same now, before the call runs. Should the execve fail, the guest still has those descriptors: the core
// adopts them again as soon as they matter (a number it is about to give out, a call naming one), as it does
// any descriptor it did not make. Holding them until then would keep pipe ends open in the shim: a reader
// waiting for EOF (subprocess's error pipe) would wait forever.
Reply serve_exec(Call& call, std::shared_ptr<TaskFiles>& tf) {
  if (!own_table(call, tf, CopyFor::process)) return Reply::fail(ENOMEM);
  tf->files.files()->close_on_exec();
  return Reply::run_natively();
}

Reply serve_unshare(Call& call, std::shared_ptr<TaskFiles>& tf, std::uint64_t flags) {
  if ((flags & CLONE_FILES) != 0 && !own_table(call, tf, CopyFor::caller)) return Reply::fail(ENOMEM);
  return Reply::run_natively();
}

}  // namespace

Reply serve_call(Call& call) {
  const Notification& n = call.n;
  const CoreSyscall* policy = core_policy_for(n.nr);
  if (policy == nullptr) return Reply::run_natively();
  std::lock_guard lock(call.container.mu);
  std::shared_ptr<TaskFiles> tf = files_for_task(call, n.pid);
  if (!tf) return Reply::fail(ESRCH);
  const pid_t tgid = call.container.tasks[n.pid].tgid;
  // This thread's earlier closes are done: it is making another call.
  for (auto i = tf->closing.begin(); i != tf->closing.end();) {
    i = i->second.tid == n.pid ? tf->closing.erase(i) : std::next(i);
  }
  if (policy->action == CoreAction::deny) {
    spdlog::warn("core {}: pid {} {}: refused ({}): {}", call.container.id, n.pid, policy->name,
                 policy->error == EPERM ? "EPERM" : "ENOSYS", policy->why);
    call.counters.denied.fetch_add(1, std::memory_order_relaxed);
    return Reply::fail(policy->error);
  }
  if (tf->setup) {
    // The runtime's own set-up code: natively, until its execve hands the process to the container's program.
    if (n.nr == SYS_execve || n.nr == SYS_execveat) tf->exec_tid = n.pid;
    return Reply::run_natively();
  }
  switch (n.nr) {
    case SYS_open:
      return serve_open(call, *tf, tgid, AT_FDCWD, n.args[0], n.args[1], n.args[2], 0);
    case SYS_creat:
      return serve_open(call, *tf, tgid, AT_FDCWD, n.args[0], O_CREAT | O_WRONLY | O_TRUNC, n.args[1], 0);
    case SYS_openat:
      return serve_open(call, *tf, tgid, arg_int(n, 0), n.args[1], n.args[2], n.args[3], 0);
    case SYS_openat2:
      return serve_openat2(call, *tf, tgid);
    case SYS_close:
      return serve_close(call, *tf, tgid, arg_int(n, 0));
    case SYS_close_range:
      return serve_close_range(call, *tf, tgid);
    case SYS_dup:
      return serve_dup(call, *tf, tgid, arg_int(n, 0));
    case SYS_dup2: {
      const int oldfd = arg_int(n, 0);
      const int newfd = arg_int(n, 1);
      if (oldfd == newfd) return lookup(call, *tf, tgid, oldfd) ? Reply::ok(newfd) : Reply::fail(EBADF);
      return serve_dup_to(call, *tf, tgid, oldfd, newfd, false);
    }
    case SYS_dup3: {
      const int flags = arg_int(n, 2);
      if ((flags & ~O_CLOEXEC) != 0 || arg_int(n, 0) == arg_int(n, 1)) return Reply::fail(EINVAL);
      return serve_dup_to(call, *tf, tgid, arg_int(n, 0), arg_int(n, 1), (flags & O_CLOEXEC) != 0);
    }
    case SYS_fcntl:
      return serve_fcntl(call, *tf, tgid);
    case SYS_ioctl: {
      // FIOCLEX / FIONCLEX (the filter stops no other request): F_SETFD by another name.
      const int fd = arg_int(n, 0);
      if (!lookup(call, *tf, tgid, fd)) return Reply::fail(EBADF);
      (void)tf->files.fcntl(static_cast<std::uint32_t>(fd), F_SETFD,
                            static_cast<std::uint32_t>(n.args[1]) == FIOCLEX ? FD_CLOEXEC : 0);
      return Reply::run_natively();
    }
    case SYS_pipe:
      return serve_pipe(call, *tf, tgid, n.args[0], 0);
    case SYS_pipe2:
      return serve_pipe(call, *tf, tgid, n.args[0], arg_int(n, 1));
    case SYS_socket:
      return serve_socket(call, *tf, tgid);
    case SYS_eventfd:
    case SYS_eventfd2: {
      const int flags = n.nr == SYS_eventfd2 ? arg_int(n, 1) : 0;
      const auto initval = arg_u32(n, 0);
      return serve_made(call, *tf, tgid, DescriptorKind::eventfd, (flags & EFD_CLOEXEC) != 0,
                        [&] { return ::eventfd(initval, flags | EFD_CLOEXEC); });
    }
    case SYS_epoll_create:
    case SYS_epoll_create1: {
      if (n.nr == SYS_epoll_create && arg_int(n, 0) <= 0) return Reply::fail(EINVAL);
      const int flags = n.nr == SYS_epoll_create1 ? arg_int(n, 0) : 0;
      if ((flags & ~EPOLL_CLOEXEC) != 0) return Reply::fail(EINVAL);
      return serve_made(call, *tf, tgid, DescriptorKind::epoll, (flags & EPOLL_CLOEXEC) != 0,
                        [] { return ::epoll_create1(EPOLL_CLOEXEC); });
    }
    case SYS_signalfd:
      return serve_signalfd(call, *tf, tgid, 0);
    case SYS_signalfd4:
      return serve_signalfd(call, *tf, tgid, arg_int(n, 3));
    case SYS_timerfd_create: {
      const int clock = arg_int(n, 0);
      const int flags = arg_int(n, 1);
      return serve_made(call, *tf, tgid, DescriptorKind::raw, (flags & TFD_CLOEXEC) != 0,
                        [&] { return ::timerfd_create(clock, flags | TFD_CLOEXEC); });
    }
    case SYS_inotify_init:
    case SYS_inotify_init1: {
      const int flags = n.nr == SYS_inotify_init1 ? arg_int(n, 0) : 0;
      return serve_made(call, *tf, tgid, DescriptorKind::raw, (flags & IN_CLOEXEC) != 0,
                        [&] { return ::inotify_init1(flags | IN_CLOEXEC); });
    }
    case SYS_memfd_create:
      return serve_memfd(call, *tf, tgid);
    case SYS_execve:
    case SYS_execveat:
      return serve_exec(call, tf);
    case SYS_clone:
    case SYS_clone3:
    case SYS_fork:
    case SYS_vfork:
      // The child's table is the kernel's copy (or the parent's own, with CLONE_FILES): the core meets the
      // child at its first call and takes its table from there (see files_for_task).
      return Reply::run_natively();
    case SYS_unshare:
      return serve_unshare(call, tf, n.args[0]);
    default:
      // socketpair, accept, accept4, pidfd_open: the kernel makes these (socketpair's peer credentials and
      // accept's blocking are the guest's own); the numbers it gives out are adopted before the core gives
      // out any number again.
      return Reply::run_natively();
  }
}

}  // namespace litebox::linux_host::core::detail
