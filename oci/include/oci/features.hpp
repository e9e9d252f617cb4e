// The runtime's features document (features.md): what this runtime recognizes, generated from the model's
// own lists and what the platform reports it supports.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "oci/config.hpp"
#include "oci/diagnostics.hpp"

namespace oci {

// "linux.cgroup": which cgroup drivers are compiled in (nullopt = unknown).
struct CgroupFeatures {
  std::optional<bool> v1;            // "v1"
  std::optional<bool> v2;            // "v2"
  std::optional<bool> systemd;       // "systemd"
  std::optional<bool> systemd_user;  // "systemdUser"
  std::optional<bool> rdma;          // "rdma"

  bool operator==(const CgroupFeatures&) const = default;
};

// "linux.seccomp".
struct SeccompFeatures {
  std::optional<bool> enabled;               // "enabled"
  std::vector<std::string> actions;          // "actions"
  std::vector<std::string> operators;        // "operators"
  std::vector<std::string> archs;            // "archs"
  std::vector<std::string> known_flags;      // "knownFlags"
  std::vector<std::string> supported_flags;  // "supportedFlags"

  bool operator==(const SeccompFeatures&) const = default;
};

// A feature that is only on or off ("apparmor", "selinux", "netDevices", "mountExtensions.idmap").
struct EnabledFeature {
  std::optional<bool> enabled;  // "enabled"

  bool operator==(const EnabledFeature&) const = default;
};

// "linux.intelRdt".
struct IntelRdtFeatures {
  std::optional<bool> enabled;     // "enabled"
  std::optional<bool> schemata;    // "schemata": linux.intelRdt.schemata is implemented
  std::optional<bool> monitoring;  // "monitoring" (spec 1.3.0): linux.intelRdt.enableMonitoring is implemented

  bool operator==(const IntelRdtFeatures&) const = default;
};

// "linux.memoryPolicy" (spec 1.3.0): the linux.memoryPolicy modes and flags the runtime recognizes.
struct MemoryPolicyFeatures {
  std::vector<std::string> modes;  // "modes": MPOL_*
  std::vector<std::string> flags;  // "flags": MPOL_F_*

  bool operator==(const MemoryPolicyFeatures&) const = default;
};

// "linux.mountExtensions".
struct MountExtensionsFeatures {
  std::optional<EnabledFeature> idmap;  // "idmap"

  bool operator==(const MountExtensionsFeatures&) const = default;
};

// "linux".
struct LinuxFeatures {
  std::vector<std::string> namespaces;                       // "namespaces"
  std::vector<std::string> capabilities;                     // "capabilities"
  std::optional<CgroupFeatures> cgroup;                      // "cgroup"
  std::optional<SeccompFeatures> seccomp;                    // "seccomp"
  std::optional<EnabledFeature> apparmor;                    // "apparmor"
  std::optional<EnabledFeature> selinux;                     // "selinux"
  std::optional<IntelRdtFeatures> intel_rdt;                 // "intelRdt"
  std::optional<MemoryPolicyFeatures> memory_policy;         // "memoryPolicy"
  std::optional<MountExtensionsFeatures> mount_extensions;   // "mountExtensions"
  std::optional<EnabledFeature> net_devices;                 // "netDevices"

  bool operator==(const LinuxFeatures&) const = default;
};

// features.json.
struct Features {
  std::string oci_version_min;                      // "ociVersionMin" (required)
  std::string oci_version_max;                      // "ociVersionMax" (required)
  std::vector<std::string> hooks;                   // "hooks"
  std::vector<std::string> mount_options;           // "mountOptions"
  std::optional<LinuxFeatures> linux_features;      // "linux"
  std::map<std::string, std::string> annotations;   // "annotations"
  std::vector<std::string> potentially_unsafe_config_annotations;  // "potentiallyUnsafeConfigAnnotations"

  bool operator==(const Features&) const = default;
};

// What a platform implementation reports it can do; the model supplies the lists of names.
struct PlatformSupport {
  bool is_linux = true;              // publish the "linux" section
  bool seccomp = false;              // seccomp filters are applied
  std::vector<std::string> seccomp_supported_flags;  // flags the kernel accepts (subset of the known)
  bool apparmor = false;
  bool selinux = false;
  bool cgroup_v1 = false;
  bool cgroup_v2 = false;
  bool cgroup_systemd = false;
  bool cgroup_systemd_user = false;
  bool cgroup_rdma = false;
  bool intel_rdt = false;
  bool idmap_mounts = false;
  bool net_devices = false;
  bool memory_policy = false;  // linux.memoryPolicy is applied (publishes the modes and flags)
  std::map<std::string, std::string> annotations;  // e.g. the runtime's name and version
  std::vector<std::string> potentially_unsafe_config_annotations;
};

// The features document for a platform: the spec versions, hooks, mount options, namespaces,
// capabilities and seccomp names the model knows, and the platform's switches.
Features make_features(const PlatformSupport& platform);

// Writes features.json.
std::string to_json(const Features& features, JsonStyle style = JsonStyle::indented);

// Parses features.json (for tests and for reading another runtime's document).
Result<Features> parse_features(std::string_view json, const ParseLimits& limits = {});

}  // namespace oci
