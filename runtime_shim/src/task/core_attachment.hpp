// Puts a container's processes under the LiteBox core: whether the core serves a container (the shim's
// options, overridden by the container's annotations) and the core channel each process sends its seccomp
// listener over.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "litebox/linux/core/core_service.hpp"
#include "litebox/linux/error.hpp"

namespace litebox::shim {

inline constexpr const char* kCoreAnnotation = "org.litebox.core";
inline constexpr const char* kCoreBudgetAnnotation = "org.litebox.core.descriptor-budget";

struct CoreDefaults {
  bool enabled = true;
  std::size_t descriptor_budget = 0;
};

// The core's policy for a container with these annotations, or nullopt when the core is off for it.
// Errors: an annotation with a value other than on/off or a number.
linux_host::Expected<std::optional<linux_host::core::ContainerCorePolicy>> core_policy_for(
    const CoreDefaults& defaults, const std::map<std::string, std::string>& annotations);

// A process's core channel: the end the runtime hands to the process, and ours, which the core watches.
class CoreChannel {
 public:
  static linux_host::Expected<CoreChannel> open();
  CoreChannel(CoreChannel&& other) noexcept;
  CoreChannel& operator=(CoreChannel&&) = delete;
  ~CoreChannel();
  int process_end() const { return theirs_; }
  // Before the runtime makes the process: the core takes our end and serves the listener that arrives on it
  // (the process may need the core's answers before the runtime call returns: an exec'd process makes its
  // set-up calls under the filter). The process's end stays ours until this object dies.
  linux_host::Status hand_to(linux_host::core::CoreService& core, const std::string& id);

 private:
  CoreChannel(int ours, int theirs) : ours_(ours), theirs_(theirs) {}
  int ours_ = -1;
  int theirs_ = -1;
};

}  // namespace litebox::shim
