#include "litebox/linux/core/guest_memory.hpp"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <new>

namespace litebox::linux_host::core {
namespace {

constexpr std::uint64_t kMaxOffset = static_cast<std::uint64_t>(std::numeric_limits<off_t>::max());

std::size_t page_size() noexcept {
  static const std::size_t size = [] {
    const long value = ::sysconf(_SC_PAGESIZE);
    return value > 0 ? static_cast<std::size_t>(value) : std::size_t{4096};
  }();
  return size;
}

// Whether [address, address + size) can be a user address range at all.
bool range_ok(std::uint64_t address, std::size_t size) noexcept {
  return address <= kMaxOffset && size <= kMaxOffset - address;
}

// /proc/<pid>/mem, for when process_vm_* is not available (EPERM from a security module, ENOSYS).
// pread/pwrite on an open /proc/<pid>/mem until `size` bytes are done.
int mem_fd_transfer(int fd, std::uint64_t address, void* buffer, std::size_t size, bool write) noexcept {
  auto* bytes = static_cast<unsigned char*>(buffer);
  std::size_t done = 0;
  int result = 0;
  while (done < size) {
    const off_t offset = static_cast<off_t>(address + done);
    const ssize_t n = write ? ::pwrite(fd, bytes + done, size - done, offset)
                            : ::pread(fd, bytes + done, size - done, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      result = errno == EIO ? -EFAULT : -errno;  // an unmapped page reads as EIO
      break;
    }
    if (n == 0) {
      // Nothing at all from the first byte: the address space is gone (mmget fails once it exec'd or exited).
      result = done == 0 && !write ? -ESRCH : -EFAULT;
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  return result;
}

int proc_mem_transfer(pid_t pid, std::uint64_t address, void* buffer, std::size_t size, bool write) noexcept {
  char path[48];
  std::snprintf(path, sizeof path, "/proc/%d/mem", static_cast<int>(pid));
  const int fd = ::open(path, (write ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT ? -ESRCH : -errno;
  const int result = mem_fd_transfer(fd, address, buffer, size, write);
  ::close(fd);
  return result == -ESRCH ? -EFAULT : result;  // opened just now: the address space exists
}

// Reads a NUL-terminated string of at most `max` bytes with `read` (address, buffer, size -> 0 or -errno), page
// by page.
template <typename Read>
int read_string_with(Read&& read, std::uint64_t address, std::size_t max, std::string& out) noexcept {
  out.clear();
  if (address == 0) return -EFAULT;
  if (max == 0) return -ENAMETOOLONG;
  try {
    const std::size_t page = page_size();
    std::size_t have = 0;
    while (have < max) {
      // Never cross into the next page in one read: it may be unmapped while the string ends before it.
      const std::uint64_t at = address + have;
      if (at < address) return -EFAULT;  // wrapped around
      std::size_t chunk = page - static_cast<std::size_t>(at % page);
      if (chunk > max - have) chunk = max - have;
      out.resize(have + chunk);
      const int result = read(at, out.data() + have, chunk);
      if (result < 0) {
        out.clear();
        return result;
      }
      const void* nul = std::memchr(out.data() + have, '\0', chunk);
      if (nul != nullptr) {
        out.resize(static_cast<std::size_t>(static_cast<const char*>(nul) - out.data()));
        return 0;
      }
      have += chunk;
    }
  } catch (const std::bad_alloc&) {
    out.clear();
    return -ENOMEM;
  }
  out.clear();
  return -ENAMETOOLONG;
}

int vm_transfer(pid_t pid, std::uint64_t address, void* buffer, std::size_t size, bool write) noexcept {
  if (size == 0) return 0;
  if (!range_ok(address, size)) return -EFAULT;
  auto* bytes = static_cast<unsigned char*>(buffer);
  std::size_t done = 0;
  while (done < size) {
    iovec local{bytes + done, size - done};
    iovec remote{reinterpret_cast<void*>(static_cast<std::uintptr_t>(address + done)), size - done};
    const ssize_t n = write ? ::process_vm_writev(pid, &local, 1, &remote, 1, 0)
                            : ::process_vm_readv(pid, &local, 1, &remote, 1, 0);
    if (n < 0) {
      const int error = errno;
      if (error == EINTR) continue;
      if (error == EPERM || error == ENOSYS) {
        return proc_mem_transfer(pid, address + done, bytes + done, size - done, write);
      }
      return -error;
    }
    if (n == 0) return -EFAULT;
    done += static_cast<std::size_t>(n);  // a short transfer stops at a fault: the next call reports it
  }
  return 0;
}

}  // namespace

namespace detail {

int proc_mem_read(pid_t pid, std::uint64_t address, void* out, std::size_t size) noexcept {
  if (size == 0) return 0;
  if (!range_ok(address, size)) return -EFAULT;
  return proc_mem_transfer(pid, address, out, size, false);
}

int proc_mem_write(pid_t pid, std::uint64_t address, const void* data, std::size_t size) noexcept {
  if (size == 0) return 0;
  if (!range_ok(address, size)) return -EFAULT;
  return proc_mem_transfer(pid, address, const_cast<void*>(data), size, true);
}

}  // namespace detail

int read_guest(pid_t pid, std::uint64_t address, void* out, std::size_t size) noexcept {
  return vm_transfer(pid, address, out, size, false);
}

int write_guest(pid_t pid, std::uint64_t address, const void* data, std::size_t size) noexcept {
  return vm_transfer(pid, address, const_cast<void*>(data), size, true);
}

int read_guest_string(pid_t pid, std::uint64_t address, std::size_t max, std::string& out) noexcept {
  return read_string_with(
      [pid](std::uint64_t at, char* to, std::size_t size) { return read_guest(pid, at, to, size); }, address, max,
      out);
}

int read_guest_at(int mem, std::uint64_t address, void* out, std::size_t size) noexcept {
  if (size == 0) return 0;
  if (!range_ok(address, size)) return -EFAULT;
  return mem_fd_transfer(mem, address, out, size, false);
}

int read_guest_string_at(int mem, std::uint64_t address, std::size_t max, std::string& out) noexcept {
  return read_string_with(
      [mem](std::uint64_t at, char* to, std::size_t size) { return read_guest_at(mem, at, to, size); }, address,
      max, out);
}

}  // namespace litebox::linux_host::core
