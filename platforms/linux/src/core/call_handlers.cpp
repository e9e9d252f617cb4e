// The system calls the core serves. Path opens are resolved and opened in the shim, inside the caller's root
// and with its credentials; the objects the core makes (under a descriptor budget also pipes, sockets,
// eventfds, ...) are installed into the guest with SECCOMP_IOCTL_NOTIF_ADDFD at the lowest number free in the
// guest's own table, recorded in the mirror, and our copy is closed at once: the guest's table holds the only
// reference, so its close (which the kernel runs) is the last one. Every failure is an errno for the guest.
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

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

std::uint64_t clock_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<std::uint64_t>(ts.tv_nsec);
}

// Charges the time since the last mark to a phase, when profiling is on.
class PhaseTimer {
 public:
  explicit PhaseTimer(PhaseClock& clock) noexcept
      : clock_(clock), on_(clock.on.load(std::memory_order_relaxed)), last_(on_ ? clock_ns() : 0) {}
  void mark(CorePhase phase) noexcept {
    if (!on_) return;
    const std::uint64_t now = clock_ns();
    clock_.ns[static_cast<std::size_t>(phase)].fetch_add(now - last_, std::memory_order_relaxed);
    last_ = now;
  }

 private:
  PhaseClock& clock_;
  bool on_;
  std::uint64_t last_;
};

// The caller as the core sees it for one call: its kept descriptors, its process and its credentials.
struct Caller {
  GuestThread* thread = nullptr;
  GuestProcess* process = nullptr;
  GuestCredentials creds;
};

// Finds (or meets) the calling thread. An errno when it is gone.
int find_thread(Call& call, Caller& out) {
  out.thread = thread_for(call);
  return out.thread == nullptr ? ESRCH : 0;
}

// Reads the found thread's credentials and finds (or meets) its process. An errno when it is gone.
int identify_found(Call& call, Caller& out, PhaseTimer& timer) {
  auto creds = caller_credentials(call, *out.thread);
  if (!creds) return creds.error().code == ESRCH ? ESRCH : EIO;
  out.creds = std::move(creds).value();
  timer.mark(CorePhase::credentials);
  const int own = with_own_privileges_on_refusal([&] { return in_own_user_namespace(out.thread->dir.get()); });
  if (own < 0) return ESRCH;
  out.creds.own_user_namespace = own == 1;
  timer.mark(CorePhase::user_namespace);
  out.process = process_for(call, out.creds.tgid);
  return out.process == nullptr ? ESRCH : 0;
}

int identify(Call& call, Caller& out, PhaseTimer& timer) {
  if (int error = find_thread(call, out); error != 0) return error;
  return identify_found(call, out, timer);
}

// Our new object `raw` (ours until here; closed whatever happens) into the calling guest at the lowest free
// number, answering the call with it, and into the mirror.
Reply install_new(Call& call, GuestProcess& process, int raw, DescriptorKind kind, std::uint32_t open_flags,
                  bool cloexec, std::string target, PhaseTimer& timer) {
  if (raw < 0) return Reply::fail(errno);
  const int got = add_descriptor(call.listener, call.n.id, raw, -1, cloexec, /*send=*/true);
  timer.mark(CorePhase::install);
  if (got >= 0) record_install(call, process, got, raw, kind, open_flags, cloexec, std::move(target));
  ::close(raw);
  timer.mark(CorePhase::record);
  if (got < 0) return Reply::fail(-got);  // -EMFILE (its RLIMIT_NOFILE), or -ENOENT: it no longer waits
  return Reply::already_sent(got);
}

// The open itself and the install: on the listener's thread, or on the pool for an open that might block
// (then without the container's lock, which the caller holds on entry and on return).
Reply finish_open(Call& call, OpenRequest& request, PhaseTimer& timer) {
  if (call.may_block) call.container.mu.unlock();
  const int raw = open_for_guest(request);
  if (call.may_block) call.container.mu.lock();
  timer.mark(CorePhase::open);
  if (raw < 0) return Reply::fail(-raw);
  GuestProcess* process = process_for(call, request.creds.tgid);
  if (process == nullptr) {
    ::close(raw);
    return Reply::fail(ESRCH);
  }
  if (spdlog::should_log(spdlog::level::debug)) {
    spdlog::debug("core {}: pid {} open {:?} flags {:#o}", call.container.id, call.n.pid, request.path, request.flags);
  }
  return install_new(call, *process, raw, DescriptorKind::raw, static_cast<std::uint32_t>(request.flags),
                     (request.flags & O_CLOEXEC) != 0, request.path, timer);
}

