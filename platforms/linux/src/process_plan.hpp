// The container process's credentials, limits, capabilities, seccomp filter and program, prepared in the
// runtime and applied in the child in runc's order.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "litebox/linux/capabilities.hpp"
#include "litebox/linux/error.hpp"
#include "litebox/linux/process_attributes.hpp"
#include "litebox/linux/process_credentials.hpp"
#include "litebox/linux/rlimits.hpp"
#include "litebox/linux/seccomp_filter.hpp"
#include "oci/spec.hpp"

namespace litebox::linux_host::detail {

struct ProcessPlan {
  std::vector<RlimitSetting> rlimits;
  CapabilityPlan capabilities;
  UserPlan user;
  bool no_new_privileges = false;
  std::optional<int> oom_score_adj;
  std::optional<PersonalitySetting> personality;
  std::optional<int> io_priority;
  std::optional<SchedulerSetting> scheduler;
  std::optional<SeccompProgram> seccomp;
  SeccompLoadPoint seccomp_at = SeccompLoadPoint::before_user_switch;
  std::string seccomp_state_json;  // what a listenerPath receives with the listener
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::string path_variable;  // the container's PATH, for finding args[0]
  std::string executable;     // args[0] found in the container (resolve_program)
};

// Prepared in the runtime from the spec's process (and, for the seccomp filter, linux.seccomp): every name
// translated, every value checked.
Expected<ProcessPlan> plan_process(const oci::Spec& spec);

// In the child, before it parks on the exec FIFO: rlimits, no_new_privs, capabilities and user, and the
// seccomp filter when it must be loaded while privileges are still held.
Status apply_process_before_park(const ProcessPlan& plan);
// In the child, right before execve: the seccomp filter when no_new_privs lets it load last.
Status apply_process_before_exec(const ProcessPlan& plan);
// Finds the program in the container (after the root changed): runc's messages on failure.
Status resolve_program(ProcessPlan& plan);
// execve; returns only on failure.
Error exec_program(const ProcessPlan& plan);

}  // namespace litebox::linux_host::detail
