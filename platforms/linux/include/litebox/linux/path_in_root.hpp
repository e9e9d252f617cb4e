// Paths inside a container's root file system, resolved so that neither `..` nor symlinks in the image can
// lead outside it (what github.com/cyphar/filepath-securejoin does for runc). Resolution uses
// openat2(RESOLVE_IN_ROOT): the kernel treats the root descriptor as "/" for `..` and absolute symlinks, so a
// link rootfs/evil -> /../../etc reaches rootfs/etc. Callers act on the returned descriptor (mount onto
// /proc/self/fd/N, as runc does), which closes the window between checking a path and using it.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "litebox/linux/error.hpp"
#include "litebox/linux/owned_fd.hpp"

namespace litebox::linux_host {

// Lexically cleans a container path: "a//b/./c/" -> "/a/b/c", "/a/../b" -> "/b"; a relative path is taken as
// relative to "/". Fails when `..` climbs above "/" ("/../etc escapes the root"), which in a spec is a mistake
// or an attack.
Expected<std::string> clean_container_path(std::string_view path);

// Opens `path` (a container path) inside the root held by `root_fd` with open(2) `flags` (O_PATH, O_DIRECTORY,
// O_RDONLY...; O_CLOEXEC is always added). `extra_resolve` adds openat2 RESOLVE_* flags, e.g.
// RESOLVE_NO_SYMLINKS. Without openat2 (kernels before 5.6) the path is resolved component by component.
Expected<OwnedFd> open_in_root(int root_fd, std::string_view path, int flags, unsigned long long extra_resolve = 0);

// Like mkdir -p inside the root: creates each missing directory with `mode` and returns an O_PATH descriptor
// of the (possibly pre-existing) directory. A dangling symlink on the way is an error, not followed outside.
Expected<OwnedFd> mkdir_all_in_root(int root_fd, std::string_view path, mode_t mode);

// Returns an O_PATH descriptor of `path`, creating an empty regular file with `mode` (and missing parent
// directories) when nothing is there: the mount point for a bind mount of a file.
Expected<OwnedFd> create_file_in_root(int root_fd, std::string_view path, mode_t mode);

// The host path a descriptor stands for (readlink of /proc/self/fd/N), for checks and messages.
std::string descriptor_path(int fd);

}  // namespace litebox::linux_host
