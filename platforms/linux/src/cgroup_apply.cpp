// linux.resources -> control files, for cgroup v1 (and hybrid, whose resources are v1's) and v2.
#include <algorithm>
#include <cerrno>
#include <spdlog/spdlog.h>

#include "cgroup_files.hpp"
#include "litebox/linux/cgroups.hpp"

namespace litebox::linux_host {

namespace files = cgroup_files;

namespace {

// Writes `value` to `file` in `directory`, which must exist: the controller was asked for.
class Writer {
 public:
  explicit Writer(std::string directory) : directory_(std::move(directory)) {}
  bool present() const { return !directory_.empty(); }
  const std::string& directory() const { return directory_; }
  bool has(std::string_view file) const { return present() && files::exists(files::join(directory_, file)); }
  std::string path(std::string_view file) const { return files::join(directory_, file); }
  Status write(std::string_view file, std::string_view value) const { return files::write(path(file), value); }
  Status write(std::string_view file, std::int64_t value) const { return write(file, std::to_string(value)); }

 private:
  std::string directory_;
};

Status missing(std::string_view controller, std::string_view what) {
  return Error{ENOTSUP, "set " + std::string(what) + ": no " + std::string(controller) +
                            " hierarchy is mounted on this host"};
}

std::string device_number(const std::optional<std::int64_t>& number) {
  return number && *number >= 0 ? std::to_string(*number) : "*";
}

// "b 8:0 rwm" / "a": the v1 devices.allow / devices.deny line of a rule.
std::string device_rule_line(const oci::DeviceCgroup& rule) {
  const std::string type = rule.type.empty() ? "a" : rule.type;
  if (type == "a" && !rule.major && !rule.minor) return "a";
  return type + " " + device_number(rule.major) + ":" + device_number(rule.minor) + " " +
         (rule.access.empty() ? "rwm" : rule.access);
}

// "2MB" -> "2MB" (the kernel's own spelling of hugetlb file names); "2MiB"/"2M" are accepted too.
std::string hugetlb_size_name(std::string_view page_size) {
  std::string name(page_size);
  if (name.ends_with("iB")) name.erase(name.size() - 2, 1);
  if (!name.empty() && (name.back() == 'K' || name.back() == 'M' || name.back() == 'G')) name += 'B';
  return name;
}

std::string throttle_line(const oci::ThrottleDevice& device) {
  return std::to_string(device.major) + ":" + std::to_string(device.minor) + " " + std::to_string(device.rate);
}

// v1 memory limit and memsw (memory + swap): written in the order the kernel accepts (memsw >= limit at every
// step), as runc's setMemoryAndSwap does; EBUSY gets the usage in the message.
Status set_v1_memory_and_swap(const Writer& memory, const oci::MemoryResources& resources) {
  std::int64_t limit = resources.limit.value_or(0);
  std::int64_t swap = resources.swap.value_or(0);
  // Unlimited memory without an explicit swap means unlimited swap too.
  if (limit == -1 && swap == 0 && memory.has("memory.memsw.limit_in_bytes")) swap = -1;
  const auto set_limit = [&]() -> Status {
    if (limit == 0) return {};
    auto status = memory.write("memory.limit_in_bytes", limit);
    if (!status && status.error().code == EBUSY) {
      auto usage = files::read_uint(memory.path("memory.usage_in_bytes"));
      auto peak = files::read_uint(memory.path("memory.max_usage_in_bytes"));
      return Error{EBUSY, status.error().message + " (limit " + std::to_string(limit) + " is below the current usage " +
                              (usage ? std::to_string(usage.value()) : "?") + ", peak " +
                              (peak ? std::to_string(peak.value()) : "?") + ")"};
    }
    return status;
  };
  const auto set_swap = [&]() -> Status {
    if (swap == 0) return {};
    if (!memory.has("memory.memsw.limit_in_bytes")) {
      return Error{ENOTSUP, "set memory.swap: " + memory.path("memory.memsw.limit_in_bytes") +
                                " does not exist (swap accounting is disabled in this kernel)"};
    }
    return memory.write("memory.memsw.limit_in_bytes", swap);
  };
  if (limit != 0 && swap != 0) {
    auto current = files::read_uint(memory.path("memory.limit_in_bytes"));
    if (!current) return std::move(current).error();
    if (swap == -1 || current.value() < static_cast<std::uint64_t>(swap)) {
      if (auto status = set_swap(); !status) return status;
      return set_limit();
    }
  }
  if (auto status = set_limit(); !status) return status;
  return set_swap();
}

// runc's ConvertMemorySwapToCgroupV2Value: v2 memory.swap.max is swap alone, the spec's value is memory + swap.
Expected<std::int64_t> v2_swap_value(std::int64_t swap, std::int64_t limit) {
  if (limit == -1 && swap == 0) return -1;
  if (swap == -1 || swap == 0) return swap;
  if (limit == 0 || limit == -1) return Error{EINVAL, "set memory.swap: a swap limit needs a memory limit"};
  if (swap < limit) return Error{EINVAL, "set memory.swap: memory+swap limit should be >= memory limit"};
  return swap - limit;
}

std::string v2_value(std::int64_t value) { return value < 0 ? "max" : std::to_string(value); }

void log_ignored_memory_fields(const oci::MemoryResources& memory) {
  if (memory.kernel) spdlog::debug("cgroups: memory.kernel is deprecated and ignored");
  if (memory.kernel_tcp) spdlog::debug("cgroups: memory.kernelTCP is ignored");
  if (memory.use_hierarchy) spdlog::debug("cgroups: memory.useHierarchy is ignored (always hierarchical)");
}

}  // namespace

Status Cgroup::apply(const oci::LinuxResources& resources) {
  auto status = mode_ == CgroupMode::v2 ? apply_v2(resources) : apply_v1(resources);
  if (!status) return std::move(status).error().context("apply cgroup resources");
  return {};
}

Status Cgroup::apply_v1(const oci::LinuxResources& resources) {
  if (resources.memory) {
    const auto& memory = *resources.memory;
    const Writer writer(directory_of("memory"));
    log_ignored_memory_fields(memory);
    const bool any = memory.limit || memory.swap || memory.reservation || memory.swappiness ||
                     memory.disable_oom_killer;
    if (any && !writer.present()) return missing("memory", "memory limits");
    if (memory.check_before_update.value_or(false) && memory.limit && *memory.limit > 0) {
      auto usage = files::read_uint(writer.path("memory.usage_in_bytes"));
      if (!usage) return std::move(usage).error();
      if (usage.value() > static_cast<std::uint64_t>(*memory.limit)) {
        return Error{EBUSY, "set memory.limit: " + std::to_string(*memory.limit) + " is below the current usage " +
                                std::to_string(usage.value()) + " (checkBeforeUpdate)"};
      }
    }
    if (auto s = set_v1_memory_and_swap(writer, memory); !s) return s;
    if (memory.reservation && *memory.reservation != 0) {
      if (auto s = writer.write("memory.soft_limit_in_bytes", *memory.reservation); !s) return s;
    }
    if (memory.swappiness && *memory.swappiness <= 100) {
      if (auto s = writer.write("memory.swappiness", static_cast<std::int64_t>(*memory.swappiness)); !s) return s;
    }
    if (memory.disable_oom_killer.value_or(false)) {
      if (auto s = writer.write("memory.oom_control", "1"); !s) return s;
    }
  }

  if (resources.cpu) {
    const auto& cpu = *resources.cpu;
    const Writer writer(directory_of("cpu"));
    if ((cpu.shares || cpu.quota || cpu.period || cpu.burst || cpu.realtime_period || cpu.realtime_runtime ||
         cpu.idle) && !writer.present()) {
      return missing("cpu", "cpu limits");
    }
    if (cpu.shares && *cpu.shares != 0) {
      if (auto s = writer.write("cpu.shares", static_cast<std::int64_t>(*cpu.shares)); !s) return s;
      // The kernel clamps silently; say so instead of running with something else (runc does too).
      auto actual = files::read_uint(writer.path("cpu.shares"));
      if (!actual) return std::move(actual).error();
      if (actual.value() != *cpu.shares) {
        return Error{EINVAL, "set cpu.shares: the kernel accepted " + std::to_string(actual.value()) + " for " +
                                 std::to_string(*cpu.shares) + " (allowed range 2..262144)"};
      }
    }
    // Period before quota: a quota is validated against the period in force.
    if (cpu.period && *cpu.period != 0) {
      if (auto s = writer.write("cpu.cfs_period_us", static_cast<std::int64_t>(*cpu.period)); !s) return s;
    }
    if (cpu.quota && *cpu.quota != 0) {
      if (auto s = writer.write("cpu.cfs_quota_us", *cpu.quota); !s) return s;
    }
    if (cpu.burst) {
      if (!writer.has("cpu.cfs_burst_us")) {
        return Error{ENOTSUP, "set cpu.burst: " + writer.path("cpu.cfs_burst_us") + " does not exist"};
      }
      if (auto s = writer.write("cpu.cfs_burst_us", static_cast<std::int64_t>(*cpu.burst)); !s) return s;
    }
    if (cpu.realtime_period && *cpu.realtime_period != 0) {
      if (!writer.has("cpu.rt_period_us")) {
        spdlog::warn("cgroups: cpu.realtimePeriod ignored: no cpu.rt_period_us (no RT group scheduling)");
      } else if (auto s = writer.write("cpu.rt_period_us", static_cast<std::int64_t>(*cpu.realtime_period)); !s) {
        return s;
      }
    }
    if (cpu.realtime_runtime && *cpu.realtime_runtime != 0) {
      if (!writer.has("cpu.rt_runtime_us")) {
        spdlog::warn("cgroups: cpu.realtimeRuntime ignored: the kernel has no cpu.rt_runtime_us");
      } else if (auto s = writer.write("cpu.rt_runtime_us", *cpu.realtime_runtime); !s) {
        return s;
      }
    }
    if (cpu.idle) {
      if (!writer.has("cpu.idle")) {
        return Error{ENOTSUP, "set cpu.idle: " + writer.path("cpu.idle") + " does not exist"};
      }
      if (auto s = writer.write("cpu.idle", *cpu.idle); !s) return s;
    }
    if (!cpu.cpus.empty() || !cpu.mems.empty()) {
      const Writer cpuset(directory_of("cpuset"));
      if (!cpuset.present()) return missing("cpuset", "cpu.cpus/cpu.mems");
      if (!cpu.cpus.empty()) {
        if (auto s = cpuset.write("cpuset.cpus", cpu.cpus); !s) return s;
      }
      if (!cpu.mems.empty()) {
        if (auto s = cpuset.write("cpuset.mems", cpu.mems); !s) return s;
      }
    }
  }

  if (resources.pids && resources.pids->limit != 0) {
    // runc: 0 leaves the limit alone, a negative one means "max".
    const Writer writer(directory_of("pids"));
    if (!writer.present()) return missing("pids", "pids.limit");
    if (auto s = writer.write("pids.max", v2_value(resources.pids->limit)); !s) return s;
  }

  if (resources.block_io) {
    const auto& io = *resources.block_io;
    const Writer writer(directory_of("blkio"));
    const bool any = io.weight || io.leaf_weight || !io.weight_device.empty() || !io.throttle_read_bps_device.empty() ||
                     !io.throttle_write_bps_device.empty() || !io.throttle_read_iops_device.empty() ||
                     !io.throttle_write_iops_device.empty();
    if (any && !writer.present()) return missing("blkio", "blockIO limits");
    const std::string weight_file = writer.has("blkio.weight") ? "blkio.weight" : "blkio.bfq.weight";
    if (io.weight && *io.weight != 0) {
      if (!writer.has(weight_file)) {
        spdlog::warn("cgroups: blockIO.weight ignored: no blkio.weight or blkio.bfq.weight in {} (no CFQ/BFQ)",
                     writer.directory());
      } else if (auto s = writer.write(weight_file, static_cast<std::int64_t>(*io.weight)); !s) {
        return s;
      }
    }
    if (io.leaf_weight && *io.leaf_weight != 0) {
      if (!writer.has("blkio.leaf_weight")) {
        spdlog::warn("cgroups: blockIO.leafWeight ignored: no blkio.leaf_weight");
      } else if (auto s = writer.write("blkio.leaf_weight", static_cast<std::int64_t>(*io.leaf_weight)); !s) {
        return s;
      }
    }
    for (const auto& device : io.weight_device) {
      const auto id = std::to_string(device.major) + ":" + std::to_string(device.minor) + " ";
      const std::string device_file = weight_file == "blkio.weight" ? "blkio.weight_device" : "blkio.bfq.weight";
      if (device.weight && !writer.has(device_file)) {
        spdlog::warn("cgroups: blockIO.weightDevice ignored: no {} in {}", device_file, writer.directory());
      } else if (device.weight) {
        if (auto s = writer.write(device_file, id + std::to_string(*device.weight)); !s) return s;
      }
      if (device.leaf_weight && writer.has("blkio.leaf_weight_device")) {
        if (auto s = writer.write("blkio.leaf_weight_device", id + std::to_string(*device.leaf_weight)); !s) return s;
      }
    }
    const std::pair<const char*, const std::vector<oci::ThrottleDevice>*> throttles[] = {
        {"blkio.throttle.read_bps_device", &io.throttle_read_bps_device},
        {"blkio.throttle.write_bps_device", &io.throttle_write_bps_device},
        {"blkio.throttle.read_iops_device", &io.throttle_read_iops_device},
        {"blkio.throttle.write_iops_device", &io.throttle_write_iops_device}};
    for (const auto& [file, devices] : throttles) {
      for (const auto& device : *devices) {
        if (auto s = writer.write(file, throttle_line(device)); !s) return s;
      }
    }
  }

  for (const auto& hugepage : resources.hugepage_limits) {
    const Writer writer(directory_of("hugetlb"));
    const auto file = "hugetlb." + hugetlb_size_name(hugepage.page_size) + ".limit_in_bytes";
    if (!writer.has(file)) {
      spdlog::warn("cgroups: hugepageLimits {} ignored: {}", hugepage.page_size,
                   writer.present() ? writer.path(file) + " does not exist" : "no hugetlb hierarchy is mounted");
      continue;
    }
    if (auto s = writer.write(file, static_cast<std::int64_t>(hugepage.limit)); !s) return s;
  }

  if (resources.network) {
    if (resources.network->class_id) {
      const Writer writer(directory_of("net_cls"));
      if (!writer.present()) {
        spdlog::warn("cgroups: network.classID ignored: no net_cls hierarchy is mounted");
      } else if (auto s = writer.write("net_cls.classid", std::to_string(*resources.network->class_id)); !s) {
        return s;
      }
    }
    for (const auto& priority : resources.network->priorities) {
      const Writer writer(directory_of("net_prio"));
      if (!writer.present()) {
        spdlog::warn("cgroups: network.priorities ignored: no net_prio hierarchy is mounted");
        break;
      }
      if (auto s = writer.write("net_prio.ifpriomap", priority.name + " " + std::to_string(priority.priority)); !s) {
        return s;
      }
    }
  }

  for (const auto& [device, limits] : resources.rdma) {
    const Writer writer(directory_of("rdma"));
    if (!writer.present()) return missing("rdma", "rdma limits");
    std::string line = device;
    if (limits.hca_handles) line += " hca_handle=" + std::to_string(*limits.hca_handles);
    if (limits.hca_objects) line += " hca_object=" + std::to_string(*limits.hca_objects);
    if (auto s = writer.write("rdma.max", line); !s) return s;
  }

  if (!resources.devices.empty()) {
    // Rules in order, as the spec lists them: "deny all" first and then the allowances is the usual shape.
    const Writer writer(directory_of("devices"));
    if (!writer.present()) return missing("devices", "device rules");
    for (const auto& rule : resources.devices) {
      if (auto s = writer.write(rule.allow ? "devices.allow" : "devices.deny", device_rule_line(rule)); !s) return s;
    }
  }

  if (!resources.unified.empty()) {
    if (mode_ == CgroupMode::v1) {
      return Error{ENOTSUP, "set linux.resources.unified: this host has no cgroup v2 hierarchy (cgroup v1 only)"};
    }
    // Hybrid: the cgroup2 hierarchy holds no resource controllers, but core files (cgroup.*) and any controller
    // v1 does not bind are usable there; a missing file fails with its path.
    const Writer writer(directory_of("unified"));
    for (const auto& [file, value] : resources.unified) {
      if (file.find('/') != std::string::npos || file.starts_with('.')) {
        return Error{EINVAL, "set linux.resources.unified: invalid file name \"" + file + "\""};
      }
      if (auto s = writer.write(file, value); !s) return s;
    }
  }
  return {};
}

Status Cgroup::apply_v2(const oci::LinuxResources& resources) {
  const Writer writer(directory_of("unified"));
  if (!writer.present()) return Error{ENOENT, "the cgroup has no cgroup2 directory"};
  const auto write_required = [&](std::string_view file, std::string_view value,
                                  std::string_view controller) -> Status {
    if (!writer.has(file)) {
      return Error{ENOTSUP, "write " + writer.path(file) + ": the " + std::string(controller) +
                                " controller is not enabled for this cgroup (see its parent's cgroup.subtree_control)"};
    }
    return writer.write(file, value);
  };

  if (resources.memory) {
    const auto& memory = *resources.memory;
    log_ignored_memory_fields(memory);
    if (memory.swappiness) spdlog::debug("cgroups: memory.swappiness is not available on cgroup v2; ignored");
    if (memory.disable_oom_killer.value_or(false)) {
      spdlog::warn("cgroups: memory.disableOOMKiller is not available on cgroup v2; ignored");
    }
    const std::int64_t limit = memory.limit.value_or(0);
    auto swap = v2_swap_value(memory.swap.value_or(0), limit);
    if (!swap) return std::move(swap).error();
    if (memory.check_before_update.value_or(false) && limit > 0) {
      auto usage = files::read_uint(writer.path("memory.current"));
      if (!usage) return std::move(usage).error();
      if (usage.value() > static_cast<std::uint64_t>(limit)) {
        return Error{EBUSY, "set memory.max: " + std::to_string(limit) + " is below the current usage " +
                                std::to_string(usage.value()) + " (checkBeforeUpdate)"};
      }
    }
    // Swap first: lowering memory.max with too much in swap's way is what fails.
    if (swap.value() != 0) {
      if (!writer.has("memory.swap.max")) {
        if (swap.value() != -1) {
          return Error{ENOTSUP, "set memory.swap: " + writer.path("memory.swap.max") + " does not exist"};
        }
      } else if (auto s = writer.write("memory.swap.max", v2_value(swap.value())); !s) {
        return s;
      }
    }
    if (limit != 0) {
      if (auto s = write_required("memory.max", v2_value(limit), "memory"); !s) return s;
    }
    if (memory.reservation && *memory.reservation != 0) {
      if (auto s = write_required("memory.low", v2_value(*memory.reservation), "memory"); !s) return s;
    }
  }

  if (resources.cpu) {
    const auto& cpu = *resources.cpu;
    if (cpu.shares && *cpu.shares != 0) {
      // runc's ConvertCPUSharesToCgroupV2Value: [2, 262144] -> [1, 10000].
      const std::uint64_t shares = std::clamp<std::uint64_t>(*cpu.shares, 2, 262144);
      const std::uint64_t weight = 1 + ((shares - 2) * 9999) / 262142;
      if (auto s = write_required("cpu.weight", std::to_string(weight), "cpu"); !s) return s;
    }
    if (cpu.quota.value_or(0) != 0 || cpu.period.value_or(0) != 0) {
      std::string value = cpu.quota.value_or(0) > 0 ? std::to_string(*cpu.quota) : "max";
      if (cpu.period.value_or(0) != 0) value += " " + std::to_string(*cpu.period);
      if (auto s = write_required("cpu.max", value, "cpu"); !s) return s;
    }
    if (cpu.burst) {
      if (auto s = write_required("cpu.max.burst", std::to_string(*cpu.burst), "cpu"); !s) return s;
    }
    if (cpu.idle) {
      if (auto s = write_required("cpu.idle", std::to_string(*cpu.idle), "cpu"); !s) return s;
    }
    if (cpu.realtime_period || cpu.realtime_runtime) {
      spdlog::warn("cgroups: cpu.realtimePeriod/realtimeRuntime are not available on cgroup v2; ignored");
    }
    if (!cpu.cpus.empty()) {
      if (auto s = write_required("cpuset.cpus", cpu.cpus, "cpuset"); !s) return s;
    }
    if (!cpu.mems.empty()) {
      if (auto s = write_required("cpuset.mems", cpu.mems, "cpuset"); !s) return s;
    }
  }

  if (resources.pids && resources.pids->limit != 0) {
    if (auto s = write_required("pids.max", v2_value(resources.pids->limit), "pids"); !s) return s;
  }

  if (resources.block_io) {
    const auto& io = *resources.block_io;
    // runc's convertBlkIOToIOWeightValue: [10, 1000] -> [1, 10000].
    const auto io_weight = [](std::uint16_t weight) {
      return 1 + (static_cast<std::uint64_t>(std::max<std::uint16_t>(weight, 10)) - 10) * 9999 / 990;
    };
    if (io.weight && *io.weight != 0) {
      if (writer.has("io.bfq.weight")) {
        if (auto s = writer.write("io.bfq.weight", std::to_string(*io.weight)); !s) return s;
      } else if (writer.has("io.weight")) {
        if (auto s = writer.write("io.weight", std::to_string(io_weight(*io.weight))); !s) return s;
      } else {
        spdlog::warn("cgroups: blockIO.weight ignored: no io.weight or io.bfq.weight in {}", writer.directory());
      }
    }
    for (const auto& device : io.weight_device) {
      if (!device.weight) continue;
      const auto id = std::to_string(device.major) + ":" + std::to_string(device.minor) + " ";
      if (writer.has("io.bfq.weight")) {
        if (auto s = writer.write("io.bfq.weight", id + std::to_string(*device.weight)); !s) return s;
      } else if (writer.has("io.weight")) {
        if (auto s = writer.write("io.weight", id + std::to_string(io_weight(*device.weight))); !s) return s;
      }
    }
    const std::pair<const char*, const std::vector<oci::ThrottleDevice>*> throttles[] = {
        {"rbps", &io.throttle_read_bps_device},
        {"wbps", &io.throttle_write_bps_device},
        {"riops", &io.throttle_read_iops_device},
        {"wiops", &io.throttle_write_iops_device}};
    for (const auto& [key, devices] : throttles) {
      for (const auto& device : *devices) {
        const auto line = std::to_string(device.major) + ":" + std::to_string(device.minor) + " " + key + "=" +
                          (device.rate == 0 ? std::string("max") : std::to_string(device.rate));
        if (auto s = write_required("io.max", line, "io"); !s) return s;
      }
    }
  }

  for (const auto& hugepage : resources.hugepage_limits) {
    const auto file = "hugetlb." + hugetlb_size_name(hugepage.page_size) + ".max";
    if (!writer.has(file)) {
      spdlog::warn("cgroups: hugepageLimits {} ignored: {} does not exist", hugepage.page_size, writer.path(file));
      continue;
    }
    if (auto s = writer.write(file, std::to_string(hugepage.limit)); !s) return s;
  }

  if (resources.network && (resources.network->class_id || !resources.network->priorities.empty())) {
    spdlog::warn("cgroups: network.classID/priorities are cgroup v1 features (net_cls, net_prio); ignored on v2");
  }

  for (const auto& [device, limits] : resources.rdma) {
    std::string line = device;
    if (limits.hca_handles) line += " hca_handle=" + std::to_string(*limits.hca_handles);
    if (limits.hca_objects) line += " hca_object=" + std::to_string(*limits.hca_objects);
    if (auto s = write_required("rdma.max", line, "rdma"); !s) return s;
  }

  if (!resources.devices.empty()) {
    // cgroup v2 filters devices with an eBPF program (BPF_CGROUP_DEVICE), which this runtime does not load.
    spdlog::warn("cgroups: {} device rules NOT enforced on cgroup v2 (no BPF device filter); {}",
                 resources.devices.size(), writer.directory());
  }

  for (const auto& [file, value] : resources.unified) {
    if (file.find('/') != std::string::npos || file.starts_with('.')) {
      return Error{EINVAL, "set linux.resources.unified: invalid file name \"" + file + "\""};
    }
    if (auto s = writer.write(file, value); !s) return s;
  }
  return {};
}

}  // namespace litebox::linux_host
