#include "litebox/linux/rlimits.hpp"

#include <sys/resource.h>

#include <array>
#include <cerrno>
#include <utility>

#include "child_safe_error.hpp"

namespace litebox::linux_host {
namespace {

struct NamedResource {
  std::string_view name;
  int resource;
};

constexpr std::array<NamedResource, 16> kResources = {{
    {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
}};

rlimit to_rlimit(const RlimitSetting& setting) {
  return rlimit{static_cast<rlim_t>(setting.soft), static_cast<rlim_t>(setting.hard)};
}

std::string describe(const RlimitSetting& setting) {
  return setting.name + " (soft " + std::to_string(setting.soft) + ", hard " + std::to_string(setting.hard) + ")";
}

}  // namespace

std::optional<int> rlimit_resource(std::string_view name) {
  for (const NamedResource& entry : kResources) {
    if (entry.name == name) {
      return entry.resource;
    }
  }
  return std::nullopt;
}

Expected<std::vector<RlimitSetting>> make_rlimit_settings(const std::vector<oci::Rlimit>& rlimits) {
  std::vector<RlimitSetting> settings;
  for (const oci::Rlimit& limit : rlimits) {
    std::optional<int> resource = rlimit_resource(limit.type);
    if (!resource) {
      return Error{EINVAL, "unknown rlimit type \"" + limit.type + "\""};
    }
    if (limit.soft > limit.hard) {
      return Error{EINVAL, "rlimit " + limit.type + ": soft limit " + std::to_string(limit.soft) +
                               " is above the hard limit " + std::to_string(limit.hard)};
    }
    for (const RlimitSetting& earlier : settings) {
      if (earlier.resource == *resource) {
        return Error{EINVAL, "rlimit " + limit.type + " is given more than once"};
      }
    }
    settings.push_back(RlimitSetting{*resource, limit.type, limit.soft, limit.hard});
  }
  return settings;
}

Status apply_rlimits(const std::vector<RlimitSetting>& settings) {
  for (const RlimitSetting& setting : settings) {
    rlimit value = to_rlimit(setting);
    if (setrlimit(static_cast<__rlimit_resource_t>(setting.resource), &value) != 0) {
      return detail::child_error("setrlimit " + describe(setting), errno);
    }
  }
  return {};
}

Status apply_rlimits_to(pid_t pid, const std::vector<RlimitSetting>& settings) {
  for (const RlimitSetting& setting : settings) {
    rlimit value = to_rlimit(setting);
    if (prlimit(pid, static_cast<__rlimit_resource>(setting.resource), &value, nullptr) != 0) {
      return detail::child_error("prlimit " + describe(setting) + " on pid " + std::to_string(pid), errno);
    }
  }
  return {};
}

}  // namespace litebox::linux_host
