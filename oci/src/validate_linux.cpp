// validate(): the rules for "linux" (namespaces, ID mappings, devices, paths and the smaller sections).
#include <map>
#include <optional>

#include "checker.hpp"

namespace oci::detail {

namespace {

bool has_namespace(const Linux& l, std::string_view type) {
  for (const auto& ns : l.namespaces) {
    if (ns.type == type) return true;
  }
  return false;
}

void check_namespaces(const Linux& l, Checker& c) {
  std::map<std::string, std::size_t> seen;
  for (std::size_t i = 0; i < l.namespaces.size(); ++i) {
    const Namespace& ns = l.namespaces[i];
    const std::string ptr = at("/linux/namespaces", i);
    if (!known::contains(known::namespace_types(), ns.type)) {
      c.error(at(ptr, "type"), "unknown namespace " + quoted(ns.type) + " (expected one of " +
                                   one_of(known::namespace_types()) + ")");
    } else if (auto [it, inserted] = seen.emplace(ns.type, i); !inserted) {
      c.error(at(ptr, "type"), "duplicate namespace " + quoted(ns.type) + " (also at " +
                                   at("/linux/namespaces", it->second) + ")");
    }
    if (!ns.path.empty()) check_absolute(ns.path, at(ptr, "path"), c, true);
  }
}

void check_mappings(const Linux& l, Checker& c) {
  check_id_mappings(l.uid_mappings, "/linux/uidMappings", c);
  check_id_mappings(l.gid_mappings, "/linux/gidMappings", c);
  const bool user_ns = has_namespace(l, "user");
  if (!l.uid_mappings.empty() && !user_ns) {
    c.error("/linux/uidMappings", "requires a user namespace in /linux/namespaces");
  }
  if (!l.gid_mappings.empty() && !user_ns) {
    c.error("/linux/gidMappings", "requires a user namespace in /linux/namespaces");
  }
}

void check_time_offsets(const Linux& l, Checker& c) {
  if (l.time_offsets.empty()) return;
  if (!has_namespace(l, "time")) c.error("/linux/timeOffsets", "requires a time namespace in /linux/namespaces");
  for (const auto& [clock, offset] : l.time_offsets) {
    const std::string ptr = at("/linux/timeOffsets", clock);
    if (!known::contains(known::time_offset_clocks(), clock)) {
      c.error(ptr, "unknown clock " + quoted(clock) + " (expected " + one_of(known::time_offset_clocks()) + ")");
    }
    if (offset.nanosecs >= 1'000'000'000U) {
      c.error(at(ptr, "nanosecs"), "must be below 1000000000, got " + std::to_string(offset.nanosecs));
    }
  }
}

void check_devices(const Linux& l, Checker& c) {
  std::map<std::string, std::size_t> seen;
  for (std::size_t i = 0; i < l.devices.size(); ++i) {
    const Device& d = l.devices[i];
    const std::string ptr = at("/linux/devices", i);
    if (!known::contains(known::device_types(), d.type)) {
      c.error(at(ptr, "type"), "unknown device type " + quoted(d.type) + " (expected c, b, u or p)");
    } else if (d.type != "p") {
      if (!d.major) c.error(at(ptr, "major"), "is required for device type " + quoted(d.type));
      if (!d.minor) c.error(at(ptr, "minor"), "is required for device type " + quoted(d.type));
    }
    check_absolute(d.path, at(ptr, "path"), c, true);
    if (auto [it, inserted] = seen.emplace(d.path, i); !inserted) {
      c.error(at(ptr, "path"), "duplicate device " + quoted(d.path) + " (also at " +
                                   at("/linux/devices", it->second) + ")");
    }
    if (d.file_mode && *d.file_mode > 07777) {
      c.error(at(ptr, "fileMode"), "must hold permission bits only (at most 07777 = 4095), got " +
                                       std::to_string(*d.file_mode));
    }
  }
}

void check_paths(const std::vector<std::string>& paths, const std::string& ptr, Checker& c) {
  for (std::size_t i = 0; i < paths.size(); ++i) check_absolute(paths[i], at(ptr, i), c, true);
}

// A network interface name as the kernel accepts it: 1..15 bytes, not "." or "..", no '/', ':' or space.
bool is_interface_name(std::string_view name) {
  if (name.empty() || name.size() > 15 || name == "." || name == "..") return false;
  for (const char ch : name) {
    if (ch == '/' || ch == ':' || ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\0') return false;
  }
  return true;
}

void check_net_devices(const Linux& l, Checker& c) {
  if (l.net_devices.empty()) return;
  if (!has_namespace(l, "network")) {
    c.error("/linux/netDevices", "requires a network namespace in /linux/namespaces");
  }
  for (const auto& [host_name, device] : l.net_devices) {
    const std::string ptr = at("/linux/netDevices", host_name);
    if (!is_interface_name(host_name)) {
      c.error(ptr, quoted(host_name) + " is not a network interface name (1 to 15 characters, no '/', ':' or space)");
    }
    if (!device.name.empty() && !is_interface_name(device.name)) {
      c.error(at(ptr, "name"), quoted(device.name) +
                                   " is not a network interface name (1 to 15 characters, no '/', ':' or space)");
    }
  }
}

void check_intel_rdt(const IntelRdt& rdt, Checker& c) {
  const std::string& id = rdt.clos_id;
  if (!id.empty() && (id == "." || id == ".." || id.find('/') != std::string::npos ||
                      id.find('\n') != std::string::npos)) {
    c.error("/linux/intelRdt/closID", "must be a plain resctrl group name, got " + quoted(id));
  }
}

// linux.memoryPolicy: the names, the node list, and what set_mempolicy(2) refuses with EINVAL for any
// kernel: nodes for MPOL_DEFAULT and MPOL_LOCAL, none for the modes that choose among nodes, the two node
// flags together, a node flag without nodes, MPOL_F_NUMA_BALANCING outside MPOL_BIND / MPOL_PREFERRED_MANY.
void check_memory_policy(const MemoryPolicy& policy, Checker& c) {
  const std::string ptr = "/linux/memoryPolicy";
  const std::string_view mode = policy.mode;
  const bool known_mode = known::contains(known::memory_policy_modes(), mode);
  if (!known_mode) {
    c.error(at(ptr, "mode"), "unknown memory policy mode " + quoted(mode) + " (expected one of " +
                                 one_of(known::memory_policy_modes()) + ")");
  }
  const bool no_nodes = policy.nodes.empty();
  if (!no_nodes && !is_cpu_list(policy.nodes)) {
    c.error(at(ptr, "nodes"), "must be a memory node list such as \"0-3,7\", got " + quoted(policy.nodes));
  } else if (known_mode) {
    if (!no_nodes && (mode == "MPOL_DEFAULT" || mode == "MPOL_LOCAL")) {
      c.error(at(ptr, "nodes"), "must be empty with mode " + std::string(mode) + ", which takes no nodes; got " +
                                    quoted(policy.nodes));
    }
    if (no_nodes && (mode == "MPOL_BIND" || mode == "MPOL_INTERLEAVE" || mode == "MPOL_WEIGHTED_INTERLEAVE" ||
                     mode == "MPOL_PREFERRED_MANY")) {
      c.error(at(ptr, "nodes"), "is required with mode " + std::string(mode) +
                                    ": at least one memory node, as a list such as \"0-3,7\"");
    }
  }
  std::optional<std::size_t> node_flag;  // the first of MPOL_F_RELATIVE_NODES / MPOL_F_STATIC_NODES
  for (std::size_t i = 0; i < policy.flags.size(); ++i) {
    const std::string& flag = policy.flags[i];
    const std::string flag_ptr = at(at(ptr, "flags"), i);
    if (!known::contains(known::memory_policy_flags(), flag)) {
      c.error(flag_ptr, "unknown memory policy flag " + quoted(flag) + " (expected " +
                            one_of(known::memory_policy_flags()) + ")");
      continue;
    }
    if (flag == "MPOL_F_NUMA_BALANCING") {
      if (known_mode && mode != "MPOL_BIND" && mode != "MPOL_PREFERRED_MANY") {
        c.error(flag_ptr, "MPOL_F_NUMA_BALANCING is only valid with mode MPOL_BIND or MPOL_PREFERRED_MANY, not " +
                              std::string(mode));
      }
      continue;
    }
    if (node_flag && policy.flags[*node_flag] != flag) {
      c.error(flag_ptr, flag + " and " + policy.flags[*node_flag] + " (at " + at(at(ptr, "flags"), *node_flag) +
                            ") exclude each other");
    }
    if (!node_flag) node_flag = i;
    if (no_nodes && (mode == "MPOL_LOCAL" || mode == "MPOL_PREFERRED")) {
      c.error(flag_ptr, flag + " needs a node list, and mode " + std::string(mode) + " has none here");
    }
  }
}

}  // namespace

void check_linux(const Linux& l, Checker& c) {
  check_namespaces(l, c);
  check_mappings(l, c);
  check_time_offsets(l, c);
  check_devices(l, c);
  if (l.resources) check_resources(*l.resources, "/linux/resources", c);
  if (l.intel_rdt) check_intel_rdt(*l.intel_rdt, c);
  if (l.sysctl.count("") != 0) c.error("/linux/sysctl/", "sysctl names must not be empty");
  if (l.seccomp) check_seccomp(*l.seccomp, "/linux/seccomp", c);
  if (!l.rootfs_propagation.empty() && !known::contains(known::rootfs_propagations(), l.rootfs_propagation)) {
    c.error("/linux/rootfsPropagation", "unknown propagation " + quoted(l.rootfs_propagation) +
                                            " (expected one of " + one_of(known::rootfs_propagations()) + ")");
  }
  check_paths(l.masked_paths, "/linux/maskedPaths", c);
  check_paths(l.readonly_paths, "/linux/readonlyPaths", c);
  if (l.personality) {
    if (!known::contains(known::personality_domains(), l.personality->domain)) {
      c.error("/linux/personality/domain", "unknown personality domain " + quoted(l.personality->domain) +
                                               " (expected LINUX or LINUX32)");
    }
    for (std::size_t i = 0; i < l.personality->flags.size(); ++i) {
      c.error(at("/linux/personality/flags", i),
              "unknown personality flag " + quoted(l.personality->flags[i]) + " (the spec defines none)");
    }
  }
  check_net_devices(l, c);
  if (l.memory_policy) check_memory_policy(*l.memory_policy, c);
}

}  // namespace oci::detail
