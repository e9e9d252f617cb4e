// The core's bookkeeping: containers, their guest tasks and the tables those use. Internal to the core.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "fdcore/process_files.hpp"
#include "litebox/linux/core/core_service.hpp"
#include "litebox/linux/core/guest_table.hpp"
#include "litebox/linux/core/seccomp_notify.hpp"

namespace litebox::linux_host::core::detail {

using Files = fdcore::ProcessFiles<int>;
using Store = fdcore::RawDescriptorStore<int>;
using Ref = fdcore::OpenFileRef<int>;

// One descriptor table as the kernel sees it: the tasks that share it (threads, CLONE_FILES) point to the same
// TaskFiles; fork and unshare(CLONE_FILES) make a new one.
struct TaskFiles {
  explicit TaskFiles(Files f) : files(std::move(f)) {}
  Files files;
  // Before its first execve a process runs the runtime's own set-up code: its calls run natively, and its
  // table is taken from the kernel when it execs.
  bool setup = false;
  // An execve went to the kernel from this thread; resolved (trim or not) at the next look.
  pid_t exec_tid = 0;
  // Numbers whose close went to the kernel (it closes them as the guest resumes), the thread that closes them
  // and what they referred to: not adopted back until that thread's next call proves the close done, or the
  // kernel shows the number closed, or holding another object (a call the kernel ran, accept4 or socketpair
  // or SCM_RIGHTS, got the number again while the closing thread waits elsewhere, in futex or read).
  struct Closing {
    pid_t tid = 0;
    DescriptorObject object;
  };
  std::map<int, Closing> closing;

  // Records that thread `tid` closes `fd`, which referred to our `raw` (or -1: unknown).
  void start_closing(int fd, pid_t tid, int raw);
  // `fd`'s close went to the kernel, which still shows the same object open under it in process `tgid` (the
  // closing thread has not resumed yet): the number is not free. A number the kernel has closed since, or that
  // refers to another object now, is forgotten here.
  bool still_closing(pid_t tgid, int fd);
  // Forgets every closing number the kernel has closed since.
  void forget_closed(pid_t tgid);
};

struct Task {
  pid_t tgid = 0;
  std::shared_ptr<TaskFiles> files;
};

struct Container {
  std::string id;
  ContainerCorePolicy policy;
  std::shared_ptr<Store> store;
  // Every lookup and change of this container's tables, and the guest installs that go with them.
  std::mutex mu;
  std::unordered_map<pid_t, Task> tasks;     // by thread id
  std::unordered_map<pid_t, int> pidfds;     // by process id: exit watch, pidfd_getfd
  std::vector<int> listeners;
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

// One call being served.
struct Call {
  Container& container;
  int listener;
  const Notification& n;
  Counters& counters;
  // Hands a new guest process's pidfd to the receiver, which forgets the process when it exits.
  std::function<void(int pidfd, pid_t tgid)> watch_exit;
  // False on a listener's own thread: a call that might block is deferred to the pool instead.
  bool may_block = true;
};

// Finds (or, for a task seen for the first time, works out) the table the calling task uses, and resolves a
// pending execve. Null when the task cannot be inspected (it is gone). The container's mutex is held.
std::shared_ptr<TaskFiles> files_for_task(Call& call, pid_t tid);

// The guest's soft RLIMIT_NOFILE, as it is now (setrlimit/prlimit inside the container are respected).
std::uint64_t guest_nofile(pid_t tid) noexcept;

// Adopts the guest's `fd` (open in its kernel table, unknown to `tf`) into `tf`. 0 or -errno.
int adopt_guest_fd(Call& call, TaskFiles& tf, pid_t tgid, int fd);

// Makes `tf` agree with the kernel for the number `fd`: adopts it when the kernel has it open and the table
// does not. Returns whether it is open now.
bool reconcile_number(Call& call, TaskFiles& tf, pid_t tgid, int fd);

// Installs our `raw` (a description `ref` already holds, or a new object for `spec`) into the calling guest at
// the lowest free number, answering the call with it. Checks the budget and RLIMIT_NOFILE; adopts what the
// kernel holds below the number it chose. The container's mutex is held.
Reply install_lowest(Call& call, TaskFiles& tf, pid_t tgid, Ref ref, bool cloexec, bool send);

// A new description for `raw` (ours from now on: closed on failure). Null when the store refuses.
Ref adopt_raw(Container& c, int raw, fdcore::DescriptorKind kind);

// Serves one notification: dispatches on the call number. Never throws.
Reply serve_call(Call& call);

}  // namespace litebox::linux_host::core::detail
