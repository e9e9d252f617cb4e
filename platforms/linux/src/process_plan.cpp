#include "process_plan.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include "litebox/linux/executable_lookup.hpp"
#include "litebox/linux/seccomp_listener.hpp"

namespace litebox::linux_host::detail {
namespace {

Status load_seccomp(const ProcessPlan& plan) {
  auto listener = load_seccomp_program(*plan.seccomp);
  if (!listener) return std::move(listener).error().context("load seccomp filter");
  if (listener.value() >= 0 && !plan.seccomp->listener_path.empty()) {
    auto sent = send_seccomp_listener(plan.seccomp->listener_path, plan.seccomp_state_json, listener.value());
    ::close(listener.value());
    if (!sent) return std::move(sent).error().context("seccomp listenerPath");
  }
  return {};
}

}  // namespace

Expected<ProcessPlan> plan_process(const oci::Spec& spec) {
  const oci::Process& process = *spec.process;
  ProcessPlan plan;
  if (process.args.empty()) return Error{EINVAL, "process.args must not be empty"};
  plan.args = process.args;
  plan.env = process.env;
  plan.path_variable = container_path_variable(process.env);

  auto rlimits = make_rlimit_settings(process.rlimits);
  if (!rlimits) return std::move(rlimits).error();
  plan.rlimits = std::move(rlimits.value());

  auto last_cap = read_cap_last_cap();
  if (!last_cap) return std::move(last_cap).error();
  auto caps = make_capability_plan(process.capabilities, last_cap.value());
  if (!caps) return std::move(caps).error();
  plan.capabilities = std::move(caps.value());
  for (const auto& note : plan.capabilities.notes) spdlog::info("capabilities: {}", note);

  auto user = make_user_plan(process.user);
  if (!user) return std::move(user).error();
  plan.user = std::move(user.value());

  plan.no_new_privileges = process.no_new_privileges;
  plan.oom_score_adj = process.oom_score_adj;
  if (process.io_priority) {
    auto prio = make_io_priority(*process.io_priority);
    if (!prio) return std::move(prio).error();
    plan.io_priority = prio.value();
  }
  if (process.scheduler) {
    auto sched = make_scheduler_setting(*process.scheduler);
    if (!sched) return std::move(sched).error();
    plan.scheduler = sched.value();
  }
  if (spec.linux_config) {
    if (spec.linux_config->personality) {
      auto persona = make_personality_setting(*spec.linux_config->personality);
      if (!persona) return std::move(persona).error();
      for (const auto& note : persona.value().notes) spdlog::info("personality: {}", note);
      plan.personality = std::move(persona.value());
    }
    if (spec.linux_config->seccomp) {
      auto program = compile_seccomp_filter(*spec.linux_config->seccomp);
      if (!program) return std::move(program).error();
      for (const auto& note : program.value().notes) spdlog::info("seccomp: {}", note);
      plan.seccomp = std::move(program.value());
      plan.seccomp_at = seccomp_load_point(plan.no_new_privileges);
    }
  }
  return plan;
}

Status apply_process_before_park(const ProcessPlan& plan) {
  if (plan.oom_score_adj) {
    if (auto st = apply_oom_score_adj(*plan.oom_score_adj); !st) return st;
  }
  if (auto st = apply_rlimits(plan.rlimits); !st) return st;
  if (plan.personality) {
    if (auto st = apply_personality(*plan.personality); !st) return st;
  }
  if (plan.io_priority) {
    if (auto st = apply_io_priority(*plan.io_priority); !st) return st;
  }
  if (plan.scheduler) {
    if (auto st = apply_scheduler(*plan.scheduler); !st) return st;
  }
  if (plan.no_new_privileges) {
    if (auto st = set_no_new_privileges(); !st) return st;
  }
  if (plan.seccomp && plan.seccomp_at == SeccompLoadPoint::before_user_switch) {
    if (auto st = load_seccomp(plan); !st) return st;
  }
  // runc's order: bounding set while CAP_SETPCAP is held, keep the permitted set across the uid switch,
  // then the five sets.
  if (auto st = drop_bounding_set(plan.capabilities); !st) return st;
  if (auto st = fix_stdio_ownership(plan.user.uid); !st) return st;
  if (auto st = set_keep_capabilities(true); !st) return st;
  if (auto st = switch_user(plan.user); !st) return st;
  if (auto st = set_keep_capabilities(false); !st) return st;
  if (auto st = apply_capability_sets(plan.capabilities); !st) return st;
  apply_umask(plan.user);
  return {};
}

Status apply_process_before_exec(const ProcessPlan& plan) {
  if (plan.seccomp && plan.seccomp_at == SeccompLoadPoint::just_before_exec) return load_seccomp(plan);
  return {};
}

Status resolve_program(ProcessPlan& plan) {
  auto found = find_executable(plan.args.front(), plan.path_variable);
  if (!found) return std::move(found).error();
  plan.executable = std::move(found.value());
  return {};
}

Error exec_program(const ProcessPlan& plan) { return execute(plan.executable, plan.args, plan.env); }

}  // namespace litebox::linux_host::detail
