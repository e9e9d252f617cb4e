// Linux cgroup resource limits (config-linux.md "Control groups": "linux.resources").
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace oci {

// One rule of the device controller's allow list ("linux.resources.devices").
struct DeviceCgroup {
  bool allow = false;                // "allow" (required)
  std::string type;                  // "type": "a" (all), "c" or "b"; empty means all
  std::optional<std::int64_t> major;  // "major": empty means all
  std::optional<std::int64_t> minor;  // "minor": empty means all
  std::string access;                // "access": a subset of "rwm"

  bool operator==(const DeviceCgroup&) const = default;
};

// "memory": bytes unless noted; -1 means unlimited.
struct MemoryResources {
  std::optional<std::int64_t> limit;         // "limit"
  std::optional<std::int64_t> reservation;   // "reservation" (soft limit)
  std::optional<std::int64_t> swap;          // "swap": memory + swap
  std::optional<std::int64_t> kernel;        // "kernel" (deprecated)
  std::optional<std::int64_t> kernel_tcp;    // "kernelTCP"
  std::optional<std::uint64_t> swappiness;   // "swappiness": 0..100
  std::optional<bool> disable_oom_killer;    // "disableOOMKiller"
  std::optional<bool> use_hierarchy;         // "useHierarchy"
  std::optional<bool> check_before_update;   // "checkBeforeUpdate" (spec 1.2)

  bool operator==(const MemoryResources&) const = default;
};

// "cpu": shares and CFS bandwidth, realtime budget, cpuset.
struct CpuResources {
  std::optional<std::uint64_t> shares;           // "shares"
  std::optional<std::int64_t> quota;             // "quota": microseconds per period, -1 unlimited
  std::optional<std::uint64_t> burst;            // "burst": microseconds (spec 1.1)
  std::optional<std::uint64_t> period;           // "period": microseconds
  std::optional<std::int64_t> realtime_runtime;  // "realtimeRuntime"
  std::optional<std::uint64_t> realtime_period;  // "realtimePeriod"
  std::string cpus;                              // "cpus": CPU list, e.g. "0-3,7"
  std::string mems;                              // "mems": memory node list
  std::optional<std::int64_t> idle;              // "idle": 0 or 1 (SCHED_IDLE) (spec 1.1)

  bool operator==(const CpuResources&) const = default;
};

// "pids": the task limit; 0 or -1 means no limit.
struct PidsResources {
  std::int64_t limit = 0;  // "limit" (required)

  bool operator==(const PidsResources&) const = default;
};

// One "weightDevice" entry of "blockIO".
struct WeightDevice {
  std::int64_t major = 0;                  // "major" (required)
  std::int64_t minor = 0;                  // "minor" (required)
  std::optional<std::uint16_t> weight;       // "weight": 10..1000
  std::optional<std::uint16_t> leaf_weight;  // "leafWeight": 10..1000

  bool operator==(const WeightDevice&) const = default;
};

// One throttle entry of "blockIO" (bytes or operations per second).
struct ThrottleDevice {
  std::int64_t major = 0;  // "major" (required)
  std::int64_t minor = 0;  // "minor" (required)
  std::uint64_t rate = 0;  // "rate" (required)

  bool operator==(const ThrottleDevice&) const = default;
};

// "blockIO": the blkio / io controller.
struct BlockIoResources {
  std::optional<std::uint16_t> weight;                       // "weight": 10..1000
  std::optional<std::uint16_t> leaf_weight;                  // "leafWeight": 10..1000
  std::vector<WeightDevice> weight_device;                   // "weightDevice"
  std::vector<ThrottleDevice> throttle_read_bps_device;      // "throttleReadBpsDevice"
  std::vector<ThrottleDevice> throttle_write_bps_device;     // "throttleWriteBpsDevice"
  std::vector<ThrottleDevice> throttle_read_iops_device;     // "throttleReadIOPSDevice"
  std::vector<ThrottleDevice> throttle_write_iops_device;    // "throttleWriteIOPSDevice"

  bool operator==(const BlockIoResources&) const = default;
};

// One entry of "hugepageLimits".
struct HugepageLimit {
  std::string page_size;    // "pageSize": "<size><unit>B", e.g. "2MB", "1GB" (required)
  std::uint64_t limit = 0;  // "limit": bytes (required)

  bool operator==(const HugepageLimit&) const = default;
};

// One entry of "network.priorities".
struct InterfacePriority {
  std::string name;             // "name": interface name (required)
  std::uint32_t priority = 0;   // "priority" (required)

  bool operator==(const InterfacePriority&) const = default;
};

// "network": net_cls / net_prio.
struct NetworkResources {
  std::optional<std::uint32_t> class_id;       // "classID"
  std::vector<InterfacePriority> priorities;  // "priorities"

  bool operator==(const NetworkResources&) const = default;
};

// One value of the "rdma" map (keyed by device name).
struct RdmaResources {
  std::optional<std::uint32_t> hca_handles;  // "hcaHandles"
  std::optional<std::uint32_t> hca_objects;  // "hcaObjects"

  bool operator==(const RdmaResources&) const = default;
};

// "linux.resources".
struct LinuxResources {
  std::vector<DeviceCgroup> devices;               // "devices"
  std::optional<MemoryResources> memory;           // "memory"
  std::optional<CpuResources> cpu;                 // "cpu"
  std::optional<PidsResources> pids;               // "pids"
  std::optional<BlockIoResources> block_io;        // "blockIO"
  std::vector<HugepageLimit> hugepage_limits;      // "hugepageLimits"
  std::optional<NetworkResources> network;         // "network"
  std::map<std::string, RdmaResources> rdma;       // "rdma"
  std::map<std::string, std::string> unified;      // "unified": cgroup v2 file -> value

  bool operator==(const LinuxResources&) const = default;
};

}  // namespace oci
