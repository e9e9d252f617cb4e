// The shim is the child subreaper of everything it starts: container inits and exec'd processes are its
// children (the runtime clones them with CLONE_PARENT), and orphans inside a container without its own pid
// namespace are re-parented to it. One thread reaps them all with waitpid(-1) and reports each exit.
//
// The runtime library also forks helpers it waits for itself (the intermediate child of create and exec,
// hooks). Those waits must not lose their child to waitpid(-1): runtime calls that fork hold
// `runtime_guard()` shared, the reaper reaps only while holding it exclusively.
#pragma once

#include <sys/types.h>

#include <functional>
#include <shared_mutex>
#include <thread>

namespace litebox::linux_host {

class Reaper {
 public:
  // Called on the reaper thread for every reaped child: its pid and the status waitpid reported.
  using ExitCallback = std::function<void(pid_t pid, int wait_status)>;

  Reaper() = default;
  Reaper(const Reaper&) = delete;
  Reaper& operator=(const Reaper&) = delete;
  ~Reaper();

  // Makes the process a child subreaper, installs the SIGCHLD handler (a self-pipe; the signal mask is left
  // alone, so processes the shim starts inherit no blocked SIGCHLD) and starts the reaping thread.
  // Returns false with errno set when the set-up fails.
  bool start(ExitCallback on_exit);
  void stop();

  std::shared_mutex& runtime_guard() { return guard_; }

 private:
  void run();
  void reap_all();

  ExitCallback on_exit_;
  std::shared_mutex guard_;
  std::thread thread_;
  int stop_fd_ = -1;  // eventfd: stop() wakes the thread
};

}  // namespace litebox::linux_host
