// features.json, generated from the model's lists and the platform's switches.
#include "oci/features.hpp"

#include <exception>

#include "codec.hpp"
#include "fields.hpp"
#include "oci/known_values.hpp"
#include "oci/version.hpp"

namespace oci {

namespace {

std::vector<std::string> to_strings(known::Names names) { return {names.begin(), names.end()}; }

}  // namespace

Features make_features(const PlatformSupport& platform) {
  Features f;
  f.oci_version_min = std::string(kOciVersionMin);
  f.oci_version_max = std::string(kOciVersionMax);
  f.hooks = to_strings(known::hook_names());
  f.mount_options = to_strings(known::mount_options());
  f.annotations = platform.annotations;
  f.potentially_unsafe_config_annotations = platform.potentially_unsafe_config_annotations;
  if (platform.is_linux) {
    LinuxFeatures& l = f.linux_features.emplace();
    l.namespaces = to_strings(known::namespace_types());
    l.capabilities = to_strings(known::capabilities());
    l.cgroup = CgroupFeatures{platform.cgroup_v1, platform.cgroup_v2, platform.cgroup_systemd,
                              platform.cgroup_systemd_user, platform.cgroup_rdma};
    SeccompFeatures& s = l.seccomp.emplace();
    s.enabled = platform.seccomp;
    if (platform.seccomp) {
      s.actions = to_strings(known::seccomp_actions());
      s.operators = to_strings(known::seccomp_operators());
      s.archs = to_strings(known::seccomp_architectures());
      s.known_flags = to_strings(known::seccomp_flags());
      for (const auto& flag : platform.seccomp_supported_flags) {
        if (known::contains(known::seccomp_flags(), flag)) s.supported_flags.push_back(flag);
      }
    }
    l.apparmor = EnabledFeature{platform.apparmor};
    l.selinux = EnabledFeature{platform.selinux};
    l.intel_rdt = IntelRdtFeatures{platform.intel_rdt, platform.intel_rdt, platform.intel_rdt};
    if (platform.memory_policy) {
      l.memory_policy = MemoryPolicyFeatures{to_strings(known::memory_policy_modes()),
                                             to_strings(known::memory_policy_flags())};
    }
    l.mount_extensions = MountExtensionsFeatures{EnabledFeature{platform.idmap_mounts}};
    l.net_devices = EnabledFeature{platform.net_devices};
  }
  return f;
}

std::string to_json(const Features& features, JsonStyle style) {
  return detail::serialize(detail::write(features), style);
}

Result<Features> parse_features(std::string_view json, const ParseLimits& limits) {
  Result<Features> result;
  try {
    detail::ErrorSink sink(limits.max_errors);
    if (auto doc = detail::parse_document(json, limits, sink)) {
      Features f;
      detail::read(*doc, f, "", sink);
      if (sink.empty()) result.value = std::move(f);
    }
    result.errors = sink.take();
  } catch (const std::exception& e) {
    result.value.reset();
    result.errors.push_back({"", std::string("could not be read: ") + e.what()});
  }
  return result;
}

}  // namespace oci
