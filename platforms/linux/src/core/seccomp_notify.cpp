#include "litebox/linux/core/seccomp_notify.hpp"

#include <fcntl.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>

// Linux 6.6's SECCOMP_IOCTL_NOTIF_SET_FLAGS, newer than Debian 12's headers.
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

namespace litebox::linux_host::core {
namespace {

// The kernel's sizes of the notification structures (SECCOMP_GET_NOTIF_SIZES), at least ours: a newer kernel
// may write a bigger seccomp_notif than our header describes, so the receive buffer gets its size.
struct NotifSizes {
  std::size_t notif = sizeof(seccomp_notif);
  std::size_t resp = sizeof(seccomp_notif_resp);
};

const NotifSizes& notif_sizes() noexcept {
  static const NotifSizes sizes = [] {
    NotifSizes result;
    seccomp_notif_sizes kernel{};
    if (::syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &kernel) == 0) {
      if (kernel.seccomp_notif > result.notif) result.notif = kernel.seccomp_notif;
      if (kernel.seccomp_notif_resp > result.resp) result.resp = kernel.seccomp_notif_resp;
    }
    return result;
  }();
  return sizes;
}

// A zeroed buffer of at least `size` bytes, aligned for the structures: on the stack when it fits.
class ZeroedBuffer {
 public:
  explicit ZeroedBuffer(std::size_t size) noexcept {
    if (size <= sizeof local_) {
      std::memset(local_, 0, sizeof local_);
      data_ = local_;
    } else {
      heap_ = std::calloc(1, size);
      data_ = heap_;
    }
  }
  ~ZeroedBuffer() { std::free(heap_); }
  ZeroedBuffer(const ZeroedBuffer&) = delete;
  ZeroedBuffer& operator=(const ZeroedBuffer&) = delete;
  void* data() const noexcept { return data_; }

 private:
  alignas(std::max_align_t) unsigned char local_[256];
  void* heap_ = nullptr;
  void* data_ = nullptr;
};

int ioctl_retrying(int listener, unsigned long request, void* argument) noexcept {
  for (;;) {
    const int result = ::ioctl(listener, request, argument);
    if (result >= 0) return result;
    if (errno != EINTR) return -errno;
  }
}

int send_response(int listener, std::uint64_t id, std::int64_t value, int error, std::uint32_t flags) noexcept {
  ZeroedBuffer buffer(notif_sizes().resp);
  if (buffer.data() == nullptr) return -ENOMEM;
  auto* response = static_cast<seccomp_notif_resp*>(buffer.data());
  response->id = id;
  response->val = value;
  response->error = error;
  response->flags = flags;
  const int result = ioctl_retrying(listener, SECCOMP_IOCTL_NOTIF_SEND, response);
  return result < 0 ? result : 0;
}

}  // namespace

int receive_notification(int listener, Notification& out) noexcept {
  ZeroedBuffer buffer(notif_sizes().notif);
  if (buffer.data() == nullptr) return -ENOMEM;
  auto* notif = static_cast<seccomp_notif*>(buffer.data());
  for (;;) {
    const int result = ::ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, notif);
    if (result >= 0) break;
    if (errno != EINTR) return -errno;
    // The kernel requires a zeroed structure on every call.
    std::memset(notif, 0, notif_sizes().notif);
  }
  out.id = notif->id;
  out.pid = static_cast<pid_t>(notif->pid);
  out.nr = notif->data.nr;
  out.arch = notif->data.arch;
  out.ip = notif->data.instruction_pointer;
  for (std::size_t i = 0; i < out.args.size(); ++i) out.args[i] = notif->data.args[i];
  return 0;
}

int request_sync_wake_up(int listener) noexcept {
  return ioctl_retrying(listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS,
                        reinterpret_cast<void*>(static_cast<std::uintptr_t>(SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP)));
}

int respond_value(int listener, std::uint64_t id, std::int64_t value) noexcept {
  return send_response(listener, id, value, 0, 0);
}

int respond_error(int listener, std::uint64_t id, int error) noexcept {
  if (error <= 0) return -EINVAL;
  return send_response(listener, id, 0, -error, 0);
}

int respond_continue(int listener, std::uint64_t id) noexcept {
  return send_response(listener, id, 0, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
}

int notification_valid(int listener, std::uint64_t id) noexcept {
  std::uint64_t copy = id;
  const int result = ioctl_retrying(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &copy);
  return result < 0 ? result : 0;
}

int add_descriptor(int listener, std::uint64_t id, int source, int target, bool cloexec, bool send) noexcept {
  if (source < 0 || target < -1) return -EBADF;
  seccomp_notif_addfd addfd{};
  addfd.id = id;
  addfd.flags = (target >= 0 ? SECCOMP_ADDFD_FLAG_SETFD : 0U) | (send ? SECCOMP_ADDFD_FLAG_SEND : 0U);
  addfd.srcfd = static_cast<std::uint32_t>(source);
  addfd.newfd = target >= 0 ? static_cast<std::uint32_t>(target) : 0U;
  addfd.newfd_flags = cloexec ? static_cast<std::uint32_t>(O_CLOEXEC) : 0U;
  // An interrupted ADDFD that the guest had not processed yet is withdrawn by the kernel (one that had is
  // reported as done), so repeating it cannot install twice.
  return ioctl_retrying(listener, SECCOMP_IOCTL_NOTIF_ADDFD, &addfd);
}

}  // namespace litebox::linux_host::core
