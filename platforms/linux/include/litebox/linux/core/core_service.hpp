// The LiteBox core on Linux, in the shim: it serves the system calls the core filter stops (path opens, the
// refused kinds, and under a descriptor budget the calls that create objects; see core_filter.hpp) and keeps
// an fdcore FilesState per guest process that mirrors its kernel table exactly where it is shown or counted
// (see src/core/core_state.hpp for how).
//
// Threads: each listener has a serving thread of its own that receives and answers its calls (synchronous
// wake-up); one receiver waits on the core channels and every guest process's exit (epoll); a
// pool of workers, which grows when all are busy, takes the opens that might block (a FIFO, a device), so
// they never stall other calls or other containers. Calls that change a container's mirrors are serialized
// per container; the data path (read, write, mmap, ...) and every descriptor call but those never reach the
// core.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fdcore/files_state.hpp"
#include "litebox/linux/error.hpp"

namespace litebox::linux_host::core {

struct ContainerCorePolicy {
  // The most open file descriptions the container's processes may hold together (0: no budget beyond each
  // process's RLIMIT_NOFILE). Past it, calls that create one fail with EMFILE. A budget makes the filter stop
  // the object-creating calls too (core_filter.hpp's CoreFilterScope::opens_and_creation).
  std::size_t descriptor_budget = 0;
};

// The phases of a served call, for CoreService's profile (where the time of one call goes).
enum class CorePhase : std::uint8_t {
  dispatch,        // finding the container's process and thread, the locks, the policy lookup
  guest_memory,    // reading the path (process_vm_readv) and checking the notification is still valid
  credentials,     // the caller's /proc/<tid>/status (fsuid, fsgid, groups, capabilities, umask)
  user_namespace,  // whether the caller is in a user namespace of its own (/proc/<tid>/ns/user)
  root,            // the caller's root (and cwd or dirfd) for the resolution
  probe,           // whether the open might block (an O_PATH resolution, fstat, fstatfs)
  open,            // the open itself with the guest's credentials (switching to them and back included)
  install,         // SECCOMP_IOCTL_NOTIF_ADDFD with SEND: the descriptor in the guest, the call answered
  record,          // the object's identity (fstat) and the fdcore mirror, our copy closed
  answer,          // SECCOMP_IOCTL_NOTIF_SEND for calls answered without ADDFD (errors, continue, values)
};
inline constexpr std::size_t kCorePhaseCount = 10;
std::string_view core_phase_name(CorePhase phase) noexcept;

// One process's table as introspection shows it.
struct ProcessTable {
  pid_t pid = 0;         // in the shim's pid namespace
  pid_t guest_pid = 0;   // in the container's
  std::string command;   // /proc/<pid>/comm
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

  // The tables of the container's processes (pid 0: all), in pid order, reconciled with their kernel tables
  // first. Error ENOENT: no such container or process.
  Expected<std::vector<ProcessTable>> tables(const std::string& id, pid_t pid) const;

  // Counters, for the log and the tests.
  struct Stats {
    std::uint64_t served = 0;    // answered by the core
    std::uint64_t native = 0;    // let through (set-up code, mirrored calls)
    std::uint64_t denied = 0;
    std::uint64_t adopted = 0;   // descriptors found in a guest's table that the core did not install
  };
  Stats stats() const;

  // Profiling of served calls (off by default: two clock reads per phase): where their time goes.
  struct Profile {
    std::uint64_t calls = 0;                            // served calls since profiling was turned on
    std::array<std::uint64_t, kCorePhaseCount> ns{};  // summed per CorePhase
  };
  void set_profiling(bool on);  // on: counting starts from zero
  Profile profile() const;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace litebox::linux_host::core
