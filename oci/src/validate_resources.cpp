// validate(): the rules for "linux.resources".
#include "checker.hpp"

namespace oci::detail {

namespace {

void check_device_rules(const std::vector<DeviceCgroup>& rules, const std::string& base, Checker& c) {
  for (std::size_t i = 0; i < rules.size(); ++i) {
    const DeviceCgroup& r = rules[i];
    const std::string ptr = at(base, i);
    if (!r.type.empty() && r.type != "a" && r.type != "b" && r.type != "c") {
      c.error(at(ptr, "type"), "unknown device type " + quoted(r.type) + " (expected a, b or c)");
    }
    if (r.access.find_first_not_of("rwm") != std::string::npos) {
      c.error(at(ptr, "access"), "must contain only r, w and m, got " + quoted(r.access));
    }
  }
}

void check_limit(const std::optional<std::int64_t>& v, const std::string& ptr, Checker& c) {
  if (v && *v < -1) c.error(ptr, "must be a number of bytes, or -1 for no limit, got " + std::to_string(*v));
}

void check_memory(const MemoryResources& m, const std::string& ptr, Checker& c) {
  check_limit(m.limit, at(ptr, "limit"), c);
  check_limit(m.reservation, at(ptr, "reservation"), c);
  check_limit(m.swap, at(ptr, "swap"), c);
  check_limit(m.kernel, at(ptr, "kernel"), c);
  check_limit(m.kernel_tcp, at(ptr, "kernelTCP"), c);
  if (m.swappiness && *m.swappiness > 100) {
    c.error(at(ptr, "swappiness"), "must be between 0 and 100, got " + std::to_string(*m.swappiness));
  }
  if (m.limit && m.swap && *m.limit > 0 && *m.swap > 0 && *m.swap < *m.limit) {
    c.error(at(ptr, "swap"), "the memory+swap limit " + std::to_string(*m.swap) + " is below the memory limit " +
                                 std::to_string(*m.limit));
  }
}

void check_cpu(const CpuResources& cpu, const std::string& ptr, Checker& c) {
  if (cpu.quota && *cpu.quota < -1) {
    c.error(at(ptr, "quota"), "must be microseconds per period, or -1 for no limit, got " + std::to_string(*cpu.quota));
  }
  if (cpu.period && *cpu.period != 0 && (*cpu.period < 1000 || *cpu.period > 1000000)) {
    c.error(at(ptr, "period"), "must be between 1000 and 1000000 microseconds, got " + std::to_string(*cpu.period));
  }
  if (cpu.idle && *cpu.idle != 0 && *cpu.idle != 1) {
    c.error(at(ptr, "idle"), "must be 0 or 1, got " + std::to_string(*cpu.idle));
  }
  if (!cpu.cpus.empty() && !is_cpu_list(cpu.cpus)) {
    c.error(at(ptr, "cpus"), "must be a CPU list such as \"0-3,7\", got " + quoted(cpu.cpus));
  }
  if (!cpu.mems.empty() && !is_cpu_list(cpu.mems)) {
    c.error(at(ptr, "mems"), "must be a memory node list such as \"0-1\", got " + quoted(cpu.mems));
  }
}

void check_weight(const std::optional<std::uint16_t>& w, const std::string& ptr, Checker& c) {
  if (w && (*w < 10 || *w > 1000)) c.error(ptr, "must be between 10 and 1000, got " + std::to_string(*w));
}

void check_block_io(const BlockIoResources& b, const std::string& ptr, Checker& c) {
  check_weight(b.weight, at(ptr, "weight"), c);
  check_weight(b.leaf_weight, at(ptr, "leafWeight"), c);
  for (std::size_t i = 0; i < b.weight_device.size(); ++i) {
    const std::string dp = at(at(ptr, "weightDevice"), i);
    check_weight(b.weight_device[i].weight, at(dp, "weight"), c);
    check_weight(b.weight_device[i].leaf_weight, at(dp, "leafWeight"), c);
  }
}

bool is_page_size(std::string_view s) {
  if (s.size() < 3 || s.back() != 'B') return false;
  const char unit = s[s.size() - 2];
  if (unit != 'K' && unit != 'M' && unit != 'G') return false;
  const std::string_view digits = s.substr(0, s.size() - 2);
  if (digits.front() == '0') return false;
  return digits.find_first_not_of("0123456789") == std::string_view::npos;
}

// "<controller>.<file>" with no '/' (the file lives in the container's own cgroup directory).
bool is_unified_key(std::string_view key) {
  const auto dot = key.find('.');
  return dot != std::string_view::npos && dot > 0 && dot + 1 < key.size() &&
         key.find('/') == std::string_view::npos && key.find('\0') == std::string_view::npos;
}

}  // namespace

void check_resources(const LinuxResources& r, const std::string& ptr, Checker& c) {
  check_device_rules(r.devices, at(ptr, "devices"), c);
  if (r.memory) check_memory(*r.memory, at(ptr, "memory"), c);
  if (r.cpu) check_cpu(*r.cpu, at(ptr, "cpu"), c);
  if (r.block_io) check_block_io(*r.block_io, at(ptr, "blockIO"), c);
  for (std::size_t i = 0; i < r.hugepage_limits.size(); ++i) {
    if (!is_page_size(r.hugepage_limits[i].page_size)) {
      c.error(at(at(at(ptr, "hugepageLimits"), i), "pageSize"),
              "must be a page size such as \"2MB\" or \"1GB\", got " + quoted(r.hugepage_limits[i].page_size));
    }
  }
  if (r.network) {
    for (std::size_t i = 0; i < r.network->priorities.size(); ++i) {
      if (r.network->priorities[i].name.empty()) {
        c.error(at(at(at(at(ptr, "network"), "priorities"), i), "name"), "must name a network interface");
      }
    }
  }
  if (r.rdma.count("") != 0) c.error(at(ptr, "rdma") + "/", "RDMA device names must not be empty");
  for (const auto& [key, value] : r.unified) {
    if (!is_unified_key(key)) {
      c.error(at(at(ptr, "unified"), key),
              "must name a cgroup v2 interface file such as \"memory.high\", got " + quoted(key));
    }
  }
}

}  // namespace oci::detail