// A directory of the calling task (its root or its cwd), through its kept /proc/<tid>: our O_PATH descriptor,
// or -errno (-ESRCH when it is gone).
int open_task_directory(GuestThread& thread, const char* which) {
  const int fd = with_own_privileges_on_refusal([&] {
    const int opened = ::openat(thread.dir.get(), which, O_PATH | O_DIRECTORY | O_CLOEXEC);
    return opened >= 0 ? opened : -errno;
  });
  return fd == -ENOENT ? -ESRCH : fd;
}

// `caller` has its thread found (find_thread).
Reply serve_open(Call& call, Caller& caller, int dirfd, std::uint64_t path_addr, std::uint64_t flags,
                 std::uint64_t mode, std::uint64_t resolve, PhaseTimer& timer, bool strict = false) {
  const Notification& n = call.n;
  auto request = std::make_shared<OpenRequest>();
  request->strict = strict;
  request->tid = n.pid;
  request->flags = flags;
  request->mode = mode;
  request->resolve = resolve;
  timer.mark(CorePhase::dispatch);
  if (int r = read_caller_string(*caller.thread, path_addr, PATH_MAX, request->path); r < 0) {
    return Reply::fail(-r);
  }
  if (request->path.empty()) return Reply::fail(ENOENT);
  timer.mark(CorePhase::guest_memory);
  if (int error = identify_found(call, caller, timer); error != 0) return Reply::fail(error);
  if (over_budget(call.container, 1)) return Reply::fail(EMFILE);
  request->creds = std::move(caller.creds);
  const GuestCredentials& creds = request->creds;
  if ((flags & O_PATH) != 0) {
    // SECCOMP_IOCTL_NOTIF_ADDFD cannot install an O_PATH descriptor (the kernel's fget refuses them): the
    // kernel opens it, confined to the container's root as every open of the guest is. Another process's
    // magic links stay refused.
    if (names_foreign_magic_link(request->path, creds)) return Reply::fail(ELOOP);
    return Reply::run_natively();
  }
  const pid_t guest_pid = creds.nstgids.empty() ? creds.tgid : creds.nstgids.back();
  const pid_t guest_tid = creds.nspids.empty() ? n.pid : creds.nspids.back();
  if (request->path[0] == '/') {
    bool thread_table = false;
    const int alias = own_descriptor_alias(request->path, guest_pid, guest_tid, &thread_table);
    if (alias >= 0) {
      // The caller's own descriptor: reopened from what its kernel table holds at that number now.
      if (!magic_links_allowed(resolve)) return Reply::fail(ELOOP);
      const int copy = thread_table ? take_callers_fd(*caller.thread, *caller.process, alias)
                                    : with_own_privileges_on_refusal(
                                          [&] { return take_guest_fd(caller.process->pidfd.get(), alias); });
      if (copy < 0) return Reply::fail(copy == -EBADF ? ENOENT : -copy);
      request->alias.reset(copy);
    } else if (names_foreign_magic_link(request->path, creds)) {
      return Reply::fail(ELOOP);
    }
  }
  if (request->path[0] != '/' || (resolve & (RESOLVE_BENEATH | RESOLVE_IN_ROOT)) != 0) {
    // Resolved from a directory: the dirfd's object in the caller's table now, or its cwd.
    const int base = dirfd != AT_FDCWD ? take_callers_fd(*caller.thread, *caller.process, dirfd)
                                       : open_task_directory(*caller.thread, "cwd");
    if (base < 0) return Reply::fail(-base);
    request->dir.reset(base);
  }
  const int root = open_task_directory(*caller.thread, "root");
  if (root < 0) return Reply::fail(-root);
  request->root.reset(root);
  timer.mark(CorePhase::root);
  // The open itself may block (a FIFO, a device): a pool worker does those, without the container's lock.
  if (!call.may_block) {
    const bool might_block = open_might_block(*request);
    timer.mark(CorePhase::probe);
    if (might_block) {
      call.prepared = std::move(request);
      return Reply::to_pool();
    }
  }
  return finish_open(call, *request, timer);
}

