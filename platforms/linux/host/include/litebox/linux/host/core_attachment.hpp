// Puts a container's processes under the LiteBox core: whether the core serves a container (the shim's
// options, overridden by the container's annotations) and the core channel each process sends its seccomp
// listener over.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "litebox/linux/core/core_filter.hpp"
#include "litebox/linux/core/core_service.hpp"
#include "litebox/linux/error.hpp"

namespace litebox::linux_host {

inline constexpr const char* kCoreAnnotation = "org.litebox.core";
inline constexpr const char* kCoreBudgetAnnotation = "org.litebox.core.descriptor-budget";

struct CoreDefaults {
  bool enabled = true;
  std::size_t descriptor_budget = 0;
};

// A descriptor budget as the options, the annotation and the serving process's -core-budget give it: a decimal
// number from 0 (no budget) to 1048576. Error EINVAL naming `what` otherwise.
linux_host::Expected<std::size_t> parse_descriptor_budget(std::string_view text, std::string_view what);

// The core's policy for a container with these annotations, or nullopt when the core is off for it.
// Errors: an annotation with a value other than on/off or a number.
linux_host::Expected<std::optional<linux_host::core::ContainerCorePolicy>> core_policy_for(
    const CoreDefaults& defaults, const std::map<std::string, std::string>& annotations);

// What the container's filter stops: with a descriptor budget, the object-creating calls too (so the budget
// can refuse them).
linux_host::core::CoreFilterScope filter_scope(const linux_host::core::ContainerCorePolicy& policy);

// A process's core channel: the end the runtime hands to the process, and ours, which the core watches.
class CoreChannel {
 public:
  static linux_host::Expected<CoreChannel> open(
      linux_host::core::CoreFilterScope scope = linux_host::core::CoreFilterScope::opens);
  CoreChannel(CoreChannel&& other) noexcept;
  CoreChannel& operator=(CoreChannel&&) = delete;
  ~CoreChannel();
  int process_end() const { return theirs_; }
  // What the process's filter is to stop (the runtime compiles it).
  linux_host::core::CoreFilterScope scope() const { return scope_; }
  // Before the runtime makes the process: the core takes our end and serves the listener that arrives on it
  // (the process may need the core's answers before the runtime call returns: an exec'd process may open
  // files under the filter). The process's end stays ours until this object dies.
  linux_host::Status hand_to(linux_host::core::CoreService& core, const std::string& id);

 private:
  CoreChannel(int ours, int theirs, linux_host::core::CoreFilterScope scope)
      : ours_(ours), theirs_(theirs), scope_(scope) {}
  int ours_ = -1;
  int theirs_ = -1;
  linux_host::core::CoreFilterScope scope_;
};

}  // namespace litebox::linux_host
