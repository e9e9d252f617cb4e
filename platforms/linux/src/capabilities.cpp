#include "litebox/linux/capabilities.hpp"

#include "oci/known_values.hpp"

#include <fcntl.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <fstream>

#include "child_safe_error.hpp"

namespace litebox::linux_host {
namespace {

// The spec's names, listed by the oci model in capability-number order (index = number, linux/capability.h).
const oci::known::Names kCapabilityNames = oci::known::capabilities();

CapabilityMask bit(int number) { return CapabilityMask{1} << number; }

// One set's names -> mask; unknown names fail, names above the kernel's last capability are noted.
Expected<CapabilityMask> mask_of(const std::vector<std::string>& names, std::string_view set_name, int last_cap,
                                 std::vector<std::string>& notes) {
  CapabilityMask mask = 0;
  for (const std::string& name : names) {
    std::optional<int> number = capability_number(name);
    if (!number) {
      return Error{EINVAL, "unknown capability \"" + name + "\" in the " + std::string(set_name) + " set"};
    }
    if (*number > last_cap) {
      notes.push_back("capability " + name + " (" + std::string(set_name) +
                      " set) is not supported by the running kernel (cap_last_cap " + std::to_string(last_cap) +
                      "); skipped");
      continue;
    }
    mask |= bit(*number);
  }
  return mask;
}

std::string hex(CapabilityMask mask) {
  constexpr std::string_view digits = "0123456789abcdef";
  std::string text = "0x";
  for (int shift = 60; shift >= 0; shift -= 4) {
    text += digits[(mask >> shift) & 0xf];
  }
  return text;
}

}  // namespace

std::optional<int> capability_number(std::string_view name) {
  for (std::size_t number = 0; number < kCapabilityNames.size(); ++number) {
    if (kCapabilityNames[number] == name) {
      return static_cast<int>(number);
    }
  }
  return std::nullopt;
}

std::string_view capability_name(int number) {
  if (number < 0 || static_cast<std::size_t>(number) >= kCapabilityNames.size()) {
    return {};
  }
  return kCapabilityNames[static_cast<std::size_t>(number)];
}

Expected<int> read_cap_last_cap() {
  constexpr const char* kPath = "/proc/sys/kernel/cap_last_cap";
  std::ifstream file(kPath);
  int last_cap = -1;
  if (!(file >> last_cap) || last_cap < 0 || last_cap > 63) {
    return Error{EIO, std::string("read ") + kPath + ": not a capability number"};
  }
  return last_cap;
}

Expected<CapabilityPlan> make_capability_plan(const std::optional<oci::Capabilities>& capabilities, int last_cap) {
  CapabilityPlan plan;
  plan.last_cap = last_cap;
  if (!capabilities) {
    return plan;
  }
  struct Set {
    const std::vector<std::string>& names;
    std::string_view name;
    CapabilityMask& mask;
  };
  const std::array<Set, 5> sets = {{
      {capabilities->bounding, "bounding", plan.bounding},
      {capabilities->effective, "effective", plan.effective},
      {capabilities->permitted, "permitted", plan.permitted},
      {capabilities->inheritable, "inheritable", plan.inheritable},
      {capabilities->ambient, "ambient", plan.ambient},
  }};
  for (const Set& set : sets) {
    Expected<CapabilityMask> mask = mask_of(set.names, set.name, last_cap, plan.notes);
    if (!mask) {
      return std::move(mask).error();
    }
    set.mask = mask.value();
  }
  // capset(2) refuses an effective capability that is not permitted: say which one here, not EPERM later.
  for (int number = 0; number <= last_cap; ++number) {
    if ((plan.effective & bit(number)) != 0 && (plan.permitted & bit(number)) == 0) {
      return Error{EINVAL, "capability " + std::string(capability_name(number)) +
                               " is in the effective set but not in the permitted set"};
    }
    // The kernel raises an ambient capability only if it is permitted and inheritable; runc goes on without
    // it, and so do we, visibly.
    if ((plan.ambient & bit(number)) != 0 && (plan.permitted & plan.inheritable & bit(number)) == 0) {
      plan.ambient &= ~bit(number);
      plan.notes.push_back("ambient capability " + std::string(capability_name(number)) +
                           " is not in both the permitted and inheritable sets; skipped");
    }
  }
  return plan;
}

Status drop_bounding_set(const CapabilityPlan& plan) {
  for (int number = 0; number <= plan.last_cap; ++number) {
    if ((plan.bounding & bit(number)) != 0) {
      continue;
    }
    int present = prctl(PR_CAPBSET_READ, static_cast<unsigned long>(number), 0UL, 0UL, 0UL);
    if (present == 0) {
      continue;  // already gone: no CAP_SETPCAP needed
    }
    if (present < 0 && errno == EINVAL) {
      continue;  // the kernel does not know this capability
    }
    if (prctl(PR_CAPBSET_DROP, static_cast<unsigned long>(number), 0UL, 0UL, 0UL) != 0) {
      std::string name(capability_name(number));
      return detail::child_error("drop " + (name.empty() ? std::to_string(number) : name) + " from the bounding set",
                                 errno);
    }
  }
  return {};
}

Status set_keep_capabilities(bool keep) {
  if (prctl(PR_SET_KEEPCAPS, keep ? 1UL : 0UL, 0UL, 0UL, 0UL) != 0) {
    return detail::child_error(keep ? "prctl(PR_SET_KEEPCAPS, 1)" : "prctl(PR_SET_KEEPCAPS, 0)", errno);
  }
  return {};
}

Status apply_capability_sets(const CapabilityPlan& plan) {
  __user_cap_header_struct header{};
  header.version = _LINUX_CAPABILITY_VERSION_3;
  header.pid = 0;
  std::array<__user_cap_data_struct, _LINUX_CAPABILITY_U32S_3> data{};
  for (std::size_t word = 0; word < data.size(); ++word) {
    const unsigned shift = static_cast<unsigned>(32 * word);
    data[word].effective = static_cast<std::uint32_t>(plan.effective >> shift);
    data[word].permitted = static_cast<std::uint32_t>(plan.permitted >> shift);
    data[word].inheritable = static_cast<std::uint32_t>(plan.inheritable >> shift);
  }
  if (syscall(SYS_capset, &header, data.data()) != 0) {
    return detail::child_error("capset (effective " + hex(plan.effective) + ", permitted " + hex(plan.permitted) +
                                   ", inheritable " + hex(plan.inheritable) + ")",
                               errno);
  }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0UL, 0UL, 0UL) != 0) {
    if (errno == EINVAL && plan.ambient == 0) {
      return {};  // kernel before 4.3: no ambient set, and none asked for
    }
    return detail::child_error("clear the ambient capability set", errno);
  }
  for (int number = 0; number <= plan.last_cap; ++number) {
    if ((plan.ambient & bit(number)) == 0) {
      continue;
    }
    // A capability can only be ambient when it is also inheritable and permitted; runc warns and goes on
    // when it is not (`runc spec` lists ambient capabilities without inheritable ones), and so do we.
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, static_cast<unsigned long>(number), 0UL, 0UL) != 0 &&
        errno != EPERM) {
      return detail::child_error("raise ambient capability " + std::string(capability_name(number)), errno);
    }
  }
  return {};
}

}  // namespace litebox::linux_host
