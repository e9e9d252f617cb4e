// Everything the spec's `process` section and `linux.seccomp` / `linux.personality` / `linux.memoryPolicy`
// make of the container's process before execve, in one plan built (and checked) in the parent and applied
// in the child after fork, in runc's order. Each step is also callable on its own (capabilities.hpp,
// process_credentials.hpp, ...).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "litebox/linux/capabilities.hpp"
#include "litebox/linux/error.hpp"
#include "litebox/linux/process_attributes.hpp"
#include "litebox/linux/process_credentials.hpp"
#include "litebox/linux/rlimits.hpp"
#include "litebox/linux/seccomp_filter.hpp"
#include "oci/linux.hpp"
#include "oci/process.hpp"
#include "oci/seccomp.hpp"

namespace litebox::linux_host {

struct ProcessPlan {
  std::vector<RlimitSetting> rlimits;
  bool no_new_privileges = false;
  std::optional<int> oom_score_adj;
  std::optional<PersonalitySetting> personality;
  std::optional<int> io_priority;  // ioprio_set value
  std::optional<SchedulerSetting> scheduler;
  std::optional<MemoryPolicySetting> memory_policy;  // linux.memoryPolicy
  CapabilityPlan capabilities;
  UserPlan user;
  std::optional<SeccompProgram> seccomp;
  std::vector<std::string> args;  // argv; args[0] is looked up in path_variable
  std::vector<std::string> env;
  std::string path_variable;       // the container's PATH (or the default)
  std::vector<std::string> notes;  // everything skipped, for the parent's log
};

// Parent side: translates and checks everything (unknown capability, rlimit, seccomp action / arch / flag /
// operator, scheduler policy, memory policy mode / flag / node list, ...). Reads
// /proc/sys/kernel/cap_last_cap and compiles the seccomp filter.
Expected<ProcessPlan> make_process_plan(const oci::Process& process, const std::optional<oci::Seccomp>& seccomp,
                                        const std::optional<oci::Personality>& personality,
                                        const std::optional<oci::MemoryPolicy>& memory_policy = std::nullopt);

struct ProcessSetupOptions {
  bool apply_rlimits = true;         // false when the parent set them with apply_rlimits_to (runc does)
  bool fix_stdio_ownership = true;   // runc's fixStdioPermissions before the user switch
  bool find_executable = true;       // look up args[0] (before a late seccomp load, as runc)
  // With noNewPrivileges the filter is loaded last. false: the caller loads it itself (load_seccomp_program)
  // later, e.g. right before execve after parking on the exec FIFO.
  bool load_late_seccomp = true;
  // The LiteBox core's filter (core/core_filter.hpp, compiled in the parent), stacked on the spec's: when
  // set, it is installed right after the spec's filter loads, or where it would load: without
  // noNewPrivileges at the early point (CAP_SYS_ADMIN still held); with it at the late point, unless
  // load_late_seccomp is false, and then the caller installs it (core::install_core_filter).
  // Installing sends the listener over core_channel with core_pid and closes core_channel.
  const SeccompProgram* core_program = nullptr;
  int core_channel = -1;
  pid_t core_pid = 0;  // the process's pid in the receiver's pid namespace
};

struct ProcessSetupResult {
  int seccomp_listener_fd = -1;  // SCMP_ACT_NOTIFY: the caller sends it to listenerPath; -1 otherwise
  std::string executable;        // args[0] resolved, when options.find_executable
  // options.core_program was installed (core_channel is closed); false: left to the caller.
  bool core_filter_installed = false;
};

// Child side (after fork, root and namespaces set up): applies the plan in runc's order
//   rlimits, oom_score_adj, personality, scheduler, io priority, memory policy, no_new_privs,
//   seccomp (without noNewPrivileges: while CAP_SYS_ADMIN is held), then the core's filter if given,
//   bounding set drop, PR_SET_KEEPCAPS, stdio ownership, setgroups/setresgid/setresuid, keepcaps cleared,
//   capset (effective, permitted, inheritable), ambient set, umask,
//   executable lookup, seccomp (with noNewPrivileges: last, unless options.load_late_seccomp is false),
//   then the core's filter if given.
// The memory policy is set where runc 1.4 sets it, with the scheduling attributes: after the root file
// system and namespaces are done, before any seccomp filter (a profile may refuse set_mempolicy, as Docker's
// does without CAP_SYS_NICE). The process keeps it through execve; startContainer hooks inherit it too.
// The first failure is returned with the step's name ("switch user: setresuid 1000: ..."), and a listener fd
// already obtained is closed. No logging, no locks.
Expected<ProcessSetupResult> apply_process_plan(const ProcessPlan& plan, const ProcessSetupOptions& options = {});

}  // namespace litebox::linux_host
