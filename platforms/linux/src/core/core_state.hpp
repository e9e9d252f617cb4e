// The core's bookkeeping: containers, the guest processes and threads it has met, and the mirror of each
// process's descriptor table. Internal to the core.
//
// How the mirror stays exact: the kernel's table is the one the guest uses, and only the kernel changes it in
// place. The core stops only the calls it must serve (path opens; under a descriptor budget also the calls
// that create objects); close, dup, fcntl, execve, fork and the rest run natively, so no call the guest makes
// can fail with a result Linux would not give. What the core installs it records at once, at the number the
// kernel chose (ADDFD picks the lowest free number in the guest's own table, so the core never gives out a
// number that is taken). Whenever the core acts on a number (a dirfd, a /proc/self/fd/N) it takes the object
// from the guest's kernel table that moment (pidfd_getfd), never from the mirror; whenever it shows the table
// (litebox-ctl) it first reconciles it with the kernel: numbers the kernel closed are dropped, numbers that hold
// another object now (st_dev, st_ino) or that the core never saw are adopted, and flags are read back from
// fdinfo. The descriptor budget counts from the kernel tables themselves.
#pragma once

#include <sys/types.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "fdcore/process_files.hpp"
#include "litebox/linux/core/core_service.hpp"
#include "litebox/linux/core/guest_credentials.hpp"
#include "litebox/linux/core/seccomp_notify.hpp"
#include "litebox/linux/owned_fd.hpp"

namespace litebox::linux_host::core::detail {

using Files = fdcore::ProcessFiles<int>;
using Store = fdcore::RawDescriptorStore<int>;
using Ref = fdcore::OpenFileRef<int>;

// A guest process (thread group): the mirror of its table and the pidfd the core watches its exit with.
struct GuestProcess {
  GuestProcess(pid_t process, OwnedFd process_pidfd, Files table)
      : tgid(process), pidfd(std::move(process_pidfd)), files(std::move(table)) {}
  pid_t tgid;
  OwnedFd pidfd;  // the receiver watches it (its watch is removed before the process is forgotten)
  Files files;
};

// A guest thread the core has served: what it keeps open to serve its calls. Every one is bound to the task it
// was opened for (not to its number), so after the first call nothing the core reads can belong to another
// task that reused the number: no SECCOMP_IOCTL_NOTIF_ID_VALID round trip per call.
struct GuestThread {
  pid_t tgid = 0;  // its process, from its status (checked when exited threads are swept)
  OwnedFd dir;     // /proc/<tid> (O_PATH): root, cwd and ns/user are opened or read relative to it
  OwnedFd status;  // /proc/<tid>/status: a pread regenerates it (cheaper than open + read + close)
  OwnedFd mem;     // /proc/<tid>/mem: the path a call names is read from it (reopened after an execve)
  OwnedFd pidfd;   // the thread's own pidfd (PIDFD_THREAD, Linux 6.9+), for pidfd_getfd on its own table;
                   // invalid where the kernel has none (the process's pidfd serves)
};

struct Container {
  Container(std::string name, ContainerCorePolicy core_policy, std::shared_ptr<Store> descriptions)
      : id(std::move(name)), policy(core_policy), store(std::move(descriptions)) {}
  Container(const Container&) = delete;
  Container& operator=(const Container&) = delete;

