// The kernel's seccomp user-notification interface (SECCOMP_IOCTL_NOTIF_*), as the core uses it: receive a
// guest's stopped system call, answer it (a value, an errno, or "run it natively"), install a descriptor into
// the guest's table, and check that a notification is still pending. All calls return 0 / a value, or -errno;
// none throws.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>

namespace litebox::linux_host::core {

// One stopped system call.
struct Notification {
  std::uint64_t id = 0;
  pid_t pid = 0;  // the calling thread, in the shim's pid namespace
  int nr = -1;    // system call number (x86_64)
  std::uint32_t arch = 0;
  std::uint64_t ip = 0;
  std::array<std::uint64_t, 6> args{};
};

// Blocks until a notification arrives. -ENOENT: the guest went away between the wake-up and the read (try
// again); other -errno: the listener is unusable.
int receive_notification(int listener, Notification& out) noexcept;

// Asks the kernel (6.6+, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) to hand the CPU straight from the stopping guest
// to the thread receiving on `listener`, and back from the answer to the guest: the round trip needs no
// scheduler decision, and a guest's call waits for receipt (when a signal can still interrupt it) only as long
// as one switch takes. -EINVAL on older kernels: the listener works as before.
int request_sync_wake_up(int listener) noexcept;

// Answers: the guest's call returns `value`.
int respond_value(int listener, std::uint64_t id, std::int64_t value) noexcept;
// Answers: the guest's call fails with `error` (a positive errno).
int respond_error(int listener, std::uint64_t id, int error) noexcept;
// Answers: the kernel runs the call as the guest made it (SECCOMP_USER_NOTIF_FLAG_CONTINUE).
int respond_continue(int listener, std::uint64_t id) noexcept;

// 0 while the guest still waits for this notification; -ENOENT once it does not (it was interrupted or died).
int notification_valid(int listener, std::uint64_t id) noexcept;

// Installs a duplicate of our `source` descriptor into the waiting guest (SECCOMP_IOCTL_NOTIF_ADDFD), executed
// by the guest task itself, so its RLIMIT_NOFILE applies (-EMFILE). `target` >= 0: exactly that number,
// replacing what is there (SECCOMP_ADDFD_FLAG_SETFD; -EBADF when it is at or above the guest's RLIMIT_NOFILE,
// as dup2 says); -1: the lowest free number. `send`: also answers the
// notification with the new number (SECCOMP_ADDFD_FLAG_SEND): the guest's call returns it. Returns the number
// in the guest, or -errno (-ENOENT: the guest no longer waits).
int add_descriptor(int listener, std::uint64_t id, int source, int target, bool cloexec, bool send) noexcept;

}  // namespace litebox::linux_host::core
