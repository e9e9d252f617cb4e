#include "litebox/linux/host/core_attachment.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <charconv>
#include <utility>

namespace litebox::linux_host {

linux_host::Expected<std::size_t> parse_descriptor_budget(std::string_view text, std::string_view what) {
  std::size_t budget = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), budget);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || budget > (1u << 20)) {
    return linux_host::Error{EINVAL, std::string(what) + " must be a number from 0 to 1048576, got \"" +
                                         std::string(text) + "\""};
  }
  return budget;
}

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
    auto budget = parse_descriptor_budget(it->second, std::string("annotation ") + kCoreBudgetAnnotation);
    if (!budget) return std::move(budget).error();
    policy.descriptor_budget = budget.value();
  }
  if (!enabled) return std::optional<linux_host::core::ContainerCorePolicy>{};
  return std::optional<linux_host::core::ContainerCorePolicy>{policy};
}

linux_host::core::CoreFilterScope filter_scope(const linux_host::core::ContainerCorePolicy& policy) {
  return policy.descriptor_budget != 0 ? linux_host::core::CoreFilterScope::opens_and_creation
                                       : linux_host::core::CoreFilterScope::opens;
}

linux_host::Expected<CoreChannel> CoreChannel::open(linux_host::core::CoreFilterScope scope) {
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
    return linux_host::Error::from_errno("create the LiteBox core's channel");
  }
  return CoreChannel(pair[0], pair[1], scope);
}

CoreChannel::CoreChannel(CoreChannel&& other) noexcept
    : ours_(std::exchange(other.ours_, -1)), theirs_(std::exchange(other.theirs_, -1)), scope_(other.scope_) {}

CoreChannel::~CoreChannel() {
  if (ours_ >= 0) ::close(ours_);
  if (theirs_ >= 0) ::close(theirs_);
}

linux_host::Status CoreChannel::hand_to(linux_host::core::CoreService& core, const std::string& id) {
  auto added = core.add_channel(id, ours_);
  ours_ = -1;  // the core owns it now, whatever the outcome
  return added;
}

}  // namespace litebox::linux_host
