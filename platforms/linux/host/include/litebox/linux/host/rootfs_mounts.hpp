// The root filesystem containerd's snapshotter prepared: Create's `rootfs` mounts (overlay, bind, ...)
// mounted on <bundle>/rootfs, and taken down at delete (by the task service, or by `delete` after a crash).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "litebox/linux/error.hpp"
#include "litebox/platform/host.hpp"

namespace litebox::linux_host {

// fstab-style options: "ro", "rbind", "lowerdir=...", ...; the mount's own target must be "" (the rootfs).
using platform::RootfsMount;

// Mounts each entry on `target` in order (stacking, as containerd's mount.All does). On failure the ones
// already mounted are unmounted again.
linux_host::Status mount_rootfs(const std::vector<RootfsMount>& mounts, const std::filesystem::path& target);

// Unmounts everything mounted on `target` (lazily, repeated while it is still a mount point). Not being
// a mount point, or not existing, is success.
linux_host::Status unmount_rootfs(const std::filesystem::path& target);

}  // namespace litebox::linux_host
