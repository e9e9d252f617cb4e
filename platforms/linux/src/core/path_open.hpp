// Path opens for a guest, resolved by the core inside the guest's root with the guest's credentials:
// absolute paths with openat2(RESOLVE_IN_ROOT) from its root, relative ones from its cwd or dirfd with the
// worker thread chrooted into that root (so ".." stops where it stops for the guest). Magic links are never
// followed (RESOLVE_NO_MAGICLINKS): /proc/self/fd/N, /dev/fd/N and /dev/std* reopen what the caller's own
// table holds at N; another process's are refused (ELOOP).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "litebox/linux/core/guest_credentials.hpp"
#include "litebox/linux/owned_fd.hpp"

namespace litebox::linux_host::core::detail {

// Everything an open needs, prepared on the listener's thread (and carried to the pool when it might block).
struct OpenRequest {
  pid_t tid = 0;            // the calling thread (shim's pid namespace)
  GuestCredentials creds;   // the caller's, read for this call
  OwnedFd dir;              // relative paths: our copy of the guest's dirfd, or its cwd
  OwnedFd alias;            // our copy of the descriptor an own magic link names (/proc/self/fd/N, /dev/stdin)
  OwnedFd root;             // the caller's root (required)
  std::string path;
  std::uint64_t flags = 0;  // open(2) flags as the guest passed them
  std::uint64_t mode = 0;
  std::uint64_t resolve = 0;  // openat2's RESOLVE_* from the guest
  bool strict = false;        // openat2: the mode and flags are checked as given
};

// Once per worker thread (after prepare_worker_thread): the descriptors the worker returns to after a chroot.
int prepare_path_worker() noexcept;

// Our new descriptor (close-on-exec, O_NOCTTY) for the guest's open, or -errno.
int open_for_guest(const OpenRequest& request) noexcept;

// Whether `path` (absolute) names another process's magic link (/proc/<pid>/fd/N, .../cwd, .../root, .../exe,
// /proc/<pid>/task/<tid>/...), which the core refuses to open for a guest.
bool names_foreign_magic_link(const std::string& path, const GuestCredentials& creds) noexcept;

// Whether open_for_guest might block: the path names something other than a regular file or a directory (a
// FIFO, a device, a socket), resolved without opening it (O_PATH). A path that does not exist yet cannot block.
bool open_might_block(const OpenRequest& request) noexcept;

// The guest's own-descriptor aliases: the number N when `path` names one of the caller's descriptors
// (/proc/self/fd/N, /proc/thread-self/fd/N, /proc/<its pid>/fd/N, /proc/<its pid>/task/<its tid>/fd/N,
// /dev/fd/N, /dev/stdin|stdout|stderr), else -1. `thread_table` (when given) says whether the path names the
// calling thread's own table (thread-self, task/<tid>) rather than its process's. `guest_pid`, `guest_tid`: the
// caller's ids in its own pid namespace. Pure: exposed for tests.
int own_descriptor_alias(const std::string& path, pid_t guest_pid, pid_t guest_tid,
                         bool* thread_table = nullptr) noexcept;

// Whether an own magic link may be followed: not when the caller asked openat2 for RESOLVE_NO_MAGICLINKS or
// RESOLVE_NO_SYMLINKS (it then gets ELOOP, as natively).
bool magic_links_allowed(std::uint64_t resolve) noexcept;

}  // namespace litebox::linux_host::core::detail
