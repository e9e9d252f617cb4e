#include "litebox/linux/process_attributes.hpp"

#include <fcntl.h>
#include <linux/ioprio.h>
#include <sched.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <string>
#include <string_view>
#include <utility>

#include "child_safe_error.hpp"

namespace litebox::linux_host {
namespace {

// linux/sched/types.h's struct sched_attr (SCHED_ATTR_SIZE_VER0): that header clashes with <sched.h>, and
// glibc 2.36 has no sched_setattr.
struct KernelSchedAttr {
  std::uint32_t size;
  std::uint32_t sched_policy;
  std::uint64_t sched_flags;
  std::int32_t sched_nice;
  std::uint32_t sched_priority;
  std::uint64_t sched_runtime;
  std::uint64_t sched_deadline;
  std::uint64_t sched_period;
};
static_assert(sizeof(KernelSchedAttr) == 48, "SCHED_ATTR_SIZE_VER0");

template <typename Value>
struct Named {
  std::string_view name;
  Value value;
};

// linux/sched.h values (SCHED_ISO is reserved by the kernel and refused by it).
constexpr std::array<Named<std::uint32_t>, 7> kSchedulerPolicies = {{
    {"SCHED_OTHER", 0},
    {"SCHED_FIFO", 1},
    {"SCHED_RR", 2},
    {"SCHED_BATCH", 3},
    {"SCHED_ISO", 4},
    {"SCHED_IDLE", 5},
    {"SCHED_DEADLINE", 6},
}};

constexpr std::array<Named<std::uint64_t>, 7> kSchedulerFlags = {{
    {"SCHED_FLAG_RESET_ON_FORK", 0x01},
    {"SCHED_FLAG_RECLAIM", 0x02},
    {"SCHED_FLAG_DL_OVERRUN", 0x04},
    {"SCHED_FLAG_KEEP_POLICY", 0x08},
    {"SCHED_FLAG_KEEP_PARAMS", 0x10},
    {"SCHED_FLAG_UTIL_CLAMP_MIN", 0x20},
    {"SCHED_FLAG_UTIL_CLAMP_MAX", 0x40},
}};

constexpr std::array<Named<int>, 3> kIoPriorityClasses = {{
    {"IOPRIO_CLASS_RT", IOPRIO_CLASS_RT},
    {"IOPRIO_CLASS_BE", IOPRIO_CLASS_BE},
    {"IOPRIO_CLASS_IDLE", IOPRIO_CLASS_IDLE},
}};

// linux/mempolicy.h values, defined here: MPOL_WEIGHTED_INTERLEAVE (Linux 6.9) is newer than the headers of
// some build machines, and the kernel, not the headers, decides what is accepted.
constexpr std::array<Named<int>, 7> kMemoryPolicyModes = {{
    {"MPOL_DEFAULT", 0},
    {"MPOL_PREFERRED", 1},
    {"MPOL_BIND", 2},
    {"MPOL_INTERLEAVE", 3},
    {"MPOL_LOCAL", 4},
    {"MPOL_PREFERRED_MANY", 5},
    {"MPOL_WEIGHTED_INTERLEAVE", 6},
}};

constexpr std::array<Named<int>, 3> kMemoryPolicyFlags = {{
    {"MPOL_F_STATIC_NODES", 1 << 15},
    {"MPOL_F_RELATIVE_NODES", 1 << 14},
    {"MPOL_F_NUMA_BALANCING", 1 << 13},
}};

constexpr unsigned kBitsPerWord = sizeof(unsigned long) * 8;

template <typename Value, std::size_t N>
std::optional<Value> find_named(const std::array<Named<Value>, N>& table, std::string_view name) {
  for (const Named<Value>& entry : table) {
    if (entry.name == name) {
      return entry.value;
    }
  }
  return std::nullopt;
}

std::string_view trim_spaces(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  return text;
}

// A decimal node number no larger than `max_node`.
std::optional<unsigned long> parse_node(std::string_view digits, unsigned long max_node) {
  if (digits.empty()) return std::nullopt;
  unsigned long value = 0;
  for (const char ch : digits) {
    if (ch < '0' || ch > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned long>(ch - '0');
    if (value > max_node) return max_node + 1;  // reported as too large, whatever the remaining digits
  }
  return value;
}

}  // namespace

Expected<MemoryPolicySetting> make_memory_policy_setting(const oci::MemoryPolicy& policy) {
  MemoryPolicySetting setting;
  std::optional<int> mode = find_named(kMemoryPolicyModes, policy.mode);
  if (!mode) {
    return Error{EINVAL, "unknown memory policy mode \"" + policy.mode + "\""};
  }
  setting.mode = *mode;
  setting.request = policy.mode;
  for (const std::string& flag : policy.flags) {
    std::optional<int> value = find_named(kMemoryPolicyFlags, flag);
    if (!value) {
      return Error{EINVAL, "unknown memory policy flag \"" + flag + "\""};
    }
    setting.mode |= *value;
    setting.request += "|" + flag;
  }
  setting.request += " nodes \"" + policy.nodes + "\"";
  if (policy.nodes.empty()) return setting;

  // The kernel reads at most a page of node bits (get_nodes: maxnode - 1 <= PAGE_SIZE * 8).
  const long page = ::sysconf(_SC_PAGESIZE);
  const unsigned long max_node = static_cast<unsigned long>(page > 0 ? page : 4096) * 8 - 1;
  const auto bad_list = [&policy](const std::string& why) {
    return Error{EINVAL, "memory policy nodes \"" + policy.nodes + "\": " + why};
  };
  std::string_view rest = policy.nodes;
  while (true) {
    const std::size_t comma = rest.find(',');
    const std::string_view item = trim_spaces(rest.substr(0, comma));
    const std::size_t dash = item.find('-');
    const std::optional<unsigned long> low = parse_node(item.substr(0, dash), max_node);
    const std::optional<unsigned long> high =
        dash == std::string_view::npos ? low : parse_node(item.substr(dash + 1), max_node);
    if (!low || !high || *low > *high) {
      return bad_list("\"" + std::string(item) + "\" is not a node or a range of nodes such as \"0-3\"");
    }
    if (*high > max_node) {
      return bad_list("nodes above " + std::to_string(max_node) + " cannot be given to set_mempolicy(2)");
    }
    const std::size_t words = *high / kBitsPerWord + 1;
    if (setting.nodemask.size() < words) setting.nodemask.resize(words, 0);
    for (unsigned long node = *low; node <= *high; ++node) {
      setting.nodemask[node / kBitsPerWord] |= 1UL << (node % kBitsPerWord);
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  setting.maxnode = setting.nodemask.size() * kBitsPerWord + 1;
  return setting;
}

Expected<PersonalitySetting> make_personality_setting(const oci::Personality& personality) {
  PersonalitySetting setting;
  if (personality.domain == "LINUX") {
    setting.persona = PER_LINUX;
  } else if (personality.domain == "LINUX32") {
    setting.persona = PER_LINUX32;
  } else {
    return Error{EINVAL, "unknown personality domain \"" + personality.domain + "\" (LINUX or LINUX32)"};
  }
  for (const std::string& flag : personality.flags) {
    setting.notes.push_back("personality flag \"" + flag + "\" is not defined by the runtime spec; ignored");
  }
  return setting;
}

Expected<int> make_io_priority(const oci::IoPriority& io_priority) {
  std::optional<int> io_class = find_named(kIoPriorityClasses, io_priority.io_class);
  if (!io_class) {
    return Error{EINVAL, "unknown io priority class \"" + io_priority.io_class + "\""};
  }
  if (io_priority.priority < 0 || io_priority.priority > 7) {
    return Error{EINVAL, "io priority " + std::to_string(io_priority.priority) + " is outside 0..7"};
  }
  return static_cast<int>(IOPRIO_PRIO_VALUE(*io_class, io_priority.priority));
}

Expected<SchedulerSetting> make_scheduler_setting(const oci::Scheduler& scheduler) {
  SchedulerSetting setting;
  std::optional<std::uint32_t> policy = find_named(kSchedulerPolicies, scheduler.policy);
  if (!policy) {
    return Error{EINVAL, "unknown scheduler policy \"" + scheduler.policy + "\""};
  }
  setting.policy = *policy;
  for (const std::string& flag : scheduler.flags) {
    std::optional<std::uint64_t> value = find_named(kSchedulerFlags, flag);
    if (!value) {
      return Error{EINVAL, "unknown scheduler flag \"" + flag + "\""};
    }
    setting.flags |= *value;
  }
  if (scheduler.nice) {
    if (*scheduler.nice < -20 || *scheduler.nice > 19) {
      return Error{EINVAL, "scheduler nice " + std::to_string(*scheduler.nice) + " is outside -20..19"};
    }
    setting.nice = *scheduler.nice;
  }
  const bool realtime = scheduler.policy == "SCHED_FIFO" || scheduler.policy == "SCHED_RR";
  if (scheduler.priority && *scheduler.priority != 0) {
    if (!realtime) {
      return Error{EINVAL, "scheduler priority is only for SCHED_FIFO and SCHED_RR, not " + scheduler.policy};
    }
    if (*scheduler.priority < 1 || *scheduler.priority > 99) {
      return Error{EINVAL, "scheduler priority " + std::to_string(*scheduler.priority) + " is outside 1..99"};
    }
    setting.priority = static_cast<std::uint32_t>(*scheduler.priority);
  } else if (realtime) {
    return Error{EINVAL, scheduler.policy + " needs a priority in 1..99"};
  }
  setting.runtime = scheduler.runtime.value_or(0);
  setting.deadline = scheduler.deadline.value_or(0);
  setting.period = scheduler.period.value_or(0);
  return setting;
}

Status set_no_new_privileges() {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1UL, 0UL, 0UL, 0UL) != 0) {
    return detail::child_error("prctl(PR_SET_NO_NEW_PRIVS)", errno);
  }
  return {};
}

Status apply_oom_score_adj(int score) {
  int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    return detail::child_error("open /proc/self/oom_score_adj", errno);
  }
  std::string text = std::to_string(score);
  ssize_t written = write(fd, text.data(), text.size());
  int error = errno;
  close(fd);
  if (written != static_cast<ssize_t>(text.size())) {
    return detail::child_error("write " + text + " to /proc/self/oom_score_adj", written < 0 ? error : EIO);
  }
  return {};
}

Status apply_personality(const PersonalitySetting& setting) {
  if (personality(setting.persona) == -1) {
    return detail::child_error("personality(" + std::to_string(setting.persona) + ")", errno);
  }
  return {};
}

Status apply_io_priority(int value) {
  if (syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, value) != 0) {
    return detail::child_error("ioprio_set(" + std::to_string(value) + ")", errno);
  }
  return {};
}

