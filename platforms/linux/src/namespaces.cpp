#include "litebox/linux/namespaces.hpp"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <utility>

namespace litebox::linux_host {
namespace {

#ifndef CLONE_NEWTIME
constexpr int CLONE_NEWTIME = 0x00000080;
#endif

struct NamespaceType {
  std::string_view spec_name;
  std::string_view proc_name;
  int flag;
};

constexpr std::array<NamespaceType, 8> kTypes{{
    {"user", "user", CLONE_NEWUSER},
    {"mount", "mnt", CLONE_NEWNS},
    {"pid", "pid", CLONE_NEWPID},
    {"network", "net", CLONE_NEWNET},
    {"uts", "uts", CLONE_NEWUTS},
    {"ipc", "ipc", CLONE_NEWIPC},
    {"cgroup", "cgroup", CLONE_NEWCGROUP},
    {"time", "time", CLONE_NEWTIME},
}};

}  // namespace

bool NamespacePlan::joins_pid() const {
  return std::any_of(joins.begin(), joins.end(), [](const NamespaceJoin& j) { return j.flag == CLONE_NEWPID; });
}

int namespace_flag(std::string_view type) {
  for (const auto& t : kTypes) {
    if (t.spec_name == type) return t.flag;
  }
  return 0;
}

std::string_view proc_ns_name(int flag) {
  for (const auto& t : kTypes) {
    if (t.flag == flag) return t.proc_name;
  }
  return {};
}

Expected<NamespacePlan> plan_namespaces(const std::vector<oci::Namespace>& namespaces) {
  NamespacePlan plan;
  int seen = 0;
  for (std::size_t i = 0; i < namespaces.size(); ++i) {
    const auto& ns = namespaces[i];
    const int flag = namespace_flag(ns.type);
    const std::string where = "linux.namespaces[" + std::to_string(i) + "]";
    if (flag == 0) return Error{EINVAL, where + ": unknown namespace type \"" + ns.type + "\""};
    if ((seen & flag) != 0) return Error{EINVAL, where + ": namespace \"" + ns.type + "\" given twice"};
    seen |= flag;
    if (!ns.path.empty()) {
      if (ns.path.front() != '/') {
        return Error{EINVAL, where + ": path \"" + ns.path + "\" must be absolute"};
      }
      plan.joins.push_back({flag, ns.path});
      continue;
    }
    switch (flag) {
      case CLONE_NEWUSER: plan.new_user = true; break;
      case CLONE_NEWCGROUP: plan.new_cgroup = true; continue;  // unshared later, not cloned
      case CLONE_NEWPID: plan.new_pid = true; break;
      case CLONE_NEWUTS: plan.new_uts = true; break;
      case CLONE_NEWNS: plan.new_mount = true; break;
      case CLONE_NEWTIME:
        // A new time namespace needs its offsets written before any process is in it (unshare, write
        // /proc/self/timens_offsets, fork once more): not done yet, so refuse rather than ignore it.
        return Error{EOPNOTSUPP, where + ": creating a time namespace is not supported yet (join one by path)"};
      default: break;
    }
    plan.clone_flags |= flag;
  }
  std::stable_partition(plan.joins.begin(), plan.joins.end(),
                        [](const NamespaceJoin& j) { return j.flag == CLONE_NEWUSER; });
  return plan;
}

Status open_namespaces(std::vector<NamespaceJoin>& joins) {
  for (auto& join : joins) {
    if (join.fd >= 0) continue;
    join.fd = ::open(join.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (join.fd < 0) return Error::from_errno("open namespace " + join.path);
  }
  return {};
}

void close_namespaces(std::vector<NamespaceJoin>& joins) {
  for (auto& join : joins) {
    if (join.fd >= 0) ::close(join.fd);
    join.fd = -1;
  }
}

Status join_namespaces(const std::vector<NamespaceJoin>& joins) {
  for (const auto& join : joins) {
    const int fd = join.fd >= 0 ? join.fd : ::open(join.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Error::from_errno("open namespace " + join.path);
    const int rc = ::setns(fd, join.flag);
    const int saved = errno;
    if (fd != join.fd) ::close(fd);
    if (rc != 0) {
      return Error::from_errno("join " + std::string(proc_ns_name(join.flag)) + " namespace " + join.path, saved);
    }
  }
  return {};
}

}  // namespace litebox::linux_host
