// The spec's linux.namespaces as the container's init needs them: which to create with clone(2), which to
// join by path with setns(2), and in what order.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "litebox/linux/error.hpp"
#include "oci/linux.hpp"

namespace litebox::linux_host {

// One namespace to join: its CLONE_NEW* flag and the path of a namespace file (/proc/<pid>/ns/net, a bind
// mount of one, ...).
struct NamespaceJoin {
  int flag = 0;
  std::string path;
  // Opened by the runtime before it forks (open_namespaces): the path may not resolve from where the child
  // stands when it joins (an exec joining the cgroup namespace after the mount namespace).
  int fd = -1;
};

struct NamespacePlan {
  // CLONE_NEW* flags for the namespaces created when the init is cloned. The cgroup namespace is not among
  // them: it is unshared once the init has joined its cgroup, so that the cgroup is its root.
  int clone_flags = 0;
  bool new_user = false;
  bool new_cgroup = false;
  bool new_pid = false;
  bool new_uts = false;
  bool new_mount = false;
  // Joined in this order: the user namespace first (it decides what the others may do).
  std::vector<NamespaceJoin> joins;
  bool joins_pid() const;
};

// The CLONE_NEW* flag of a spec namespace type ("pid", "network", ...), or 0 for an unknown type.
int namespace_flag(std::string_view type);
// The name of the namespace under /proc/<pid>/ns for a CLONE_NEW* flag ("pid", "net", "mnt", ...).
std::string_view proc_ns_name(int flag);

// Validates and orders the spec's namespaces. Errors: unknown type, a type given twice, a relative path.
Expected<NamespacePlan> plan_namespaces(const std::vector<oci::Namespace>& namespaces);

// Opens each join's path (close-on-exec); close_namespaces closes them again.
Status open_namespaces(std::vector<NamespaceJoin>& joins);
void close_namespaces(std::vector<NamespaceJoin>& joins);

// Joins each namespace in `joins` (runs in the child: no logging). The pid namespace join takes effect for
// children only: the caller forks afterwards.
Status join_namespaces(const std::vector<NamespaceJoin>& joins);

}  // namespace litebox::linux_host
