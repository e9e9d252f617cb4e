// validate(): the rules for "process".
#include <map>

#include "checker.hpp"

namespace oci::detail {

namespace {

bool is_capability_name(std::string_view name) {
  if (name.size() <= 4 || name.substr(0, 4) != "CAP_") return false;
  for (const char ch : name.substr(4)) {
    if (!((ch >= 'A' && ch <= 'Z') || ch == '_')) return false;
  }
  return true;
}

void check_capability_set(const std::vector<std::string>& set, const std::string& ptr, Checker& c) {
  for (std::size_t i = 0; i < set.size(); ++i) {
    if (!is_capability_name(set[i])) {
      c.error(at(ptr, i), quoted(set[i]) + " is not a capability name (CAP_ followed by upper-case letters and _)");
    } else if (!known::contains(known::capabilities(), set[i])) {
      c.warning(at(ptr, i), "unknown capability " + quoted(set[i]) + " will not be granted");
    }
  }
}

void check_rlimits(const std::vector<Rlimit>& rlimits, Checker& c) {
  std::map<std::string, std::size_t> seen;
  for (std::size_t i = 0; i < rlimits.size(); ++i) {
    const Rlimit& r = rlimits[i];
    const std::string ptr = at("/process/rlimits", i);
    if (!known::contains(known::rlimit_types(), r.type)) {
      c.error(at(ptr, "type"), "unknown rlimit type " + quoted(r.type) + " (expected one of " +
                                   one_of(known::rlimit_types()) + ")");
    } else if (auto [it, inserted] = seen.emplace(r.type, i); !inserted) {
      c.error(at(ptr, "type"), "duplicate rlimit type " + quoted(r.type) + " (also at " +
                                   at("/process/rlimits", it->second) + ")");
    }
    if (r.soft > r.hard) {
      c.error(ptr, "soft limit " + std::to_string(r.soft) + " is above the hard limit " + std::to_string(r.hard));
    }
  }
}

void check_scheduler(const Scheduler& s, Checker& c) {
  const std::string ptr = "/process/scheduler";
  if (!known::contains(known::scheduler_policies(), s.policy)) {
    c.error(at(ptr, "policy"), "unknown scheduling policy " + quoted(s.policy) + " (expected one of " +
                                   one_of(known::scheduler_policies()) + ")");
  }
  if (s.nice && (*s.nice < -20 || *s.nice > 19)) {
    c.error(at(ptr, "nice"), "must be between -20 and 19, got " + std::to_string(*s.nice));
  }
  const bool realtime = s.policy == "SCHED_FIFO" || s.policy == "SCHED_RR";
  if (s.priority) {
    if (realtime && (*s.priority < 1 || *s.priority > 99)) {
      c.error(at(ptr, "priority"), "must be between 1 and 99 for " + s.policy + ", got " + std::to_string(*s.priority));
    } else if (!realtime && *s.priority != 0) {
      c.error(at(ptr, "priority"), "must be 0 unless the policy is SCHED_FIFO or SCHED_RR, got " +
                                       std::to_string(*s.priority));
    }
  }
  for (std::size_t i = 0; i < s.flags.size(); ++i) {
    if (!known::contains(known::scheduler_flags(), s.flags[i])) {
      c.error(at(at(ptr, "flags"), i), "unknown scheduler flag " + quoted(s.flags[i]) + " (expected one of " +
                                           one_of(known::scheduler_flags()) + ")");
    }
  }
  if (s.policy != "SCHED_DEADLINE") {
    if (s.runtime) c.error(at(ptr, "runtime"), "is only valid with policy SCHED_DEADLINE");
    if (s.deadline) c.error(at(ptr, "deadline"), "is only valid with policy SCHED_DEADLINE");
    if (s.period) c.error(at(ptr, "period"), "is only valid with policy SCHED_DEADLINE");
  } else if (s.runtime && s.deadline && *s.runtime > *s.deadline) {
    c.error(at(ptr, "runtime"), "must not exceed the deadline (" + std::to_string(*s.runtime) + " > " +
                                    std::to_string(*s.deadline) + ")");
  } else if (s.deadline && s.period && *s.period != 0 && *s.deadline > *s.period) {
    c.error(at(ptr, "deadline"), "must not exceed the period (" + std::to_string(*s.deadline) + " > " +
                                     std::to_string(*s.period) + ")");
  }
}

}  // namespace

void check_process(const Process& p, Checker& c) {
  if (c.windows()) {
    if (p.args.empty() && p.command_line.empty()) {
      c.error("/process/args", "must be a non-empty array of strings (or set /process/commandLine)");
    }
  } else if (p.args.empty()) {
    c.error("/process/args", "must be a non-empty array of strings");
  } else if (p.args.front().empty()) {
    c.error("/process/args/0", "must name the program to run, got an empty string");
  }
  if (p.cwd.empty()) c.error("/process/cwd", "must be an absolute path, got an empty string");
  else check_absolute(p.cwd, "/process/cwd", c);
  check_env(p.env, "/process/env", c);
  if (p.user.umask && *p.user.umask > 0777) {
    c.error("/process/user/umask", "must be at most 0777 (511), got " + std::to_string(*p.user.umask));
  }
  if (p.capabilities) {
    check_capability_set(p.capabilities->bounding, "/process/capabilities/bounding", c);
    check_capability_set(p.capabilities->effective, "/process/capabilities/effective", c);
    check_capability_set(p.capabilities->inheritable, "/process/capabilities/inheritable", c);
    check_capability_set(p.capabilities->permitted, "/process/capabilities/permitted", c);
    check_capability_set(p.capabilities->ambient, "/process/capabilities/ambient", c);
  }
  check_rlimits(p.rlimits, c);
  if (p.oom_score_adj && (*p.oom_score_adj < -1000 || *p.oom_score_adj > 1000)) {
    c.error("/process/oomScoreAdj", "must be between -1000 and 1000, got " + std::to_string(*p.oom_score_adj));
  }
  if (p.io_priority) {
    if (!known::contains(known::io_priority_classes(), p.io_priority->io_class)) {
      c.error("/process/ioPriority/class", "unknown I/O priority class " + quoted(p.io_priority->io_class) +
                                               " (expected one of " + one_of(known::io_priority_classes()) + ")");
    }
    if (p.io_priority->priority < 0 || p.io_priority->priority > 7) {
      c.error("/process/ioPriority/priority",
              "must be between 0 (highest) and 7 (lowest), got " + std::to_string(p.io_priority->priority));
    }
  }
  if (p.scheduler) check_scheduler(*p.scheduler, c);
  if (p.exec_cpu_affinity) {
    if (!p.exec_cpu_affinity->initial.empty() && !is_cpu_list(p.exec_cpu_affinity->initial)) {
      c.error("/process/execCPUAffinity/initial",
              "must be a CPU list such as \"0-3,7\", got " + quoted(p.exec_cpu_affinity->initial));
    }
    if (!p.exec_cpu_affinity->final.empty() && !is_cpu_list(p.exec_cpu_affinity->final)) {
      c.error("/process/execCPUAffinity/final",
              "must be a CPU list such as \"0-3,7\", got " + quoted(p.exec_cpu_affinity->final));
    }
  }
}

}  // namespace oci::detail
