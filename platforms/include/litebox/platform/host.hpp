// What the shim's task service needs from a host, and nothing of how a host does it. platforms/linux
// (runc-style containers, the LiteBox core) and platforms/windows (job objects, HANDLE-backed descriptor
// tables) implement it; only the shim's bootstrap picks one (make_host() of the backend it links).
//
// Shape: a Host creates Containers; a Container owns its init and its exec'd Processes. A process's exit is
// reported once, through the callback given when it was created, on a thread of the host's (never while
// the host holds a lock the callback could need: the callback may call back into the container). Numbers
// the shim hands to containerd (pids, exit statuses) are the host's: a Linux pid in the shim's pid
// namespace or a Windows process id; an exit status as containerd reports it (128 + signal on Linux).
// Every call may come from any thread. Errors are errno-style (error.hpp): ENOENT, EEXIST, EINVAL,
// ENOSYS (the host cannot do it at all), EPERM, ...
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "litebox/platform/error.hpp"
#include "oci/process.hpp"

namespace litebox::platform {

using ProcessId = std::uint32_t;

// The signals the shim names itself (Linux's numbers, which containerd sends on every host).
namespace signals {
inline constexpr int interrupt = 2;
inline constexpr int kill = 9;
inline constexpr int terminate = 15;
}  // namespace signals

// The stdio of Create/Exec as containerd names it (protocol notes, section 5): FIFO paths on Linux, named
// pipe paths on Windows; file:// and binary:// URIs on both; "" for none.
struct StdioPaths {
  std::string stdin_path;
  std::string stdout_path;
  std::string stderr_path;
  bool terminal = false;
};

// One of Create's rootfs mounts (the snapshotter's overlay, bind, ...; Windows layers).
struct RootfsMount {
  std::string type;
  std::string source;
  std::string target;  // relative to the rootfs; "" for the rootfs itself
  std::vector<std::string> options;
};

// Called once per process, with its exit status, after the process exited (its I/O may still drain:
// Process::finish_io()).
using ExitCallback = std::function<void(std::uint32_t exit_status)>;

struct CreateParams {
  std::string id;
  std::string ns;  // containerd's namespace (logging binaries get it as CONTAINER_NAMESPACE)
  std::filesystem::path bundle;
  std::vector<RootfsMount> rootfs;
  StdioPaths stdio;
  ExitCallback on_init_exit;
};

struct ExecParams {
  std::string exec_id;
  oci::Process process;  // containerd's process spec for the exec
  StdioPaths stdio;
  ExitCallback on_exit;
};

// A container's resource usage, already encoded as the protobuf message containerd's Stats carries for this
// host (io.containerd.cgroups.v1.Metrics / v2.Metrics on Linux, containerd.runhcs.stats.v1.Statistics on
// Windows).
struct EncodedMetrics {
  std::string type_url;
  std::string value;
};

struct ProcessInfo {
  ProcessId pid = 0;
  std::string info;  // free text a host may add (the executable's name on Windows); "" for none
};

class Process {
 public:
  virtual ~Process() = default;
  virtual ProcessId pid() const = 0;
  // Delivers a signal (Linux numbering; a host without signals maps SIGKILL/SIGTERM/SIGINT to termination
  // and refuses the rest with EINVAL). ESRCH when the process has exited.
  virtual Status signal(int signal) = 0;
  // ResizePty: columns x rows. EINVAL without a terminal.
  virtual Status resize_terminal(std::uint32_t columns, std::uint32_t rows) = 0;
  // CloseIO{stdin}: what was written so far is delivered, then the process reads EOF. Idempotent.
  virtual void close_stdin() = 0;
  // After the exit was reported: lets the output drain for at most `limit`, then closes the process's I/O so
  // readers see EOF. Idempotent.
  virtual void finish_io(std::chrono::milliseconds limit) = 0;
};

class Container {
 public:
  virtual ~Container() = default;
  virtual const std::string& id() const = 0;
  // The init, created (not yet running) by Host::create.
  virtual Process& init() = 0;
  // Runs the init's program.
  virtual Status start() = 0;
  // Creates and starts an exec'd process in the container. Its exit goes to params.on_exit.
  virtual Expected<std::unique_ptr<Process>> exec(ExecParams params) = 0;
  // A signal to every process of the container (Kill{all}); also reaches processes left after the init exited.
  virtual Status signal_all(int signal) = 0;
  virtual Expected<std::vector<ProcessInfo>> pids() = 0;
  virtual Status pause() = 0;
  virtual Status resume() = 0;
  // UpdateTask: the resources as containerd encodes them (JSON of the runtime-spec's LinuxResources or
  // WindowsResources).
  virtual Status update(const std::string& resources_json) = 0;
  virtual Expected<EncodedMetrics> stats() = 0;
  // Delete: kills what is left, releases everything the container holds (state, cgroup or job, mounts).
  virtual Status destroy() = 0;
};

// What a host can do, for the shim's `-info` and its refusals.
struct HostFeatures {
  std::string os;                // "linux", "windows"
  bool terminals = false;
  bool pause = false;
  bool oom_events = false;
  bool descriptor_core = false;  // the LiteBox core serves descriptor system calls
};

class Host {
 public:
  virtual ~Host() = default;
  virtual HostFeatures features() const = 0;
  // Called with a container's id when the host sees one of its processes killed for lack of memory. Set
  // before the first create(); for the init it is always reported before the init's exit.
  virtual void on_oom(std::function<void(const std::string& container_id)> callback) = 0;
  // Creates the container and its init from the bundle (not yet running). Errors undo everything done.
  virtual Expected<std::unique_ptr<Container>> create(CreateParams params) = 0;
  // No exit or OOM callback runs once this returns (the shim calls it before its task service goes).
  // Idempotent.
  virtual void stop_events() {}
};

}  // namespace litebox::platform
