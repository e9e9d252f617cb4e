// Mounting one entry of the spec's "mounts" inside the root (runc's mountToRootfs). Private to
// platforms/linux: rootfs_setup.cpp calls it for each mount in order.
#pragma once

#include <string>
#include <vector>

#include "litebox/linux/cgroups.hpp"
#include "litebox/linux/error.hpp"
#include "oci/mounts.hpp"

namespace litebox::linux_host::rootfs_detail {

struct MountContext {
  int root_fd = -1;    // the root, after it was bind-mounted onto itself
  std::string rootfs;  // its host path, for messages and /proc checks
  std::string bundle;  // relative bind sources are relative to it
  const std::vector<CgroupMountSource>* cgroup_sources = nullptr;
  bool cgroup_namespace = false;  // the container has its own cgroup namespace: mount cgroup file systems afresh
};

Status mount_spec_entry(const MountContext& context, const oci::Mount& mount);

// Copies a directory tree (files, directories, symlinks, device nodes, fifos) with owners, modes and times,
// never following a symlink. For tmpcopyup.
Status copy_tree(int source_dir_fd, int destination_dir_fd, const std::string& where);

}  // namespace litebox::linux_host::rootfs_detail
