#include "litebox/linux/path_in_root.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <vector>

#include "rootfs_util.hpp"

namespace litebox::linux_host {
namespace {

using rootfs_detail::sys_error;

std::vector<std::string> split_components(std::string_view path) {
  std::vector<std::string> components;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (end > start) components.emplace_back(path.substr(start, end - start));
    start = end + 1;
  }
  return components;
}

// The fallback for kernels without openat2: walks the path one component at a time, following symlinks
// relative to the root and clamping `..` at it (filepath-securejoin's algorithm), then opens the result with
// O_NOFOLLOW on the last component. Racy against a concurrent rename, like securejoin itself.
int open_in_root_by_walking(int root_fd, std::string_view path, int flags) {
  std::vector<std::string> resolved;
  std::vector<std::string> pending = split_components(path);
  std::reverse(pending.begin(), pending.end());
  int links_followed = 0;
  while (!pending.empty()) {
    std::string component = std::move(pending.back());
    pending.pop_back();
    if (component == ".") continue;
    if (component == "..") {
      if (!resolved.empty()) resolved.pop_back();
      continue;
    }
    std::string candidate = ".";
    for (const auto& part : resolved) candidate += "/" + part;
    candidate += "/" + component;
    char target[PATH_MAX];
    const ssize_t length = ::readlinkat(root_fd, candidate.c_str(), target, sizeof target - 1);
    if (length < 0) {
      resolved.push_back(std::move(component));
      continue;
    }
    if (++links_followed > 40) {
      errno = ELOOP;
      return -1;
    }
    const std::string_view link(target, static_cast<std::size_t>(length));
    if (!link.empty() && link.front() == '/') resolved.clear();
    auto parts = split_components(link);
    for (auto it = parts.rbegin(); it != parts.rend(); ++it) pending.push_back(std::move(*it));
  }
  std::string relative = ".";
  for (const auto& part : resolved) relative += "/" + part;
  return ::openat(root_fd, relative.c_str(), flags | O_CLOEXEC | (resolved.empty() ? 0 : O_NOFOLLOW));
}

std::string parent_of(std::string_view clean) {
  const std::size_t slash = clean.rfind('/');
  return slash == 0 || slash == std::string_view::npos ? std::string("/") : std::string(clean.substr(0, slash));
}

}  // namespace

Expected<std::string> clean_container_path(std::string_view path) {
  std::vector<std::string> kept;
  for (auto& component : split_components(path)) {
    if (component == ".") continue;
    if (component == "..") {
      if (kept.empty()) return Error{EINVAL, std::string(path) + " escapes the root"};
      kept.pop_back();
      continue;
    }
    kept.push_back(std::move(component));
  }
  std::string clean;
  for (const auto& component : kept) clean += "/" + component;
  return clean.empty() ? std::string("/") : clean;
}

Expected<OwnedFd> open_in_root(int root_fd, std::string_view path, int flags, unsigned long long extra_resolve) {
  // openat2 wants a relative path: an absolute one would be taken relative to the root anyway with
  // RESOLVE_IN_ROOT, but "." keeps "/" itself simple.
  std::string relative = ".";
  for (const auto& component : split_components(path)) relative += "/" + component;
  open_how how{};
  how.flags = static_cast<unsigned long long>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | extra_resolve;
  long fd = ::syscall(SYS_openat2, root_fd, relative.c_str(), &how, sizeof how);
  if (fd < 0 && errno == EAGAIN) fd = ::syscall(SYS_openat2, root_fd, relative.c_str(), &how, sizeof how);
  if (fd < 0 && errno == ENOSYS && extra_resolve == 0) fd = open_in_root_by_walking(root_fd, path, flags);
  if (fd < 0) return sys_error("open " + std::string(path) + " in the root", errno);
  return OwnedFd(static_cast<int>(fd));
}

