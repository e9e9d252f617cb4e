// The core's bookkeeping of guest processes and threads: meeting them, their credentials, the mirror of each
// process's table and its reconciliation with the kernel (see core_state.hpp).
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>

#include <spdlog/spdlog.h>

#include "core_state.hpp"
#include "litebox/linux/core/guest_memory.hpp"
#include "litebox/linux/core/guest_table.hpp"

namespace litebox::linux_host::core::detail {
namespace {

// PIDFD_THREAD (Linux 6.9): a pidfd for one thread, whose pidfd_getfd reads that thread's own table.
constexpr unsigned kPidfdThread = O_EXCL;

int open_pidfd(pid_t pid, unsigned flags) noexcept { return static_cast<int>(::syscall(SYS_pidfd_open, pid, flags)); }


fdcore::ObjectIdentity identity_of(const DescriptorObject& object) noexcept {
  return fdcore::ObjectIdentity{static_cast<std::uint64_t>(object.dev), static_cast<std::uint64_t>(object.ino)};
}

// What kind of object a guest descriptor is, from its /proc link (and, for a socket, its domain).
fdcore::DescriptorKind kind_of(const GuestProcess& process, int fd, const std::string& target) noexcept {
  if (target == "anon_inode:[eventfd]") return fdcore::DescriptorKind::eventfd;
  if (target == "anon_inode:[eventpoll]") return fdcore::DescriptorKind::epoll;
  if (!target.starts_with("socket:")) return fdcore::DescriptorKind::raw;
  const int copy = take_guest_fd(process.pidfd.get(), fd);
  if (copy < 0) return fdcore::DescriptorKind::raw;
  int domain = 0;
  socklen_t length = sizeof domain;
  const bool unix_socket = ::getsockopt(copy, SOL_SOCKET, SO_DOMAIN, &domain, &length) == 0 && domain == AF_UNIX;
  ::close(copy);
  return unix_socket ? fdcore::DescriptorKind::unix_socket : fdcore::DescriptorKind::raw;
}

// The pids of the container's processes: the served processes and every descendant of theirs (a forked
// child that has not made a stopped call yet holds descriptors too).
std::vector<pid_t> container_pids(const Container& c) {
  std::vector<pid_t> pids;
  for (const auto& [tgid, process] : c.processes) pids.push_back(tgid);
  for (std::size_t i = 0; i < pids.size(); ++i) {
    for (pid_t child : guest_children(pids[i])) {
      if (std::find(pids.begin(), pids.end(), child) == pids.end()) pids.push_back(child);
    }
  }
  return pids;
}

}  // namespace

std::uint64_t guest_nofile(pid_t tid) noexcept {
  struct rlimit lim{};
  if (::prlimit(tid, RLIMIT_NOFILE, nullptr, &lim) != 0) return Files::kDefaultNofile;
  return lim.rlim_cur;
}

GuestProcess* process_for(Call& call, pid_t tgid) {
  auto& processes = call.container.processes;
  if (auto it = processes.find(tgid); it != processes.end()) return it->second.get();
  OwnedFd pidfd(open_pidfd(tgid, 0));
  if (!pidfd.valid()) return nullptr;
  auto process = std::make_unique<GuestProcess>(tgid, std::move(pidfd), Files::create(call.container.store));
  GuestProcess* met = process.get();
  processes.emplace(tgid, std::move(process));
  if (call.watch_exit) call.watch_exit(met->pidfd.get(), tgid);
  return met;
}

void sweep_threads(Container& c) {
  if (c.threads.size() < std::max<std::size_t>(64, 2 * c.threads_at_sweep)) return;
  for (auto it = c.threads.begin(); it != c.threads.end();) {
    // tgkill with signal 0 only checks that the thread exists, in that thread group (a reused tid fails too).
    const bool alive = ::syscall(SYS_tgkill, it->second.tgid, it->first, 0) == 0;
    it = alive ? std::next(it) : c.threads.erase(it);
  }
  c.threads_at_sweep = c.threads.size();
}

int open_thread(Call& call, GuestThread& thread) {
  const pid_t tid = call.n.pid;
  (void)act_as_self();  // opening another task's mem needs our privileges (ptrace access)
  const std::string path = "/proc/" + std::to_string(tid);
  thread.dir.reset(::open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!thread.dir.valid()) return ESRCH;
  thread.status.reset(::openat(thread.dir.get(), "status", O_RDONLY | O_CLOEXEC));
  thread.mem.reset(::openat(thread.dir.get(), "mem", O_RDONLY | O_CLOEXEC));
  if (!thread.status.valid() || !thread.mem.valid()) return ESRCH;
  thread.pidfd.reset(open_pidfd(tid, kPidfdThread));  // older kernels: EINVAL, the process's pidfd serves
  // Opened by number: they are the caller's only if it still waits now (its number was not reused before).
  if (notification_valid(call.listener, call.n.id) != 0) return EINTR;
  return 0;
}

GuestThread* thread_for(Call& call) {
  auto& threads = call.container.threads;
  if (auto it = threads.find(call.n.pid); it != threads.end()) return &it->second;
  sweep_threads(call.container);
  GuestThread thread;
  if (open_thread(call, thread) != 0) return nullptr;
  return &threads.emplace(call.n.pid, std::move(thread)).first->second;
}

Expected<GuestCredentials> caller_credentials(Call& call, GuestThread& thread) {
  const pid_t tid = call.n.pid;
  auto creds = read_guest_status(thread.status.get(), tid);
  if (!creds && creds.error().code == ESRCH) {
    // The kept descriptors belonged to an exited thread whose number this live caller now has.
    if (const int error = open_thread(call, thread); error != 0) {
      return Error{error, "thread " + std::to_string(tid) + " is gone"};
    }
    creds = read_guest_status(thread.status.get(), tid);
  }
  if (creds) thread.tgid = creds.value().tgid;
  return creds;
}

namespace {
// Runs `read` (mem descriptor -> 0 or -errno) on the thread's kept mem, reopening it once when the thread has
// exec'd since (-ESRCH: a new address space, the same task).
template <typename Read>
int read_through_mem(GuestThread& thread, Read&& read) {
  int r = read(thread.mem.get());
  if (r == -ESRCH) {
    (void)act_as_self();  // opening another task's mem needs our ptrace access
    thread.mem.reset(::openat(thread.dir.get(), "mem", O_RDONLY | O_CLOEXEC));
    r = read(thread.mem.get());
  }
  return r;
}
}  // namespace

int read_caller_string(GuestThread& thread, std::uint64_t address, std::size_t max,
                       std::string& out) {
  return read_through_mem(thread, [&](int mem) { return read_guest_string_at(mem, address, max, out); });
}

int read_caller(GuestThread& thread, std::uint64_t address, void* out, std::size_t size) {
  return read_through_mem(thread, [&](int mem) { return read_guest_at(mem, address, out, size); });
}

int take_callers_fd(GuestThread& thread, const GuestProcess& process, int fd) {
  if (fd < 0) return -EBADF;
  return with_own_privileges_on_refusal([&] {
    return take_guest_fd(thread.pidfd.valid() ? thread.pidfd.get() : process.pidfd.get(), fd);
  });
}

void record_install(Call& call, GuestProcess& process, int fd, int raw, fdcore::DescriptorKind kind,
                    std::uint32_t open_flags, bool cloexec, std::string target) {
  fdcore::OpenFileSpec spec;
  spec.kind = kind;
  spec.open_flags = open_flags;
  spec.target = std::move(target);
  DescriptorObject object;
  if (own_fd_object(raw, object) == 0) spec.identity = identity_of(object);
  auto described = call.container.store->describe(std::move(spec));
  if (!described) return;  // out of memory: the next reconcile adopts it from the kernel
  (void)process.files.files()->install_at(static_cast<std::uint32_t>(fd), std::move(described).value(), cloexec);
}

void reconcile(Container& c, Counters& counters, GuestProcess& process) {
  const pid_t tgid = process.tgid;
  const std::vector<int> kernel = guest_fd_numbers(tgid);
  auto& state = *process.files.files();
  for (const auto& d : state.list()) {
    if (!std::binary_search(kernel.begin(), kernel.end(), static_cast<int>(d.fd))) (void)state.close(d.fd);
  }
  for (int fd : kernel) {
    GuestFdInfo info;
    DescriptorObject object;
    if (guest_fd_info(tgid, fd, info) != 0 || guest_fd_object(tgid, fd, object) != 0) {
      (void)state.close(static_cast<std::uint32_t>(fd));  // closed meanwhile
      continue;
    }
    const auto identity = identity_of(object);
    if (auto known = state.get(static_cast<std::uint32_t>(fd));
        known && known.value()->identity() == identity && known.value()->status_flags() == info.flags) {
      const bool cloexec = state.fcntl(static_cast<std::uint32_t>(fd), fdcore::abi::f_getfd, 0, 0).raw() ==
                           static_cast<std::int64_t>(fdcore::abi::fd_cloexec);
      if (cloexec != info.cloexec) {
        (void)state.install_at(static_cast<std::uint32_t>(fd), std::move(known).value(), info.cloexec);
      }
      continue;
    }
    // A number the core did not install, or one that holds another object now: taken from the kernel,
    // sharing the description of another number of this process where kcmp says they are one.
    Ref shared;
    for (const auto& d : state.list()) {
      if (static_cast<int>(d.fd) == fd) continue;
      auto other = state.get(d.fd);
      if (other && other.value()->identity() == identity && same_guest_description(tgid, fd, tgid, d.fd) == 1) {
        shared = std::move(other).value();
        break;
      }
    }
    if (!shared) {
      fdcore::OpenFileSpec spec;
      spec.target = descriptor_target(tgid, fd);
      spec.kind = kind_of(process, fd, spec.target);
      spec.open_flags = info.flags;
      spec.identity = identity;
      auto described = c.store->describe(std::move(spec));
      if (!described) continue;
      shared = std::move(described).value();
    }
    (void)state.install_at(static_cast<std::uint32_t>(fd), std::move(shared), info.cloexec);
    counters.adopted.fetch_add(1, std::memory_order_relaxed);
  }
}

std::size_t count_descriptions(const Container& c) {
  // Every descriptor of every process of the container, grouped by object: descriptions of one object are
  // told apart with kcmp (dup'd numbers and fork's copies share one; two opens of a file are two).
  struct Holder {
    pid_t pid;
    int fd;
  };
  std::vector<std::pair<fdcore::ObjectIdentity, Holder>> all;
  for (pid_t pid : container_pids(c)) {
    for (int fd : guest_fd_numbers(pid)) {
      DescriptorObject object;
      if (guest_fd_object(pid, fd, object) == 0) all.push_back({identity_of(object), Holder{pid, fd}});
    }
  }
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    return a.first.device != b.first.device ? a.first.device < b.first.device : a.first.inode < b.first.inode;
  });
  std::size_t descriptions = 0;
  std::vector<Holder> distinct;  // one holder per description of the current object
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (i == 0 || !(all[i].first == all[i - 1].first)) distinct.clear();
    const Holder& h = all[i].second;
    const bool seen = std::any_of(distinct.begin(), distinct.end(), [&](const Holder& d) {
      return same_guest_description(h.pid, h.fd, d.pid, d.fd) == 1;
    });
    if (!seen) {
      distinct.push_back(h);
      ++descriptions;
    }
  }
  return descriptions;
}

bool over_budget(const Container& c, std::size_t adding) {
  const std::size_t budget = c.policy.descriptor_budget;
  if (budget == 0) return false;
  (void)act_as_self();  // every process's /proc/<pid>/fd and kcmp need our privileges
  // Descriptors are at least as many as descriptions: under the budget by that count needs no more work.
  std::size_t descriptors = 0;
  for (pid_t pid : container_pids(c)) descriptors += guest_fd_numbers(pid).size();
  if (descriptors + adding <= budget) return false;
  if (count_descriptions(c) + adding <= budget) return false;
  spdlog::warn("core {}: the container is at its descriptor budget ({}): EMFILE", c.id, budget);
  return true;
}

}  // namespace litebox::linux_host::core::detail
