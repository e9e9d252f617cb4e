// The root filesystem containerd's snapshotter prepared: Create's `rootfs` mounts (overlay, bind, ...)
// mounted on <bundle>/rootfs, and taken down at delete (by the task service, or by `delete` after a crash).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "litebox/linux/error.hpp"

namespace litebox::shim {

struct RootfsMount {
  std::string type;
  std::string source;
  std::vector<std::string> options;  // fstab style: "ro", "rbind", "lowerdir=...", ...
};

// Mounts each entry on `target` in order (stacking, as containerd's mount.All does). On failure the ones
// already mounted are unmounted again.
linux_host::Status mount_rootfs(const std::vector<RootfsMount>& mounts, const std::filesystem::path& target);

// Unmounts everything mounted on `target` (lazily, repeated while it is still a mount point). Not being
// a mount point, or not existing, is success.
linux_host::Status unmount_rootfs(const std::filesystem::path& target);

}  // namespace litebox::shim