namespace {

// `..` above "/" stays at "/", as the kernel does when resolving in the root: for symlink targets.
std::string clamp_container_path(std::string_view path) {
  std::vector<std::string> kept;
  for (auto& component : split_components(path)) {
    if (component == ".") continue;
    if (component == "..") {
      if (!kept.empty()) kept.pop_back();
      continue;
    }
    kept.push_back(std::move(component));
  }
  std::string clean;
  for (const auto& component : kept) clean += "/" + component;
  return clean.empty() ? std::string("/") : clean;
}

Expected<OwnedFd> mkdir_all_following(int root_fd, const std::string& clean, mode_t mode, int links_left) {
  auto current = open_in_root(root_fd, "/", O_PATH | O_DIRECTORY);
  if (!current) return current;
  std::string prefix;
  for (const auto& component : split_components(clean)) {
    prefix += "/" + component;
    auto next = open_in_root(root_fd, prefix, O_PATH | O_DIRECTORY);
    if (!next && next.error().code == ENOENT) {
      if (::mkdirat(current.value().get(), component.c_str(), mode) != 0 && errno != EEXIST) {
        return sys_error("mkdir " + prefix, errno);
      }
      next = open_in_root(root_fd, prefix, O_PATH | O_DIRECTORY);
    }
    if (!next && next.error().code == ENOENT) {
      // A dangling symlink: create what it points to, inside the root (filepath-securejoin's MkdirAll).
      char target[PATH_MAX];
      const ssize_t length = ::readlinkat(current.value().get(), component.c_str(), target, sizeof target - 1);
      if (length < 0 || links_left == 0) return Error{ENOENT, "mkdir " + prefix + ": cannot follow the symlink there"};
      const std::string link(target, static_cast<std::size_t>(length));
      std::string base = "/";
      if (!link.empty() && link.front() != '/') {
        // Relative to the directory holding the link, as a container path.
        const std::string root_path = descriptor_path(root_fd);
        const std::string parent_path = descriptor_path(current.value().get());
        if (root_path == "/") {
          base = parent_path;
        } else if (parent_path.compare(0, root_path.size(), root_path) == 0) {
          base = parent_path.substr(root_path.size());
        }
      }
      auto created = mkdir_all_following(root_fd, clamp_container_path(base + "/" + link), mode, links_left - 1);
      if (!created) return created;
      next = open_in_root(root_fd, prefix, O_PATH | O_DIRECTORY);
    }
    if (!next) {
      if (next.error().code == ENOTDIR) return Error{ENOTDIR, prefix + " exists and is not a directory"};
      return next;
    }
    current = std::move(next);
  }
  return current;
}

}  // namespace

Expected<OwnedFd> mkdir_all_in_root(int root_fd, std::string_view path, mode_t mode) {
  auto clean = clean_container_path(path);
  if (!clean) return std::move(clean).error();
  return mkdir_all_following(root_fd, clean.value(), mode, 40);
}

Expected<OwnedFd> create_file_in_root(int root_fd, std::string_view path, mode_t mode) {
  auto clean = clean_container_path(path);
  if (!clean) return std::move(clean).error();
  auto existing = open_in_root(root_fd, clean.value(), O_PATH);
  if (existing || existing.error().code != ENOENT) return existing;
  auto parent = mkdir_all_in_root(root_fd, parent_of(clean.value()), 0755);
  if (!parent) return parent;
  const std::string name = clean.value().substr(clean.value().rfind('/') + 1);
  const int fd =
      ::openat(parent.value().get(), name.c_str(), O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC, mode);
  if (fd < 0) {
    if (errno == EEXIST) return Error{EEXIST, "create " + clean.value() + ": a dangling symlink is in the way"};
    return sys_error("create " + clean.value(), errno);
  }
  ::close(fd);
  return open_in_root(root_fd, clean.value(), O_PATH);
}

std::string descriptor_path(int fd) {
  char target[PATH_MAX];
  const std::string link = "/proc/self/fd/" + std::to_string(fd);
  const ssize_t length = ::readlink(link.c_str(), target, sizeof target - 1);
  return length < 0 ? std::string() : std::string(target, static_cast<std::size_t>(length));
}

}  // namespace litebox::linux_host
