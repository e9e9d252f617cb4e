#include "task/core_attachment.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <charconv>
#include <utility>

namespace litebox::shim {

linux_host::Expected<std::optional<linux_host::core::ContainerCorePolicy>> core_policy_for(
    const CoreDefaults& defaults, const std::map<std::string, std::string>& annotations) {
  bool enabled = defaults.enabled;
  linux_host::core::ContainerCorePolicy policy;
  policy.descriptor_budget = defaults.descriptor_budget;
  if (auto it = annotations.find(kCoreAnnotation); it != annotations.end()) {
    if (it->second == "on") {
      enabled = true;
    } else if (it->second == "off") {
      enabled = false;
    } else {
      return linux_host::Error{EINVAL, std::string("annotation ") + kCoreAnnotation + " must be \"on\" or \"off\", got \"" +
                                           it->second + "\""};
    }
  }
  if (auto it = annotations.find(kCoreBudgetAnnotation); it != annotations.end()) {
    std::size_t budget = 0;
    const auto& text = it->second;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), budget);
    if (ec != std::errc() || end != text.data() + text.size() || budget > (1u << 20)) {
      return linux_host::Error{EINVAL, std::string("annotation ") + kCoreBudgetAnnotation +
                                           " must be a number from 0 to 1048576, got \"" + text + "\""};
    }
    policy.descriptor_budget = budget;
  }
  if (!enabled) return std::optional<linux_host::core::ContainerCorePolicy>{};
  return std::optional<linux_host::core::ContainerCorePolicy>{policy};
}

linux_host::Expected<CoreChannel> CoreChannel::open() {
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
    return linux_host::Error::from_errno("create the LiteBox core's channel");
  }
  return CoreChannel(pair[0], pair[1]);
}

CoreChannel::CoreChannel(CoreChannel&& other) noexcept
    : ours_(std::exchange(other.ours_, -1)), theirs_(std::exchange(other.theirs_, -1)) {}

CoreChannel::~CoreChannel() {
  if (ours_ >= 0) ::close(ours_);
  if (theirs_ >= 0) ::close(theirs_);
}

linux_host::Status CoreChannel::hand_to(linux_host::core::CoreService& core, const std::string& id) {
  auto added = core.add_channel(id, ours_);
  ours_ = -1;  // the core owns it now, whatever the outcome
  return added;
}

}  // namespace litebox::shim
