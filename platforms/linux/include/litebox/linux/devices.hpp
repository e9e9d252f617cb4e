// The container's /dev: device nodes (mknod, or a bind mount of the host's node where mknod is not
// permitted, as in a user namespace), /dev/ptmx and the standard links. Runs before pivot_root, in the
// container's mount namespace, on the root held by a descriptor.
#pragma once

#include <string>
#include <vector>

#include "litebox/linux/error.hpp"
#include "oci/linux.hpp"

namespace litebox::linux_host {

// What every container gets (runc's defaults): null 1:3, zero 1:5, full 1:7, random 1:8, urandom 1:9 and
// tty 5:0, character devices with mode 0666 owned by 0:0.
std::vector<oci::Device> default_devices();

// The defaults with the spec's devices added; a spec device replaces a default with the same path.
std::vector<oci::Device> devices_to_create(const std::vector<oci::Device>& spec_devices);

// Creates each device inside the root. With `bind_from_host` (a user namespace), or when mknod fails with
// EPERM, the host's node at the same path is bind-mounted onto an empty file instead. An existing node is
// left alone. /dev/ptmx is skipped (see setup_dev_links).
Status create_devices(int root_fd, const std::string& rootfs, const std::vector<oci::Device>& devices,
                      bool bind_from_host);

// /dev/ptmx -> pts/ptmx, /dev/fd -> /proc/self/fd, /dev/stdin|stdout|stderr -> /proc/self/fd/0|1|2 and
// /dev/core -> /proc/kcore (when the host has one). Existing entries are left alone.
Status setup_dev_links(int root_fd, const std::string& rootfs);

// Bind-mounts a terminal's slave (`slave_path`, a path this process can open now) onto /dev/console of the
// root held by `root_fd`, creating the mount point. Before pivot_root that is the host's pty; after it,
// pass the root "/" descriptor and a slave inside the container (runc's order).
Status mount_console(int root_fd, const std::string& rootfs, const std::string& slave_path);

}  // namespace litebox::linux_host