Reply serve_openat2(Call& call, PhaseTimer& timer) {
  const Notification& n = call.n;
  const std::uint64_t size = n.args[3];
  if (size < sizeof(std::uint64_t) * 3) return Reply::fail(EINVAL);
  if (size > 4096) return Reply::fail(E2BIG);
  Caller caller;
  if (int error = find_thread(call, caller); error != 0) return Reply::fail(error);
  open_how how{};
  if (int r = read_caller(*caller.thread, n.args[2], &how, sizeof how); r < 0) return Reply::fail(-r);
  if (size > sizeof how) {
    // Bytes past the struct this kernel knows must be zero (copy_struct_from_user's rule).
    std::string extra(size - sizeof how, '\0');
    if (int r = read_caller(*caller.thread, n.args[2] + sizeof how, extra.data(), extra.size()); r < 0) {
      return Reply::fail(-r);
    }
    if (extra.find_first_not_of('\0') != std::string::npos) return Reply::fail(E2BIG);
  }
  if ((how.flags & ~static_cast<std::uint64_t>(0xffffffffu)) != 0) return Reply::fail(EINVAL);
  return serve_open(call, caller, arg_int(n, 0), n.args[1], how.flags, how.mode, how.resolve, timer, true);
}

// ---- under a descriptor budget: the objects the core makes ----

Reply serve_pipe(Call& call, std::uint64_t address, int flags, PhaseTimer& timer) {
  const Notification& n = call.n;
  (void)act_as_self();  // writing the guest's memory by number needs our ptrace access
  // O_EXCL is O_NOTIFICATION_PIPE (watch_queue pipes).
  if ((flags & ~(O_CLOEXEC | O_NONBLOCK | O_DIRECT | O_EXCL)) != 0) return Reply::fail(EINVAL);
  Caller caller;
  if (int error = identify(call, caller, timer); error != 0) return Reply::fail(error);
  int probe[2] = {-1, -1};
  // The array must be writable before anything is installed (written by number: checked to be the caller's
  // still right after).
  if (int r = write_guest(n.pid, address, probe, sizeof probe); r < 0) return Reply::fail(-r);
  if (notification_valid(call.listener, n.id) != 0) return Reply::fail(EINTR);
  // Both ends must fit under the guest's limit before either goes in: the guest cannot be left with half a
  // pipe (the kernel's pipe2 reserves both numbers at once; only another thread racing for numbers could
  // still take the second from under us).
  const std::vector<int> open_numbers = guest_fd_numbers(caller.creds.tgid);
  int free_found = 0;
  int second = -1;
  for (int fd = 0; free_found < 2; ++fd) {
    if (!std::binary_search(open_numbers.begin(), open_numbers.end(), fd)) {
      ++free_found;
      second = fd;
    }
  }
  if (static_cast<std::uint64_t>(second) >= guest_nofile(n.pid)) return Reply::fail(EMFILE);
  if (over_budget(call.container, 2)) return Reply::fail(EMFILE);
  int ends[2];
  if (::pipe2(ends, (flags & ~O_CLOEXEC) | O_CLOEXEC) != 0) return Reply::fail(errno);
  const OwnedFd read_end(ends[0]);
  const OwnedFd write_end(ends[1]);
  const bool cloexec = (flags & O_CLOEXEC) != 0;
  const int first_number = add_descriptor(call.listener, n.id, read_end.get(), -1, cloexec, false);
  if (first_number < 0) return Reply::fail(-first_number);
  const int second_number = add_descriptor(call.listener, n.id, write_end.get(), -1, cloexec, false);
  timer.mark(CorePhase::install);
  record_install(call, *caller.process, first_number, read_end.get(), DescriptorKind::raw,
                 static_cast<std::uint32_t>(O_RDONLY | (flags & O_NONBLOCK)), cloexec, "pipe");
  if (second_number < 0) {
    // The guest no longer waits, or another thread took the room: the read end is in its table already and
    // only the kernel could take it out; it stays listed (never lost) and the guest sees the error.
    spdlog::warn("core {}: pid {} pipe: read end left at fd {} after {}", call.container.id, n.pid, first_number,
                 std::strerror(-second_number));
    return Reply::fail(-second_number);
  }
  record_install(call, *caller.process, second_number, write_end.get(), DescriptorKind::raw,
                 static_cast<std::uint32_t>(O_WRONLY | (flags & O_NONBLOCK)), cloexec, "pipe");
  const int numbers[2] = {first_number, second_number};
  if (int r = write_guest(n.pid, address, numbers, sizeof numbers); r < 0) return Reply::fail(-r);
  timer.mark(CorePhase::record);
  return Reply::ok(0);
}

