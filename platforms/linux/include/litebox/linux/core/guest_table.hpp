// What the guest's kernel descriptor table holds, read from outside: the core checks a number is free before
// it gives it out, and adopts descriptors the guest got without it (SCM_RIGHTS). Uses kcmp(KCMP_FILE),
// pidfd_getfd and /proc/<pid>/fd, fdinfo.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace litebox::linux_host::core {

// 1 when `fd` is open in the guest's table, 0 when it is free, -errno when the guest cannot be inspected
// (-ESRCH: gone). One kcmp call, no allocation.
int guest_fd_open(pid_t pid, int fd) noexcept;

// A duplicate of the guest's `fd` in our process (pidfd_getfd; close-on-exec), referring to the same open
// file description. -errno (-EBADF: not open).
int take_guest_fd(int pidfd, int fd) noexcept;

// 1 when our `ours` and the guest's `theirs` refer to the same open file description (kcmp KCMP_FILE),
// 0 when not, -errno.
int same_description(pid_t pid, int ours, int theirs) noexcept;

// 1 when the two tasks use the same descriptor table (kcmp KCMP_FILES: threads, CLONE_FILES), 0 when not,
// -errno.
int same_table(pid_t a, pid_t b) noexcept;

// The guest's open numbers, ascending (from /proc/<pid>/fd). Empty on error.
std::vector<int> guest_fd_numbers(pid_t pid);

// From /proc/<pid>/fdinfo/<fd>: the status flags as F_GETFL shows them, and FD_CLOEXEC (flags' O_CLOEXEC bit).
struct GuestFdInfo {
  std::uint32_t flags = 0;
  bool cloexec = false;
};
// 0, or -errno (-ENOENT: not open, or the guest is gone).
int guest_fd_info(pid_t pid, int fd, GuestFdInfo& out) noexcept;

// The object (file, pipe, socket) a descriptor refers to: its device and inode. Two descriptions of one file
// share it; so do all anonymous-inode objects (eventfd, epoll, ...). dev 0 and ino 0: unknown.
struct DescriptorObject {
  dev_t dev = 0;
  ino_t ino = 0;
  bool known() const noexcept { return dev != 0 || ino != 0; }
  bool operator==(const DescriptorObject&) const noexcept = default;
};
// Of the guest's `fd` (stat through /proc/<pid>/fd/<fd>): 0, or -errno (-ENOENT: not open, or gone).
int guest_fd_object(pid_t pid, int fd, DescriptorObject& out) noexcept;
// Of one of our own descriptors: 0, or -errno.
int own_fd_object(int fd, DescriptorObject& out) noexcept;

// What a descriptor refers to, as readlink(/proc/<pid>/fd/<fd>) says: "/etc/passwd", "pipe:[1234]". Our own
// descriptors: pid = getpid(). Empty on error.
std::string descriptor_target(pid_t pid, int fd);

}  // namespace litebox::linux_host::core
