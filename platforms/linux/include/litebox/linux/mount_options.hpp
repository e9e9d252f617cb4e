// A spec mount's "options" (fstab style) turned into what mount(2), propagation changes and mount_setattr(2)
// take, with runc's meanings.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "litebox/linux/error.hpp"

namespace litebox::linux_host {

// Attribute changes applied to a whole mount tree with mount_setattr(AT_RECURSIVE): "rro", "rnosuid", ...
struct RecursiveMountAttributes {
  std::uint64_t set = 0;    // MOUNT_ATTR_* to set
  std::uint64_t clear = 0;  // MOUNT_ATTR_* to clear (MOUNT_ATTR__ATIME when the atime mode changes)
  bool empty() const noexcept { return set == 0 && clear == 0; }
};

struct MountOptions {
  unsigned long flags = 0;                 // MS_* for mount(2): MS_RDONLY, MS_BIND, MS_REC, MS_NOSUID, ...
  std::vector<unsigned long> propagation;  // MS_PRIVATE, MS_SLAVE|MS_REC, ...: applied one by one after mounting
  RecursiveMountAttributes recursive;      // the "r" options: applied after mounting
  std::string data;                        // everything else, comma-separated, for the file system
  bool tmpcopyup = false;                  // runc's extension: copy what was at the destination into the tmpfs

  bool is_bind() const noexcept;
};

// Parses a mount's options. "idmap"/"ridmap" are refused (id-mapped mounts are not supported); unknown
// options go to `data` for the file system to judge.
Expected<MountOptions> parse_mount_options(const std::vector<std::string>& options);

// "rslave" -> MS_SLAVE|MS_REC and the like, for linux.rootfsPropagation; "" -> 0.
Expected<unsigned long> parse_propagation(std::string_view name);

}  // namespace litebox::linux_host