Status apply_memory_policy(const MemoryPolicySetting& setting) {
  const unsigned long* nodemask = setting.nodemask.empty() ? nullptr : setting.nodemask.data();
  if (syscall(SYS_set_mempolicy, setting.mode, nodemask, setting.maxnode) != 0) {
    const int error = errno;
    std::string message = "set_mempolicy " + setting.request + ": " + detail::errno_text(error);
    if (error == EINVAL) {
      message += " (a node that does not exist, is offline or is outside the container's cpuset, or a mode, "
                 "node and flag combination set_mempolicy(2) refuses)";
    }
    return Error{error, std::move(message)};
  }
  return {};
}

Status apply_scheduler(const SchedulerSetting& setting) {
  KernelSchedAttr attributes{};
  attributes.size = sizeof(attributes);
  attributes.sched_policy = setting.policy;
  attributes.sched_flags = setting.flags;
  attributes.sched_nice = setting.nice;
  attributes.sched_priority = setting.priority;
  attributes.sched_runtime = setting.runtime;
  attributes.sched_deadline = setting.deadline;
  attributes.sched_period = setting.period;
  if (syscall(SYS_sched_setattr, 0, &attributes, 0) != 0) {
    return detail::child_error("sched_setattr (policy " + std::to_string(setting.policy) + ")", errno);
  }
  return {};
}

}  // namespace litebox::linux_host
