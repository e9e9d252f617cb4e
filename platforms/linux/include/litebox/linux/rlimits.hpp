// The spec's `process.rlimits`: "RLIMIT_*" names translated in the parent, limits set in the child
// (setrlimit) or by the parent on the child (prlimit, as runc does before the child enters a user namespace).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "litebox/linux/error.hpp"
#include "oci/process.hpp"

namespace litebox::linux_host {

struct RlimitSetting {
  int resource = 0;  // RLIMIT_*
  std::string name;  // "RLIMIT_NOFILE", for messages
  std::uint64_t soft = 0;
  std::uint64_t hard = 0;  // 2^64-1 is RLIM_INFINITY
};

// The RLIMIT_* number of a name (all sixteen of Linux), if any.
std::optional<int> rlimit_resource(std::string_view name);

// Parent side. An unknown type is an error (`unknown rlimit type "RLIMIT_FOO"`), as is soft > hard and a type
// given twice.
Expected<std::vector<RlimitSetting>> make_rlimit_settings(const std::vector<oci::Rlimit>& rlimits);

// Child side: setrlimit(2) on the calling process. Raising a hard limit needs CAP_SYS_RESOURCE.
Status apply_rlimits(const std::vector<RlimitSetting>& settings);

// Parent side: prlimit(2) on `pid`.
Status apply_rlimits_to(pid_t pid, const std::vector<RlimitSetting>& settings);

}  // namespace litebox::linux_host