Reply serve_socket(Call& call, PhaseTimer& timer) {
  const Notification& n = call.n;
  const int domain = arg_int(n, 0);
  const int type = arg_int(n, 1);
  const int protocol = arg_int(n, 2);
  Caller caller;
  (void)act_as_self();  // setns needs CAP_SYS_ADMIN
  if (int error = identify(call, caller, timer); error != 0) return Reply::fail(error);
  if (over_budget(call.container, 1)) return Reply::fail(EMFILE);
  // The socket belongs to the guest's network namespace: the serving thread enters it for the call.
  const OwnedFd guest_net(::openat(caller.thread->dir.get(), "ns/net", O_RDONLY | O_CLOEXEC));
  if (!guest_net.valid()) return Reply::fail(ESRCH);
  static const int our_net = ::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  int raw = -1;
  int err = 0;
  if (::setns(guest_net.get(), CLONE_NEWNET) != 0) {
    err = errno;
  } else {
    {
      ActingAs as(caller.creds);
      if (as.error() != 0) {
        err = as.error();
      } else {
        raw = ::socket(domain, (type & ~SOCK_CLOEXEC) | SOCK_CLOEXEC, protocol);
        if (raw < 0) err = errno;
      }
    }
    if (::setns(our_net, CLONE_NEWNET) != 0) spdlog::error("core: a worker could not return to the shim's network namespace");
  }
  timer.mark(CorePhase::open);
  if (raw < 0) return Reply::fail(err);
  return install_new(call, *caller.process, raw, domain == AF_UNIX ? DescriptorKind::unix_socket : DescriptorKind::raw,
                     static_cast<std::uint32_t>(O_RDWR | ((type & SOCK_NONBLOCK) != 0 ? O_NONBLOCK : 0)),
                     (type & SOCK_CLOEXEC) != 0, "socket", timer);
}

// Objects with no path and no namespace: made here with the guest's credentials, installed into the guest.
template <typename Make>
Reply serve_made(Call& call, DescriptorKind kind, std::uint32_t open_flags, bool cloexec, const char* what,
                 PhaseTimer& timer, Make make) {
  Caller caller;
  if (int error = identify(call, caller, timer); error != 0) return Reply::fail(error);
  if (over_budget(call.container, 1)) return Reply::fail(EMFILE);
  int raw = -1;
  {
    ActingAs as(caller.creds);
    if (as.error() != 0) return Reply::fail(as.error());
    raw = make();
  }
  timer.mark(CorePhase::open);
  return install_new(call, *caller.process, raw, kind, open_flags, cloexec, what, timer);
}

Reply serve_signalfd(Call& call, int flags, PhaseTimer& timer) {
  const Notification& n = call.n;
  if ((flags & ~(SFD_CLOEXEC | SFD_NONBLOCK)) != 0) return Reply::fail(EINVAL);
  if (n.args[2] != sizeof(std::uint64_t)) return Reply::fail(EINVAL);
  const int fd = arg_int(n, 0);
  // Changing the mask of an existing signalfd creates nothing: the kernel does it.
  if (fd != -1) return Reply::run_natively();
  Caller caller;
  if (int error = find_thread(call, caller); error != 0) return Reply::fail(error);
  std::uint64_t mask = 0;
  if (int r = read_caller(*caller.thread, n.args[1], &mask, sizeof mask); r < 0) return Reply::fail(-r);
  const int own_flags = (flags & ~SFD_CLOEXEC) | SFD_CLOEXEC;
  return serve_made(call, DescriptorKind::raw, static_cast<std::uint32_t>(O_RDONLY | (flags & SFD_NONBLOCK)),
                    (flags & SFD_CLOEXEC) != 0, "anon_inode:[signalfd]", timer, [&] {
                      return static_cast<int>(::syscall(SYS_signalfd4, -1, &mask, sizeof mask, own_flags));
                    });
}

Reply serve_memfd(Call& call, PhaseTimer& timer) {
  const Notification& n = call.n;
  Caller caller;
  if (int error = find_thread(call, caller); error != 0) return Reply::fail(error);
  std::string name;
  if (int r = read_caller_string(*caller.thread, n.args[0], 250, name); r < 0) {
    return Reply::fail(r == -ENAMETOOLONG ? EINVAL : -r);
  }
  const auto flags = arg_u32(n, 1);
  return serve_made(call, DescriptorKind::raw, static_cast<std::uint32_t>(O_RDWR), (flags & MFD_CLOEXEC) != 0,
                    "memfd", timer,
                    [&] { return static_cast<int>(::syscall(SYS_memfd_create, name.c_str(), flags | MFD_CLOEXEC)); });
}

}  // namespace

