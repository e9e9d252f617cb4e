// The LiteBox core on Linux, in the shim: it owns every container process's descriptor table (an fdcore
// FilesState) and serves the descriptor system calls the core filter stops (see core_filter.hpp).
//
// Threads: each listener has a serving thread of its own that receives and answers its calls (synchronous
// wake-up, SCHED_FIFO); one receiver waits on the core channels and every guest process's exit (epoll); a
// pool of workers, which grows when all are busy, takes the opens that might block (a FIFO, a device), so
// they never stall other calls or other containers. Calls that change a container's tables are serialized
// per container; the data path (read, write, mmap, ...) never reaches the core.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fdcore/files_state.hpp"
#include "litebox/linux/error.hpp"

namespace litebox::linux_host::core {

struct ContainerCorePolicy {
  // The most open file descriptions the container's processes may hold together (0: no budget beyond each
  // process's RLIMIT_NOFILE). Past it, calls that create one fail with EMFILE.
  std::size_t descriptor_budget = 0;
};

// One process's table as introspection shows it.
struct ProcessTable {
  pid_t pid = 0;         // in the shim's pid namespace
  pid_t guest_pid = 0;   // in the container's
  std::string command;   // /proc/<pid>/comm
  bool running_setup = false;  // still the runtime's set-up code: its calls run natively until its execve
  std::vector<fdcore::DescriptorInfo<int>> descriptors;
};

class CoreService {
 public:
  CoreService();
  ~CoreService();  // stops the threads; guests still waiting get ENOSYS (their listener closes)
  CoreService(const CoreService&) = delete;
  CoreService& operator=(const CoreService&) = delete;

  // Registers a container (idempotent; the policy of the first call stays).
  void add_container(const std::string& id, ContainerCorePolicy policy);
  // Watches `channel` (ours from now on: the shim's end of a process's core channel, see core_filter.hpp):
  // the listener that arrives on it is served for that process and everything it starts. The process may
  // send it at any time before its program runs (during create, or only at start).
  Status add_channel(const std::string& id, int channel);
  // Serves `listener` (ours from now on) for the process `pid` of container `id`.
  Status add_listener(const std::string& id, int listener, pid_t pid);
  // Forgets a deleted container: its listeners, tables and descriptors.
  void remove_container(const std::string& id);

  // The tables of the container's processes (pid 0: all), in pid order. Error ENOENT: no such container or
  // process.
  Expected<std::vector<ProcessTable>> tables(const std::string& id, pid_t pid) const;

  // Counters, for the log and the tests.
  struct Stats {
    std::uint64_t served = 0;    // answered by the core
    std::uint64_t native = 0;    // let through (set-up code, mirrored calls)
    std::uint64_t denied = 0;
    std::uint64_t adopted = 0;   // descriptors found in a guest's table without the core (SCM_RIGHTS, ...)
  };
  Stats stats() const;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace litebox::linux_host::core
