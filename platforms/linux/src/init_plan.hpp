// What the runtime prepares for a container's init (or an exec'd process) before forking it, and the
// steps the child runs. Everything that can fail for a reason a person must fix is checked while preparing,
// in the runtime, where errors can be logged; the child only applies.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "litebox/linux/cgroups.hpp"
#include "litebox/linux/core/core_filter.hpp"
#include "litebox/linux/error.hpp"
#include "litebox/linux/init_descriptors.hpp"
#include "litebox/linux/namespaces.hpp"
#include "litebox/linux/process_setup.hpp"
#include "litebox/linux/sync_channel.hpp"
#include "oci/spec.hpp"
#include "oci/state.hpp"

namespace litebox::linux_host::detail {

struct InitPlan {
  bool is_exec = false;  // an exec'd process joins a running container: no root file system set-up
  std::string id;
  std::string bundle;
  std::string rootfs;
  oci::Spec spec;        // for an exec, spec.process is the exec's process
  NamespacePlan namespaces;
  // Joined by the process itself once the runtime moved it into the cgroup: an exec's cgroup namespace.
  std::vector<NamespaceJoin> late_joins;
  std::vector<DescriptorPlacement> descriptors;
  std::vector<CgroupMountSource> cgroup_mounts;
  ProcessPlan process;     // checked and translated by make_process_plan
  std::string executable;  // args[0] found in the container, after its user switch and chdir
  int exec_fifo = -1;    // O_PATH descriptor of <state>/exec.fifo (create only)
  bool no_pivot = false;
  oci::State hook_state;  // hooks' stdin; the child fills in the pid
  // The LiteBox core (CreateRequest / ExecRequest::core_channel): a close-on-exec duplicate of the caller's
  // channel, which the child keeps through realize_descriptors; spawn_init closes the runtime's copy once
  // the child has its own. With it, the core's program, compiled before fork.
  int core_channel = -1;
  std::optional<SeccompProgram> core_program;
};

// For a caller's core channel (>= 0): checks it is a unix socket and that the spec's profile has no listener
// of its own (the kernel allows one per process), duplicates it into plan.core_channel and sets
// plan.core_program (compiled once per runtime process). Nothing when core_channel < 0.
Status plan_core(InitPlan& plan, int core_channel, core::CoreFilterScope scope);

// The spec's process (with linux.seccomp, linux.personality and linux.memoryPolicy) made ready for the child;
// notes logged.
Expected<ProcessPlan> plan_process(const oci::Spec& spec);

// Runs in the forked child; never returns. Reports failures over `sync` and exits 1.
[[noreturn]] void run_init(InitPlan& plan, SyncChannel& sync);

// Forks the process described by `plan` through an intermediate child that enters or creates the
// namespaces, so that the process is the caller's child (CLONE_PARENT) and the pid namespace's init when
// it creates one. Handles the id-map requests. Returns the process's pid and the runtime's end of the
// conversation; the child waits for SyncType::go.
struct SpawnedInit {
  pid_t pid = 0;
  SyncChannel sync;
};
Expected<SpawnedInit> spawn_init(InitPlan& plan);

// Writes uid_map, setgroups and gid_map of `pid` from the spec's mappings.
Status write_id_maps(pid_t pid, const oci::Linux& linux_config);

}  // namespace litebox::linux_host::detail
