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
#include <new>
#include <string>
#include <string_view>

namespace litebox::linux_host::core {
namespace {

template <typename T>
bool parse_number(std::string_view text, T& out, int base = 10) noexcept {
  if (text.empty()) return false;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out, base);
  return error == std::errc{} && end == text.data() + text.size();
}

}  // namespace

int take_guest_fd(int pidfd, int fd) noexcept {
  if (fd < 0) return -EBADF;
  const long result = ::syscall(SYS_pidfd_getfd, pidfd, fd, 0U);  // always close-on-exec
  return result < 0 ? -errno : static_cast<int>(result);
}

namespace {

// The entries of a /proc directory whose names are numbers (descriptors, tasks), ascending. Empty on error.
std::vector<int> numbered_entries(const char* path) {
  std::vector<int> numbers;
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

// A small /proc file's text, at most `max` bytes (empty when it cannot be read).
std::string read_proc_text(const char* path, std::size_t max) {
  std::string text;
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return text;
  char buffer[4096];
  while (text.size() < max) {
    const ssize_t n = ::read(fd, buffer, std::min(sizeof buffer, max - text.size()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return text;
}

}  // namespace

std::vector<int> guest_fd_numbers(pid_t pid) {
  char path[48];
  std::snprintf(path, sizeof path, "/proc/%d/fd", static_cast<int>(pid));
  return numbered_entries(path);
}

int parse_fdinfo(std::string_view text, GuestFdInfo& out) noexcept {
  // "pos:\t0\nflags:\t02\nmnt_id:\t..."
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

std::vector<pid_t> parse_children(std::string_view text) {
  std::vector<pid_t> children;
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t end = std::min(text.find_first_of(" \n", at), text.size());
    int child = -1;
    if (parse_number(text.substr(at, end - at), child) && child > 0) children.push_back(child);
    at = end + 1;
  }
  return children;
}

int guest_fd_info(pid_t pid, int fd, GuestFdInfo& out) noexcept {
  if (fd < 0) return -ENOENT;
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/fdinfo/%d", static_cast<int>(pid), fd);
  try {
    // The flags line is the second; the rest (epoll, inotify lists) is not needed.
    const std::string text = read_proc_text(path, 512);
    if (text.empty()) return ::access(path, F_OK) == 0 ? -EIO : -ENOENT;
    return parse_fdinfo(text, out);
  } catch (const std::bad_alloc&) {
    return -ENOMEM;
  }
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

int same_guest_description(pid_t pid_a, int fd_a, pid_t pid_b, int fd_b) noexcept {
  if (fd_a < 0 || fd_b < 0) return -EBADF;
  const long result = ::syscall(SYS_kcmp, pid_a, pid_b, KCMP_FILE, static_cast<unsigned long>(fd_a),
                                static_cast<unsigned long>(fd_b));
  if (result < 0) return -errno;
  return result == 0 ? 1 : 0;
}

std::vector<pid_t> guest_children(pid_t pid) {
  std::vector<pid_t> children;
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/task", static_cast<int>(pid));
  for (int tid : numbered_entries(path)) {
    char file[96];
    std::snprintf(file, sizeof file, "/proc/%d/task/%d/children", static_cast<int>(pid), tid);
    for (pid_t child : parse_children(read_proc_text(file, 1 << 20))) children.push_back(child);
  }
  return children;
}

}  // namespace litebox::linux_host::core
