// The smaller per-process settings of the spec: noNewPrivileges, oomScoreAdj, linux.personality, ioPriority,
// scheduler and linux.memoryPolicy. Each is translated and checked in the parent and applied in the child.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "litebox/linux/error.hpp"
#include "oci/linux.hpp"
#include "oci/process.hpp"

namespace litebox::linux_host {

// personality(2)'s persona: PER_LINUX or PER_LINUX32.
struct PersonalitySetting {
  unsigned long persona = 0;
  std::vector<std::string> notes;  // flags are not defined by the spec: ignored with a note
};
// Unknown domain -> `unknown personality domain "FOO"`.
Expected<PersonalitySetting> make_personality_setting(const oci::Personality& personality);

// ioprio_set(2)'s value: class << 13 | level.
Expected<int> make_io_priority(const oci::IoPriority& io_priority);

// sched_setattr(2)'s parameters.
struct SchedulerSetting {
  std::uint32_t policy = 0;  // SCHED_*
  std::uint64_t flags = 0;   // SCHED_FLAG_*
  std::int32_t nice = 0;
  std::uint32_t priority = 0;
  std::uint64_t runtime = 0;
  std::uint64_t deadline = 0;
  std::uint64_t period = 0;
};
// runc's names and checks: unknown policy or flag, nice outside -20..19, a priority for a policy other than
// SCHED_FIFO / SCHED_RR (or outside 1..99 for them) are errors.
Expected<SchedulerSetting> make_scheduler_setting(const oci::Scheduler& scheduler);

// set_mempolicy(2)'s arguments (linux.memoryPolicy, runtime-spec 1.3.0).
struct MemoryPolicySetting {
  int mode = 0;                         // MPOL_* | MPOL_F_* (linux/mempolicy.h values)
  std::vector<unsigned long> nodemask;  // bit n of the array = node n; empty: no nodes
  unsigned long maxnode = 0;            // as the kernel reads it: it uses maxnode - 1 bits of nodemask
  std::string request;                  // what was asked, for the child's error: `MPOL_BIND nodes "0-1"`
};
// runc's names: an unknown mode or flag, a node list that does not parse ("0-3,7"; spaces around items are
// allowed) or a node beyond what set_mempolicy(2) can name are errors. Which modes take nodes is left to the
// kernel (and to oci::validate, which reports it with the member's pointer).
Expected<MemoryPolicySetting> make_memory_policy_setting(const oci::MemoryPolicy& policy);

// ---- Child side (after fork; no logging, no locks) ----

Status set_no_new_privileges();                              // prctl(PR_SET_NO_NEW_PRIVS, 1)
Status apply_oom_score_adj(int score);                       // /proc/self/oom_score_adj
Status apply_personality(const PersonalitySetting& setting);  // personality(2)
Status apply_io_priority(int value);                         // ioprio_set(IOPRIO_WHO_PROCESS, 0, value)
Status apply_scheduler(const SchedulerSetting& setting);     // sched_setattr(0, ..., 0)
// set_mempolicy(mode | flags, nodemask, maxnode); the error names the errno and what was asked.
Status apply_memory_policy(const MemoryPolicySetting& setting);

}  // namespace litebox::linux_host
