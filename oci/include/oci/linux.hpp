// Linux-specific configuration (config-linux.md: "linux").
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "oci/linux_resources.hpp"
#include "oci/mounts.hpp"
#include "oci/seccomp.hpp"

namespace oci {

// One entry of "namespaces": create a namespace of `type`, or join the one at `path`.
struct Namespace {
  std::string type;  // "type": mount, pid, network, uts, ipc, user, cgroup or time (required)
  std::string path;  // "path": absolute path of a namespace file to join

  bool operator==(const Namespace&) const = default;
};

// One entry of "devices": a device node created in the container.
struct Device {
  std::string type;                       // "type": c, b, u or p (required)
  std::string path;                       // "path": absolute path in the container (required)
  std::optional<std::int64_t> major;      // "major": required unless type is p
  std::optional<std::int64_t> minor;      // "minor": required unless type is p
  std::optional<std::uint32_t> file_mode;  // "fileMode": permission bits, at most 07777
  std::optional<std::uint32_t> uid;        // "uid"
  std::optional<std::uint32_t> gid;        // "gid"

  bool operator==(const Device&) const = default;
};

// "intelRdt": resctrl class of service and monitoring.
struct IntelRdt {
  std::string clos_id;                  // "closID": resctrl group name
  std::string l3_cache_schema;          // "l3CacheSchema": "L3:<id>=<mask>;..."
  std::string mem_bw_schema;            // "memBwSchema": "MB:<id>=<bandwidth>;..."
  std::vector<std::string> schemata;    // "schemata" (spec 1.3.0): raw resctrl schemata lines
  bool enable_cmt = false;              // "enableCMT"
  bool enable_mbm = false;              // "enableMBM"
  bool enable_monitoring = false;       // "enableMonitoring" (spec 1.3.0)

  bool operator==(const IntelRdt&) const = default;
};

// "memoryPolicy" (spec 1.3.0): the NUMA memory policy set_mempolicy(2) gives the container's processes.
struct MemoryPolicy {
  std::string mode;                // "mode": MPOL_DEFAULT, MPOL_BIND, ... (required)
  std::string nodes;               // "nodes": a node list such as "0-3,7"; none for MPOL_DEFAULT and MPOL_LOCAL
  std::vector<std::string> flags;  // "flags": MPOL_F_NUMA_BALANCING, MPOL_F_RELATIVE_NODES, MPOL_F_STATIC_NODES

  bool operator==(const MemoryPolicy&) const = default;
};

// "personality": the personality(2) domain.
struct Personality {
  std::string domain;               // "domain": LINUX or LINUX32 (required)
  std::vector<std::string> flags;   // "flags": none are defined yet

  bool operator==(const Personality&) const = default;
};

// One value of "timeOffsets" (keyed by clock: "boottime" or "monotonic").
struct TimeOffset {
  std::int64_t secs = 0;       // "secs"
  std::uint32_t nanosecs = 0;  // "nanosecs": below 1e9

  bool operator==(const TimeOffset&) const = default;
};

// One value of "netDevices" (keyed by the host interface name): moved into the container.
struct NetDevice {
  std::string name;  // "name": the interface's name inside the container; empty keeps the host name

  bool operator==(const NetDevice&) const = default;
};

// "linux".
struct Linux {
  std::vector<Namespace> namespaces;             // "namespaces"
  std::vector<IdMapping> uid_mappings;           // "uidMappings"
  std::vector<IdMapping> gid_mappings;           // "gidMappings"
  std::map<std::string, TimeOffset> time_offsets;  // "timeOffsets" (spec 1.1)
  std::vector<Device> devices;                   // "devices"
  std::string cgroups_path;                      // "cgroupsPath"
  std::optional<LinuxResources> resources;       // "resources"
  std::optional<IntelRdt> intel_rdt;             // "intelRdt"
  std::optional<MemoryPolicy> memory_policy;     // "memoryPolicy" (spec 1.3.0)
  std::map<std::string, std::string> sysctl;     // "sysctl"
  std::optional<Seccomp> seccomp;                // "seccomp"
  std::string rootfs_propagation;                // "rootfsPropagation"
  std::vector<std::string> masked_paths;         // "maskedPaths"
  std::vector<std::string> readonly_paths;       // "readonlyPaths"
  std::string mount_label;                       // "mountLabel"
  std::optional<Personality> personality;        // "personality"
  std::map<std::string, NetDevice> net_devices;  // "netDevices" (spec 1.3.0)

  bool operator==(const Linux&) const = default;
};

}  // namespace oci
