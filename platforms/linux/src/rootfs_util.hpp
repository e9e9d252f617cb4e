// Small helpers shared by the root file system code (private to platforms/linux). Everything here is safe to
// call in a child after fork() of a multi-threaded process: no locks besides malloc's, no logging.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "litebox/linux/error.hpp"

namespace litebox::linux_host::rootfs_detail {

// "what: <description of code>", with `code` as the error's code. Uses strerrordesc_np: unlike strerror it
// takes no locale lock, which a fork()ed child of a multi-threaded parent must not take.
Error sys_error(const std::string& what, int code);

// mount(2) with a message naming the source, the destination as the container sees it and the root:
// "mount proc to /proc (in /run/x/rootfs): Operation not permitted".
Status do_mount(const std::string& source, const std::string& target, const char* fstype, unsigned long flags,
                const std::string& data, std::string_view destination, std::string_view rootfs);

// The whole content of a (small, virtual) file such as /proc/self/mountinfo; empty on error.
std::string read_small_file(const char* path);

// One line of /proc/self/mountinfo.
struct MountInfoEntry {
  std::string mount_point;  // unescaped
  std::string root;         // the mounted subtree of its file system
  std::string fstype;
  std::string optional_fields;  // "shared:1 master:2"
};
std::vector<MountInfoEntry> read_mountinfo();

}  // namespace litebox::linux_host::rootfs_detail
