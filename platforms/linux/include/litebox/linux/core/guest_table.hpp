// What the guest's kernel descriptor table holds, read from outside: the core reconciles its mirror of the
// table with it (numbers, objects, flags) and takes the object at a number when a call names one. Uses
// kcmp(KCMP_FILE), pidfd_getfd and /proc/<pid>/fd, fdinfo.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace litebox::linux_host::core {

// A duplicate of the guest's `fd` in our process (pidfd_getfd; close-on-exec), referring to the same open
// file description. -errno (-EBADF: not open).
int take_guest_fd(int pidfd, int fd) noexcept;

// 1 when process `pid_a`'s `fd_a` and process `pid_b`'s `fd_b` are one open file description (kcmp
// KCMP_FILE: a dup, a fork's copy, or ours and the guest's after an ADDFD), 0 when not, -errno.
int same_guest_description(pid_t pid_a, int fd_a, pid_t pid_b, int fd_b) noexcept;

// The children of every thread of process `pid` (/proc/<pid>/task/*/children). Empty on error.
std::vector<pid_t> guest_children(pid_t pid);

// The guest's open numbers, ascending (from /proc/<pid>/fd). Empty on error.
std::vector<int> guest_fd_numbers(pid_t pid);

// From /proc/<pid>/fdinfo/<fd>: the status flags as F_GETFL shows them, and FD_CLOEXEC (flags' O_CLOEXEC bit).
struct GuestFdInfo {
  std::uint32_t flags = 0;
  bool cloexec = false;
};
// 0, or -errno (-ENOENT: not open, or the guest is gone).
int guest_fd_info(pid_t pid, int fd, GuestFdInfo& out) noexcept;
// The pure parts, for tests and the fuzz target: an fdinfo text (0, or -EIO when it has no well-formed flags
// line) and a children list ("12 345 ": the positive numbers, in order).
int parse_fdinfo(std::string_view text, GuestFdInfo& out) noexcept;
std::vector<pid_t> parse_children(std::string_view text);

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
