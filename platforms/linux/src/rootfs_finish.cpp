// The steps inside the new root (finish_rootfs) and the sysctl rules they share with prepare_rootfs.
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <ctime>

#include "litebox/linux/mount_options.hpp"
#include "litebox/linux/owned_fd.hpp"
#include "litebox/linux/path_in_root.hpp"
#include "litebox/linux/rootfs_setup.hpp"
#include "rootfs_util.hpp"

namespace litebox::linux_host {
namespace {

using rootfs_detail::do_mount;
using rootfs_detail::sys_error;

constexpr unsigned long kPerMountFlags =
    MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME | MS_NOSYMFOLLOW;

bool spec_has_namespace(const oci::Spec& spec, std::string_view type) {
  if (!spec.linux_config) return false;
  for (const auto& ns : spec.linux_config->namespaces) {
    if (ns.type == type) return true;
  }
  return false;
}

unsigned long mount_flags_of(const std::string& path) {
  struct statvfs status {};
  if (::statvfs(path.c_str(), &status) != 0) return 0;
  return status.f_flag & (ST_RDONLY | ST_NOSUID | ST_NODEV | ST_NOEXEC | ST_NOATIME | ST_NODIRATIME | ST_RELATIME);
}

// runc's remountReadonly: MS_BIND|MS_REMOUNT changes only the mount's flags, which a user namespace may do;
// EBUSY (something still has a file open for writing) is retried a few times.
Status remount_read_only(const std::string& path, unsigned long flags) {
  const unsigned long remount_flags = (flags & kPerMountFlags) | MS_REMOUNT | MS_BIND | MS_RDONLY;
  for (int attempt = 0;; ++attempt) {
    if (::mount(nullptr, path.c_str(), nullptr, remount_flags, nullptr) == 0) return {};
    if (errno != EBUSY || attempt == 4) return sys_error("remount " + path + " read-only", errno);
    const timespec pause{0, 100'000'000};
    ::nanosleep(&pause, nullptr);
  }
}

Status make_root_read_only() {
  const unsigned long flags = MS_BIND | MS_REMOUNT | MS_RDONLY;
  if (::mount(nullptr, "/", nullptr, flags, nullptr) == 0) return {};
  const int code = errno;
  // Keep the flags the kernel locked on the root mount (nosuid, nodev, ... in a user namespace).
  if (::mount(nullptr, "/", nullptr, flags | mount_flags_of("/"), nullptr) == 0) return {};
  return sys_error("remount / read-only", code);
}

// runc's readonlyPath: a bind of the path onto itself, remounted read-only. A missing path is skipped.
Status make_path_read_only(const std::string& path) {
  auto clean = clean_container_path(path);
  if (!clean) return std::move(clean).error().context("readonlyPaths");
  const char* target = clean.value().c_str();
  if (::mount(target, target, nullptr, MS_BIND | MS_REC, nullptr) != 0) {
    if (errno == ENOENT) return {};
    return sys_error("readonlyPaths: bind " + clean.value() + " onto itself", errno);
  }
  const unsigned long kept = mount_flags_of(clean.value()) & (MS_NOSUID | MS_NODEV | MS_NOEXEC);
  if (::mount(target, target, nullptr, kept | MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr) != 0) {
    return sys_error("readonlyPaths: remount " + clean.value() + " read-only", errno);
  }
  return {};
}

// runc's maskPath: /dev/null over a file, an empty read-only tmpfs over a directory. A missing path is
// skipped; a path that exists but cannot be masked is an error (it would stay readable).
Status mask_path(const std::string& path) {
  auto clean = clean_container_path(path);
  if (!clean) return std::move(clean).error().context("maskedPaths");
  struct stat status {};
  if (::stat(clean.value().c_str(), &status) != 0) {
    if (errno == ENOENT) return {};
    return sys_error("maskedPaths: stat " + clean.value(), errno);
  }
  if (S_ISDIR(status.st_mode)) {
    return do_mount("tmpfs", clean.value(), "tmpfs", MS_RDONLY, "", clean.value() + " (to mask it)", "");
  }
  return do_mount("/dev/null", clean.value(), nullptr, MS_BIND, "", clean.value() + " (to mask it)", "");
}

// "net.ipv4.ip_forward" -> "net/ipv4/ip_forward"; a key already written with slashes keeps its dots
// ("net/ipv4/conf/eth0.100/forwarding"), as runc allows.
Expected<std::string> sysctl_relative_path(const std::string& key) {
  std::string path = key;
  if (path.find('/') == std::string::npos) {
    for (char& c : path) c = c == '.' ? '/' : c;
  }
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = path.find('/', start);
    const std::string_view component =
        std::string_view(path).substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (component.empty() || component == "." || component == "..") {
      return Error{EINVAL, "sysctl \"" + key + "\" is not a valid key"};
    }
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return path;
}

Status write_sysctl(int proc_sys_fd, const std::string& key, const std::string& value) {
  auto relative = sysctl_relative_path(key);
  if (!relative) return std::move(relative).error();
  open_how how{};
  how.flags = O_WRONLY | O_TRUNC | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  const long fd = ::syscall(SYS_openat2, proc_sys_fd, relative.value().c_str(), &how, sizeof how);
  const std::string where = "write sysctl " + key + " (/proc/sys/" + relative.value() + ")";
  if (fd < 0) return sys_error(where, errno);
  OwnedFd file(static_cast<int>(fd));
  const ssize_t written = ::write(file.get(), value.data(), value.size());
  if (written < 0) return sys_error(where, errno);
  if (static_cast<std::size_t>(written) != value.size()) return Error{EIO, where + ": short write"};
  return {};
}

}  // namespace

Status validate_sysctls(const oci::Spec& spec) {
  if (!spec.linux_config) return {};
  static constexpr std::array<std::string_view, 8> kIpcKeys = {
      "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
      "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"};
  for (const auto& [key, value] : spec.linux_config->sysctl) {
    auto path = sysctl_relative_path(key);
    if (!path) return std::move(path).error();
    // The dotted form decides the namespace; a slash form is compared in dotted spelling.
    std::string dotted = key;
    for (char& c : dotted) c = c == '/' ? '.' : c;
    bool ipc_key = dotted.rfind("fs.mqueue.", 0) == 0;
    for (const auto ipc : kIpcKeys) ipc_key = ipc_key || dotted == ipc;
    if (ipc_key) {
      if (spec_has_namespace(spec, "ipc")) continue;
      return Error{EINVAL, "sysctl \"" + key + "\" is not allowed in the host's IPC namespace"};
    }
    if (dotted.rfind("net.", 0) == 0) {
      if (spec_has_namespace(spec, "network")) continue;
      return Error{EINVAL, "sysctl \"" + key + "\" is not allowed in the host's network namespace"};
    }
    if (spec_has_namespace(spec, "uts")) {
      if (dotted == "kernel.domainname") continue;
      if (dotted == "kernel.hostname") {
        return Error{EINVAL, "sysctl \"" + key + "\" is not allowed: it conflicts with the spec's \"hostname\""};
      }
    }
    return Error{EINVAL, "sysctl \"" + key + "\" is not in a separate kernel namespace"};
  }
  return {};
}

Status finish_rootfs(const oci::Spec& spec) {
  // runc applies linux.rootfsPropagation to the new "/" once it is "/": applied before pivot_root to the
  // rootfs's parent it would reach the host's mounts. "private" needs nothing more (the parent already is).
  if (spec.linux_config && !spec.linux_config->rootfs_propagation.empty()) {
    auto propagation = parse_propagation(spec.linux_config->rootfs_propagation);
    if (!propagation) return std::move(propagation).error();
    if ((propagation.value() & MS_PRIVATE) == 0) {
      auto applied = do_mount("", "/", nullptr, propagation.value(), "", "/ (rootfsPropagation)", "");
      if (!applied) return applied;
    }
  }
  // tmpfs and /dev were mounted writable to be filled; make the read-only ones read-only now.
  for (const auto& mount : spec.mounts) {
    auto options = parse_mount_options(mount.options);
    auto destination = clean_container_path(mount.destination);
    if (!options || !destination || (options.value().flags & MS_RDONLY) == 0 || options.value().is_bind()) continue;
    if (mount.type != "tmpfs" && destination.value() != "/dev") continue;
    auto remounted = remount_read_only(destination.value(), options.value().flags);
    if (!remounted) return remounted;
  }
  if (spec.root && spec.root->readonly) {
    auto read_only = make_root_read_only();
    if (!read_only) return read_only;
  }
  if (spec.linux_config) {
    const auto& linux_config = *spec.linux_config;
    if (!linux_config.sysctl.empty()) {
      auto valid = validate_sysctls(spec);
      if (!valid) return valid;
      OwnedFd proc_sys(::open("/proc/sys", O_PATH | O_DIRECTORY | O_CLOEXEC));
      if (!proc_sys.valid()) return sys_error("sysctl: open /proc/sys (is proc mounted in the container?)", errno);
      for (const auto& [key, value] : linux_config.sysctl) {
        auto written = write_sysctl(proc_sys.get(), key, value);
        if (!written) return written;
      }
    }
    for (const auto& path : linux_config.readonly_paths) {
      auto read_only = make_path_read_only(path);
      if (!read_only) return read_only;
    }
    for (const auto& path : linux_config.masked_paths) {
      auto masked = mask_path(path);
      if (!masked) return masked;
    }
  }
  return {};
}

}  // namespace litebox::linux_host
