#include "litebox/linux/process_setup.hpp"

#include <unistd.h>

#include <cerrno>
#include <utility>

#include "litebox/linux/core/core_filter.hpp"
#include "litebox/linux/executable_lookup.hpp"

namespace litebox::linux_host {
namespace {

template <typename T>
void append_notes(std::vector<std::string>& to, const std::vector<T>& from) {
  to.insert(to.end(), from.begin(), from.end());
}

}  // namespace

Expected<ProcessPlan> make_process_plan(const oci::Process& process, const std::optional<oci::Seccomp>& seccomp,
                                        const std::optional<oci::Personality>& personality,
                                        const std::optional<oci::MemoryPolicy>& memory_policy) {
  ProcessPlan plan;
  plan.no_new_privileges = process.no_new_privileges;
  plan.oom_score_adj = process.oom_score_adj;
  plan.args = process.args;
  plan.env = process.env;
  plan.path_variable = container_path_variable(process.env);

  Expected<std::vector<RlimitSetting>> rlimits = make_rlimit_settings(process.rlimits);
  if (!rlimits) {
    return std::move(rlimits).error();
  }
  plan.rlimits = std::move(rlimits).value();

  if (personality) {
    Expected<PersonalitySetting> setting = make_personality_setting(*personality);
    if (!setting) {
      return std::move(setting).error();
    }
    append_notes(plan.notes, setting.value().notes);
    plan.personality = std::move(setting).value();
  }
  if (process.io_priority) {
    Expected<int> value = make_io_priority(*process.io_priority);
    if (!value) {
      return std::move(value).error();
    }
    plan.io_priority = value.value();
  }
  if (process.scheduler) {
    Expected<SchedulerSetting> setting = make_scheduler_setting(*process.scheduler);
    if (!setting) {
      return std::move(setting).error();
    }
    plan.scheduler = setting.value();
  }
  if (memory_policy) {
    Expected<MemoryPolicySetting> setting = make_memory_policy_setting(*memory_policy);
    if (!setting) {
      return std::move(setting).error();
    }
    plan.memory_policy = std::move(setting).value();
  }

  Expected<int> last_cap = read_cap_last_cap();
  if (!last_cap) {
    return std::move(last_cap).error();
  }
  Expected<CapabilityPlan> capabilities = make_capability_plan(process.capabilities, last_cap.value());
  if (!capabilities) {
    return std::move(capabilities).error();
  }
  plan.capabilities = std::move(capabilities).value();
  append_notes(plan.notes, plan.capabilities.notes);

  Expected<UserPlan> user = make_user_plan(process.user);
  if (!user) {
    return std::move(user).error();
  }
  plan.user = std::move(user).value();

  if (seccomp) {
    Expected<SeccompProgram> program = compile_seccomp_filter(*seccomp);
    if (!program) {
      return std::move(program).error();
    }
    append_notes(plan.notes, program.value().notes);
    plan.seccomp = std::move(program).value();
  }
  return plan;
}

Expected<ProcessSetupResult> apply_process_plan(const ProcessPlan& plan, const ProcessSetupOptions& options) {
  ProcessSetupResult result;
  // Any failure after the listener exists must not leak it.
  auto fail = [&result](Error error, const char* step) -> Expected<ProcessSetupResult> {
    if (result.seccomp_listener_fd >= 0) {
      close(result.seccomp_listener_fd);
    }
    return std::move(error.context(step));
  };
  auto load_seccomp = [&]() -> Status {
    Expected<int> fd = load_seccomp_program(*plan.seccomp);
    if (!fd) {
      return std::move(fd).error();
    }
    result.seccomp_listener_fd = fd.value();
    return {};
  };
  const bool seccomp_early =
      plan.seccomp && seccomp_load_point(plan.no_new_privileges) == SeccompLoadPoint::before_user_switch;
  const bool core_early = options.core_program != nullptr &&
                          seccomp_load_point(plan.no_new_privileges) == SeccompLoadPoint::before_user_switch;
  const bool core_late = options.core_program != nullptr && !core_early && options.load_late_seccomp;
  // After the spec's filter (both stack; the stricter action wins). A send failure leaves the filter loaded
  // with no receiver: nothing the filter notifies may follow, and no spec listener can be open then (the
  // kernel refuses a second listener, so the load would have failed).
  auto install_core = [&]() -> Status {
    Status installed = core::install_core_filter(*options.core_program, options.core_channel, options.core_pid);
    result.core_filter_installed = installed.ok();
    return installed;
  };

  if (options.apply_rlimits) {
    if (Status status = apply_rlimits(plan.rlimits); !status) return fail(std::move(status).error(), "set rlimits");
  }
  if (plan.oom_score_adj) {
    if (Status status = apply_oom_score_adj(*plan.oom_score_adj); !status) {
      return fail(std::move(status).error(), "set oom_score_adj");
    }
  }
  if (plan.personality) {
    if (Status status = apply_personality(*plan.personality); !status) {
      return fail(std::move(status).error(), "set personality");
    }
  }
  if (plan.scheduler) {
    if (Status status = apply_scheduler(*plan.scheduler); !status) {
      return fail(std::move(status).error(), "set scheduler");
    }
  }
  if (plan.io_priority) {
    if (Status status = apply_io_priority(*plan.io_priority); !status) {
      return fail(std::move(status).error(), "set io priority");
    }
  }
  if (plan.memory_policy) {
    if (Status status = apply_memory_policy(*plan.memory_policy); !status) {
      return fail(std::move(status).error(), "set memory policy");
    }
  }
  if (plan.no_new_privileges) {
    if (Status status = set_no_new_privileges(); !status) {
      return fail(std::move(status).error(), "set no_new_privs");
    }
  }
  if (seccomp_early) {
    if (Status status = load_seccomp(); !status) return fail(std::move(status).error(), "seccomp");
  }
  if (core_early) {
    if (Status status = install_core(); !status) return fail(std::move(status).error(), "seccomp");
  }
  if (Status status = drop_bounding_set(plan.capabilities); !status) {
    return fail(std::move(status).error(), "apply capabilities");
  }
  if (Status status = set_keep_capabilities(true); !status) {
    return fail(std::move(status).error(), "apply capabilities");
  }
  if (options.fix_stdio_ownership) {
    if (Status status = fix_stdio_ownership(plan.user.uid); !status) {
      return fail(std::move(status).error(), "switch user");
    }
  }
  if (Status status = switch_user(plan.user); !status) return fail(std::move(status).error(), "switch user");
  if (Status status = set_keep_capabilities(false); !status) {
    return fail(std::move(status).error(), "apply capabilities");
  }
  if (Status status = apply_capability_sets(plan.capabilities); !status) {
    return fail(std::move(status).error(), "apply capabilities");
  }
  apply_umask(plan.user);
  if (options.find_executable) {
    if (plan.args.empty()) {
      return fail(Error{EINVAL, "process.args is empty"}, "exec");
    }
    Expected<std::string> executable = find_executable(plan.args.front(), plan.path_variable);
    if (!executable) {
      if (result.seccomp_listener_fd >= 0) {
        close(result.seccomp_listener_fd);
      }
      return std::move(executable).error();  // runc's own wording, unprefixed
    }
    result.executable = std::move(executable).value();
  }
  if (plan.seccomp && !seccomp_early && options.load_late_seccomp) {
    if (Status status = load_seccomp(); !status) return fail(std::move(status).error(), "seccomp");
  }
  if (core_late) {
    if (Status status = install_core(); !status) return fail(std::move(status).error(), "seccomp");
  }
  return result;
}

}  // namespace litebox::linux_host