  std::string id;
  ContainerCorePolicy policy;
  std::shared_ptr<Store> store;
  // Every lookup and change of this container's mirrors, processes and threads.
  std::mutex mu;
  std::unordered_map<pid_t, std::unique_ptr<GuestProcess>> processes;  // by tgid
  std::unordered_map<pid_t, GuestThread> threads;                      // by tid
  // threads.size() after the last sweep of exited threads: the next sweep comes when the map has doubled, so
  // a program that starts and ends threads forever keeps the map bounded at O(1) amortized cost per thread.
  std::size_t threads_at_sweep = 0;
};

// What a handler answers.
struct Reply {
  // defer: the call may block (an open of a FIFO, a device): a pool worker serves it instead.
  enum class Kind { value, error, native, sent, defer } kind = Kind::native;
  std::int64_t value = 0;  // value, or the errno for error
  static Reply ok(std::int64_t v) { return {Kind::value, v}; }
  static Reply fail(int err) { return {Kind::error, err}; }
  static Reply run_natively() { return {Kind::native, 0}; }
  static Reply already_sent(std::int64_t fd) { return {Kind::sent, fd}; }  // ADDFD with SEND answered
  static Reply to_pool() { return {Kind::defer, 0}; }
};

struct Counters {
  std::atomic<std::uint64_t> served{0}, native{0}, denied{0}, adopted{0};
};

// Where the time of served calls goes, when profiling is on (CoreService::set_profiling): nanoseconds summed
// over the calls, per phase. Read by core_call_bench.
struct PhaseClock {
  std::atomic<bool> on{false};
  std::atomic<std::uint64_t> calls{0};
  std::array<std::atomic<std::uint64_t>, kCorePhaseCount> ns{};
};

struct OpenRequest;

// One call being served.
struct Call {
  Container& container;
  int listener;
  const Notification& n;
  Counters& counters;
  PhaseClock& clock;
  // Hands a new guest process's pidfd to the receiver, which forgets the process when it exits.
  std::function<void(int pidfd, pid_t tgid)> watch_exit;
  // False on a listener's own thread: a call that might block is deferred to the pool instead.
  bool may_block = true;
  // An open already prepared on the listener's thread (path, credentials, root) that the pool finishes.
  std::shared_ptr<OpenRequest> prepared;
};

// The guest process `tgid` of the container, met now if it is new (its pidfd watched). Null when it is gone.
// The container's mutex is held.
GuestProcess* process_for(Call& call, pid_t tgid);

// The calling thread's kept descriptors, opened at its first call (and again when they belonged to an exited
// thread whose number the caller has now). Null when it is gone. The container's mutex is held.
GuestThread* thread_for(Call& call);

// Opens the kept descriptors of `thread` for the caller afresh (its first call, or the old ones belonged to an
// exited thread with the caller's number): 0, or an errno.
int open_thread(Call& call, GuestThread& thread);

// Reads the calling thread's credentials through its kept status descriptor. Error ESRCH once it is gone.
Expected<GuestCredentials> caller_credentials(Call& call, GuestThread& thread);

// Reads a string (the path a call names) or bytes from the calling thread through its kept mem descriptor,
// reopening it once when the thread has exec'd since. 0 or -errno.
int read_caller_string(GuestThread& thread, std::uint64_t address, std::size_t max, std::string& out);
int read_caller(GuestThread& thread, std::uint64_t address, void* out, std::size_t size);

// Forgets exited threads once the thread map has doubled since the last sweep. The mutex is held.
void sweep_threads(Container& c);

// A copy of the guest's descriptor `fd` from the calling thread's own table (pidfd_getfd), or -errno
// (-EBADF: not open).
int take_callers_fd(GuestThread& thread, const GuestProcess& process, int fd);

// Records our object `raw` (still ours; the caller closes it), which the kernel installed at `fd` in the
// guest process's table, in its mirror. Never fails the call: a mirror that cannot take it is reconciled later.
void record_install(Call& call, GuestProcess& process, int fd, int raw, fdcore::DescriptorKind kind,
                    std::uint32_t open_flags, bool cloexec, std::string target);

// Makes `process`'s mirror equal its kernel table (see the file comment). The container's mutex is held.
void reconcile(Container& c, Counters& counters, GuestProcess& process);

// The container's open file descriptions as its processes' kernel tables hold them (read from the kernel, not
// the mirrors): for the descriptor budget. The mutex is held.
std::size_t count_descriptions(const Container& c);

// Whether `adding` more descriptions would take the container past its descriptor budget (counting them
// exactly only when its descriptors alone could be too many). The mutex is held.
bool over_budget(const Container& c, std::size_t adding);

// Runs `step` (0 / a value, or -errno); when the thread acts as a guest (act_as) and the step was refused
// (-EACCES, -EPERM: a ptrace-mode check on /proc or pidfd_getfd that the guest's identity does not pass, a
// non-dumpable guest), runs it again with the shim's own identity.
template <typename Step>
auto with_own_privileges_on_refusal(Step&& step) -> decltype(step()) {
  auto result = step();
  if ((result == -EACCES || result == -EPERM) && acting_as_guest() && act_as_self() == 0) result = step();
  return result;
}

// The guest's soft RLIMIT_NOFILE, as it is now (setrlimit/prlimit inside the container are respected).
std::uint64_t guest_nofile(pid_t tid) noexcept;

// Serves one notification: dispatches on the call number. Never throws.
Reply serve_call(Call& call);

}  // namespace litebox::linux_host::core::detail
