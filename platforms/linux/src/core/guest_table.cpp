#include "litebox/linux/core/guest_table.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <string_view>

namespace litebox::linux_host::core {
namespace {

// One of our descriptors that is always open: kcmp needs a valid descriptor on our side, and tells an unopened
// one on the guest's side by EBADF.
int probe_descriptor() noexcept {
  static const int fd = [] {
    const int opened = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    return opened >= 0 ? opened : -errno;
  }();
  return fd;
}

long kcmp_file(pid_t pid, int ours, int theirs) noexcept {
  const long result = ::syscall(SYS_kcmp, ::getpid(), pid, KCMP_FILE, static_cast<unsigned long>(ours),
                                static_cast<unsigned long>(theirs));
  return result < 0 ? -errno : result;
}

template <typename T>
bool parse_number(std::string_view text, T& out, int base = 10) noexcept {
  if (text.empty()) return false;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out, base);
  return error == std::errc{} && end == text.data() + text.size();
}

}  // namespace

int guest_fd_open(pid_t pid, int fd) noexcept {
  if (fd < 0) return -EBADF;
  const int probe = probe_descriptor();
  if (probe < 0) return probe;
  const long result = kcmp_file(pid, probe, fd);
  if (result == -EBADF) return 0;
  return result < 0 ? static_cast<int>(result) : 1;
}

int take_guest_fd(int pidfd, int fd) noexcept {
  if (fd < 0) return -EBADF;
  const long result = ::syscall(SYS_pidfd_getfd, pidfd, fd, 0U);  // always close-on-exec
  return result < 0 ? -errno : static_cast<int>(result);
}

int same_description(pid_t pid, int ours, int theirs) noexcept {
  if (ours < 0 || theirs < 0) return -EBADF;
  const long result = kcmp_file(pid, ours, theirs);
  if (result < 0) return static_cast<int>(result);
  return result == 0 ? 1 : 0;
}

std::vector<int> guest_fd_numbers(pid_t pid) {
  std::vector<int> numbers;
  char path[48];
  std::snprintf(path, sizeof path, "/proc/%d/fd", static_cast<int>(pid));
  DIR* directory = ::opendir(path);
  if (directory == nullptr) return numbers;
  while (const dirent* entry = ::readdir(directory)) {
    int number = -1;
    if (parse_number(std::string_view(entry->d_name), number) && number >= 0) numbers.push_back(number);
  }
  ::closedir(directory);
  std::sort(numbers.begin(), numbers.end());
  return numbers;
}

int guest_fd_info(pid_t pid, int fd, GuestFdInfo& out) noexcept {
  if (fd < 0) return -ENOENT;
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/fdinfo/%d", static_cast<int>(pid), fd);
  const int file = ::open(path, O_RDONLY | O_CLOEXEC);
  if (file < 0) return -errno;
  // "pos:\t0\nflags:\t02\nmnt_id:\t..." : the flags line is the second; the rest (epoll, inotify lists) is
  // not needed.
  char buffer[512];
  std::size_t size = 0;
  for (;;) {
    const ssize_t n = ::read(file, buffer + size, sizeof buffer - size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    size += static_cast<std::size_t>(n);
    if (size == sizeof buffer) break;
  }
  ::close(file);
  const std::string_view text(buffer, size);
  constexpr std::string_view key = "flags:\t";
  std::size_t at = text.starts_with(key) ? 0 : text.find("\nflags:\t");
  if (at == std::string_view::npos) return -EIO;
  if (at != 0) ++at;
  const std::size_t begin = at + key.size();
  const std::size_t end = text.find('\n', begin);
  if (end == std::string_view::npos) return -EIO;
  std::uint32_t flags = 0;
  if (!parse_number(text.substr(begin, end - begin), flags, 8)) return -EIO;
  out.cloexec = (flags & static_cast<std::uint32_t>(O_CLOEXEC)) != 0;
  out.flags = flags & ~static_cast<std::uint32_t>(O_CLOEXEC);
  return 0;
}

int guest_fd_object(pid_t pid, int fd, DescriptorObject& out) noexcept {
  if (fd < 0) return -EBADF;
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/fd/%d", static_cast<int>(pid), fd);
  struct stat st{};
  if (::stat(path, &st) != 0) return -errno;
  out = DescriptorObject{st.st_dev, st.st_ino};
  return 0;
}

int own_fd_object(int fd, DescriptorObject& out) noexcept {
  struct stat st{};
  if (::fstat(fd, &st) != 0) return -errno;
  out = DescriptorObject{st.st_dev, st.st_ino};
  return 0;
}

std::string descriptor_target(pid_t pid, int fd) {
  if (fd < 0) return {};
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/fd/%d", static_cast<int>(pid), fd);
  std::string target(256, '\0');
  for (;;) {
    const ssize_t n = ::readlink(path, target.data(), target.size());
    if (n < 0) return {};
    if (static_cast<std::size_t>(n) < target.size()) {
      target.resize(static_cast<std::size_t>(n));
      return target;
    }
    if (target.size() >= 65536) return {};
    target.resize(target.size() * 2);
  }
}

int same_table(pid_t a, pid_t b) noexcept {
  if (a == b) return 1;
  const long result = ::syscall(SYS_kcmp, a, b, KCMP_FILES, 0UL, 0UL);
  if (result < 0) return -errno;
  return result == 0 ? 1 : 0;
}

}  // namespace litebox::linux_host::core
