// The Linux runtime: OCI bundles to running, isolated containers, runc-style, as a library. create sets
// everything up and parks the container's init before the user's program; start releases it. The
// command-line front end (litebox-runtime) and the shim both drive this class.
//
// The caller that creates containers should be a child subreaper (PR_SET_CHILD_SUBREAPER) or wait for them:
// a container's init and its exec'd processes are the caller's children.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "litebox/linux/cgroups.hpp"
#include "litebox/linux/container_state.hpp"
#include "litebox/linux/core/core_filter.hpp"
#include "litebox/linux/error.hpp"
#include "oci/linux_resources.hpp"
#include "oci/process.hpp"
#include "oci/spec.hpp"
#include "oci/state.hpp"

namespace litebox::linux_host {

struct RuntimeConfig {
  // Where containers' state lives: <root>/<id>/ (state.json, the saved config, the exec FIFO).
  std::filesystem::path root = "/run/litebox-runtime";
};

// The descriptors a new process starts with. They are the caller's: the runtime duplicates them.
struct ProcessStdio {
  std::vector<int> stdio{0, 1, 2};  // become the process's 0, 1, 2 (unused when it has a terminal)
  std::vector<int> preserved;       // become 3, 4, ... (runc's --preserve-fds, LISTEN_FDS)
};

struct CreateRequest {
  std::string id;
  std::filesystem::path bundle;
  ProcessStdio io;
  bool no_pivot = false;  // MS_MOVE + chroot instead of pivot_root (roots on a ramfs)
  std::vector<std::string> extra_env;  // appended to process.env (LISTEN_FDS=..., LISTEN_PID=1)
  // The LiteBox core: a connected unix stream socket of the caller's (-1: none). When >= 0 the process
  // installs the core's seccomp filter (core/core_filter.hpp) right before its program, stacked on the
  // spec's, and sends the listener over it with core_channel_message(its pid in the caller's pid
  // namespace). The caller keeps its fd; the runtime passes a duplicate. Whoever reads the other end must
  // answer notifications from then on (before the first execve they are the runtime's own set-up calls).
  // Refused when the spec's profile has SCMP_ACT_NOTIFY (one listener per process).
  int core_channel = -1;
  // Which calls the core's filter stops (a container with a descriptor budget: object creation too).
  core::CoreFilterScope core_scope = core::CoreFilterScope::opens;
};

struct StartedProcess {
  pid_t pid = 0;            // in the caller's pid namespace
  int console_master = -1;  // the terminal's master when process.terminal; the caller owns it
};

struct ExecRequest {
  oci::Process process;
  ProcessStdio io;
  int core_channel = -1;  // as CreateRequest::core_channel
  core::CoreFilterScope core_scope = core::CoreFilterScope::opens;
};

// What `state` reports.
struct ContainerInfo {
  ContainerRecord record;
  ContainerStatus status = ContainerStatus::stopped;
  // The runtime-spec's state document ("paused" reads as "running", which the spec's four states lack).
  oci::State oci_state() const;
};

class Runtime {
 public:
  explicit Runtime(RuntimeConfig config = {});

  const RuntimeConfig& config() const { return config_; }

  Expected<StartedProcess> create(const CreateRequest& request);
  Status start(std::string_view id);
  Expected<ContainerInfo> state(std::string_view id) const;
  // The config.json the container was created from (exec's defaults come from its process).
  Expected<oci::Spec> saved_config(std::string_view id) const;
  Expected<std::vector<ContainerInfo>> list() const;
  // A signal to the init, or with `all` to every process of the container.
  Status kill(std::string_view id, int signal, bool all);
  // Removes a stopped (or, with `force`, any) container: processes, cgroup, state; runs poststop hooks.
  Status remove(std::string_view id, bool force);
  Expected<StartedProcess> exec(std::string_view id, const ExecRequest& request);
  Expected<std::vector<pid_t>> pids(std::string_view id) const;
  Status pause(std::string_view id);
  Status resume(std::string_view id);
  Status update(std::string_view id, const oci::LinuxResources& resources);
  Expected<CgroupStats> stats(std::string_view id) const;
  Expected<OomNotifier> oom_notifier(std::string_view id) const;

 private:
  RuntimeConfig config_;
};

}  // namespace litebox::linux_host