Reply serve_call(Call& call) {
  const Notification& n = call.n;
  PhaseTimer timer(call.clock);
  const CoreSyscall* policy = core_policy_for(n.nr);
  if (policy == nullptr) return Reply::run_natively();
  std::lock_guard lock(call.container.mu);
  if (call.prepared) {  // an open the listener's thread prepared, finished on the pool
    auto request = std::move(call.prepared);
    return finish_open(call, *request, timer);
  }
  timer.mark(CorePhase::dispatch);
  if (policy->action == CoreAction::deny) {
    spdlog::warn("core {}: pid {} {}: refused ({}): {}", call.container.id, n.pid, policy->name,
                 policy->error == EPERM ? "EPERM" : policy->error == EBUSY ? "EBUSY" : "ENOSYS", policy->why);
    call.counters.denied.fetch_add(1, std::memory_order_relaxed);
    return Reply::fail(policy->error);
  }
  const auto open = [&](int dirfd, std::uint64_t path, std::uint64_t flags, std::uint64_t mode) {
    Caller caller;
    if (int error = find_thread(call, caller); error != 0) return Reply::fail(error);
    return serve_open(call, caller, dirfd, path, flags, mode, 0, timer);
  };
  switch (n.nr) {
    case SYS_open:
      return open(AT_FDCWD, n.args[0], n.args[1], n.args[2]);
    case SYS_creat:
      return open(AT_FDCWD, n.args[0], O_CREAT | O_WRONLY | O_TRUNC, n.args[1]);
    case SYS_openat:
      return open(arg_int(n, 0), n.args[1], n.args[2], n.args[3]);
    case SYS_openat2:
      return serve_openat2(call, timer);
    case SYS_pipe:
      return serve_pipe(call, n.args[0], 0, timer);
    case SYS_pipe2:
      return serve_pipe(call, n.args[0], arg_int(n, 1), timer);
    case SYS_socket:
      return serve_socket(call, timer);
    case SYS_eventfd:
    case SYS_eventfd2: {
      const int flags = n.nr == SYS_eventfd2 ? arg_int(n, 1) : 0;
      const auto initval = arg_u32(n, 0);
      return serve_made(call, DescriptorKind::eventfd, static_cast<std::uint32_t>(O_RDWR | (flags & EFD_NONBLOCK)),
                        (flags & EFD_CLOEXEC) != 0, "anon_inode:[eventfd]", timer,
                        [&] { return ::eventfd(initval, flags | EFD_CLOEXEC); });
    }
    case SYS_epoll_create:
    case SYS_epoll_create1: {
      if (n.nr == SYS_epoll_create && arg_int(n, 0) <= 0) return Reply::fail(EINVAL);
      const int flags = n.nr == SYS_epoll_create1 ? arg_int(n, 0) : 0;
      if ((flags & ~EPOLL_CLOEXEC) != 0) return Reply::fail(EINVAL);
      return serve_made(call, DescriptorKind::epoll, static_cast<std::uint32_t>(O_RDWR), (flags & EPOLL_CLOEXEC) != 0,
                        "anon_inode:[eventpoll]", timer, [] { return ::epoll_create1(EPOLL_CLOEXEC); });
    }
    case SYS_signalfd:
      return serve_signalfd(call, 0, timer);
    case SYS_signalfd4:
      return serve_signalfd(call, arg_int(n, 3), timer);
    case SYS_timerfd_create: {
      const int clock = arg_int(n, 0);
      const int flags = arg_int(n, 1);
      return serve_made(call, DescriptorKind::raw, static_cast<std::uint32_t>(O_RDWR | (flags & TFD_NONBLOCK)),
                        (flags & TFD_CLOEXEC) != 0, "anon_inode:[timerfd]", timer,
                        [&] { return ::timerfd_create(clock, flags | TFD_CLOEXEC); });
    }
    case SYS_inotify_init:
    case SYS_inotify_init1: {
      const int flags = n.nr == SYS_inotify_init1 ? arg_int(n, 0) : 0;
      return serve_made(call, DescriptorKind::raw, static_cast<std::uint32_t>(O_RDONLY | (flags & IN_NONBLOCK)),
                        (flags & IN_CLOEXEC) != 0, "anon_inode:inotify", timer,
                        [&] { return ::inotify_init1(flags | IN_CLOEXEC); });
    }
    case SYS_memfd_create:
      return serve_memfd(call, timer);
    default:
      return Reply::run_natively();
  }
}

}  // namespace litebox::linux_host::core::detail
