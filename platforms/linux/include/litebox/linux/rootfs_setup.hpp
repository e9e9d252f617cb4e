// The container's root file system, as runc's rootfs_linux.go builds it. Runs in the container's init after
// it was forked into a new mount namespace (the child of a possibly multi-threaded runtime: these functions
// allocate but take no other lock and do not log; every failure comes back as an Error whose message names
// what failed, where, and why).
//
// Order of calls in the init:
//   1. prepare_rootfs(spec, setup)    root propagation, the rootfs bound onto itself, the spec's mounts in
//                                     order, /dev (devices, ptmx, links), /dev/console; the root is unchanged
//   2. (runtime: prestart/createRuntime hooks; init: createContainer hooks; the old root is still visible)
//   3. pivot_into_rootfs(setup)       pivot_root(".", ".") + detach of the old root (or MS_MOVE + chroot);
//                                     stdio on the host's /dev/null is re-opened on the container's; cwd "/"
//   4. (init: a terminal made inside the container may be bound with mount_console(root "/", ...))
//   5. finish_rootfs(spec)            rootfsPropagation on the new "/", read-only tmpfs and /dev, read-only
//                                     root, sysctls, readonlyPaths, maskedPaths
//   6. (init: hostname, credentials, seccomp, exec)
// setup_rootfs() does 1, 3 and 5 for callers without hooks.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "litebox/linux/cgroups.hpp"
#include "litebox/linux/error.hpp"
#include "oci/spec.hpp"

namespace litebox::linux_host {

struct RootfsSetup {
  std::string rootfs;     // absolute host path of the root file system (root.path resolved against the bundle)
  std::string bundle;     // the bundle directory: relative bind-mount sources are relative to it
  bool no_pivot = false;  // runc's --no-pivot: MS_MOVE + chroot instead of pivot_root
  // A terminal's slave, as a path this process can open before pivot_root (e.g. the host's /dev/pts/3), to be
  // bound onto /dev/console; empty for none.
  std::string console_slave;
  // The container's cgroup hierarchies, for "cgroup" mounts (cgroups.hpp).
  std::vector<CgroupMountSource> cgroup_mounts;
};

// Checks linux.sysctl against the namespaces the spec creates or joins, as runc does: IPC keys (kernel.msg*,
// kernel.sem, kernel.shm*, fs.mqueue.*) need an IPC namespace, net.* a network namespace, kernel.domainname a
// UTS namespace; kernel.hostname is refused (use "hostname"); anything else is not namespaced and refused.
// Keys with empty, "." or ".." components are refused. prepare_rootfs calls it first; the runtime may call it
// earlier to fail before forking.
Status validate_sysctls(const oci::Spec& spec);

// Step 1 (see above). Leaves the working directory at the rootfs.
Status prepare_rootfs(const oci::Spec& spec, const RootfsSetup& setup);

// Step 3. pivot_root when the root allows it; falls back to MS_MOVE + chroot when pivot_root fails with
// EINVAL and "/" is a ramfs/tmpfs (an initramfs), or when `setup.no_pivot`. Leaves the working directory "/".
Status pivot_into_rootfs(const RootfsSetup& setup);

// Step 5, run inside the new root.
Status finish_rootfs(const oci::Spec& spec);

// Steps 1, 3 and 5 in a row.
Status setup_rootfs(const oci::Spec& spec, const RootfsSetup& setup);

}  // namespace litebox::linux_host
