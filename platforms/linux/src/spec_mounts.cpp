#include "spec_mounts.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <string_view>

#include "litebox/linux/mount_options.hpp"
#include "litebox/linux/path_in_root.hpp"
#include "rootfs_util.hpp"

namespace litebox::linux_host::rootfs_detail {
namespace {

constexpr unsigned long kCgroupMountFlags = MS_NOSUID | MS_NODEV | MS_NOEXEC;  // runc's defaultMountFlags

// What a mount of one entry needs besides the entry itself.
struct Target {
  const MountContext& context;
  const oci::Mount& mount;
  std::string destination;  // cleaned container path
};

Status mount_on(const Target& target, const std::string& source, const OwnedFd& on, const char* fstype,
                unsigned long flags, const std::string& data) {
  return do_mount(source, on.proc_path(), fstype, flags, data, target.destination, target.context.rootfs);
}

// The destination again: after a mount, an earlier descriptor still points under the new mount.
Expected<OwnedFd> reopen(const Target& target, const std::string& destination) {
  return open_in_root(target.context.root_fd, destination, O_PATH);
}

Status apply_propagation_and_attributes(const Target& target, const std::string& destination,
                                        const MountOptions& options) {
  if (options.propagation.empty() && options.recursive.empty()) return {};
  auto mounted = reopen(target, destination);
  if (!mounted) return std::move(mounted).error();
  for (const unsigned long propagation : options.propagation) {
    auto changed = mount_on(target, "", mounted.value(), nullptr, propagation, "");
    if (!changed) return std::move(changed).error().context("change propagation");
  }
  if (!options.recursive.empty()) {
    mount_attr attributes{};
    attributes.attr_set = options.recursive.set;
    attributes.attr_clr = options.recursive.clear;
    if (::syscall(SYS_mount_setattr, mounted.value().get(), "", AT_EMPTY_PATH | AT_RECURSIVE, &attributes,
                  sizeof attributes) != 0) {
      return sys_error("set recursive mount attributes of " + destination + " (in " + target.context.rootfs + ")",
                       errno);
    }
  }
  return {};
}

// The flags the kernel will not let a bind remount drop when the source has them (in a user namespace
// they are locked): statvfs reports them with the same values as MS_*.
unsigned long locked_flags(const std::string& path) {
  struct statvfs status {};
  if (::statvfs(path.c_str(), &status) != 0) return 0;
  return status.f_flag & (ST_RDONLY | ST_NOSUID | ST_NODEV | ST_NOEXEC | ST_NOATIME | ST_NODIRATIME | ST_RELATIME);
}

// A bind mount takes its flags from the source: changing them (ro, nosuid, ...) needs a remount of the new
// mount with MS_BIND|MS_REMOUNT. When that is refused, retry keeping the flags the source's mount has.
Status remount_bind(const Target& target, const std::string& destination, unsigned long flags) {
  auto mounted = reopen(target, destination);
  if (!mounted) return std::move(mounted).error();
  const unsigned long remount_flags = (flags & ~MS_REC) | MS_BIND | MS_REMOUNT;
  if (::mount(nullptr, mounted.value().proc_path().c_str(), nullptr, remount_flags, nullptr) == 0) return {};
  const int code = errno;
  const unsigned long locked = locked_flags(mounted.value().proc_path());
  if (code == EPERM && locked != 0) {
    unsigned long retry_flags = remount_flags | locked;
    if ((locked & (MS_NOATIME | MS_RELATIME)) != 0) retry_flags &= ~MS_STRICTATIME;
    if ((locked & MS_NOATIME) != 0) retry_flags &= ~MS_RELATIME;
    if (::mount(nullptr, mounted.value().proc_path().c_str(), nullptr, retry_flags, nullptr) == 0) return {};
  }
  return sys_error("remount " + destination + " (in " + target.context.rootfs + ") with its options", code);
}

// runc's checkProcMount: under /proc only proc itself and the files lxcfs emulates may be mounted.
Status check_proc_mount(const Target& target, const OwnedFd& destination, bool is_bind, const std::string& source) {
  const std::string resolved = descriptor_path(destination.get());
  const std::string proc = target.context.rootfs + "/proc";
  if (resolved.compare(0, proc.size(), proc) != 0 || (resolved.size() > proc.size() && resolved[proc.size()] != '/')) {
    return {};
  }
  const std::string inside = resolved.substr(target.context.rootfs.size());
  if (inside == "/proc") {
    // Onto /proc itself: a proc mount, or a bind of a procfs.
    struct statfs source_fs {};
    if (!is_bind || (::statfs(source.c_str(), &source_fs) == 0 && source_fs.f_type == PROC_SUPER_MAGIC)) return {};
    return Error{EINVAL, "mount " + source + " to " + target.destination +
                             ": only a proc file system may be "
                             "mounted on /proc"};
  }
  static constexpr std::array<std::string_view, 10> kEmulated = {
      "/proc/cpuinfo", "/proc/diskstats", "/proc/meminfo",  "/proc/stat",    "/proc/swaps",
      "/proc/uptime",  "/proc/loadavg",   "/proc/slabinfo", "/proc/net/dev", "/proc/sys/kernel/ns_last_pid"};
  for (const auto emulated : kEmulated) {
    if (inside == emulated) return {};
  }
  return Error{EINVAL, "mount " + source + " to " + target.destination + ": " + inside +
                           " cannot be mounted because it is inside /proc"};
}

Status mount_bind(const Target& target, const MountOptions& options) {
  std::string source = target.mount.source;
  if (source.empty()) return Error{EINVAL, "bind mount to " + target.destination + " has no source"};
  if (source.front() != '/') source = target.context.bundle + "/" + source;
  struct stat source_status {};
  if (::stat(source.c_str(), &source_status) != 0) {
    return sys_error("bind mount source " + source + " for " + target.destination, errno);
  }
  auto destination = S_ISDIR(source_status.st_mode)
                         ? mkdir_all_in_root(target.context.root_fd, target.destination, 0755)
                         : create_file_in_root(target.context.root_fd, target.destination, 0644);
  if (!destination) return std::move(destination).error().context("mount destination " + target.destination);
  auto allowed = check_proc_mount(target, destination.value(), true, source);
  if (!allowed) return allowed;
  auto bound = mount_on(target, source, destination.value(), nullptr, options.flags & (MS_BIND | MS_REC), "");
  if (!bound) return bound;
  if ((options.flags & ~(MS_REC | MS_REMOUNT | MS_BIND)) != 0) {
    auto remounted = remount_bind(target, target.destination, options.flags);
    if (!remounted) return remounted;
  }
  return apply_propagation_and_attributes(target, target.destination, options);
}

Status mount_tmpfs(const Target& target, const MountOptions& options) {
  const int root_fd = target.context.root_fd;
  auto existing = open_in_root(root_fd, target.destination, O_PATH);
  struct stat previous {};
  const bool existed = existing && ::fstat(existing.value().get(), &previous) == 0;
  auto destination = mkdir_all_in_root(root_fd, target.destination, 0755);
  if (!destination) return std::move(destination).error().context("mount destination " + target.destination);
  // Mounted writable: /dev is filled and modes are set now; finish_rootfs makes it read-only if asked.
  const unsigned long flags = options.flags & ~MS_RDONLY;
  const std::string source = target.mount.source.empty() ? "tmpfs" : target.mount.source;
  if (options.tmpcopyup) {
    // A descriptor opened before the mount keeps seeing the directory underneath it: copy from there into
    // the fresh tmpfs, without a temporary directory on the host.
    auto underneath = open_in_root(root_fd, target.destination, O_RDONLY | O_DIRECTORY);
    if (!underneath) return std::move(underneath).error().context("tmpcopyup");
    auto mounted = mount_on(target, source, underneath.value(), "tmpfs", flags, options.data);
    if (!mounted) return mounted;
    auto fresh = open_in_root(root_fd, target.destination, O_RDONLY | O_DIRECTORY);
    if (!fresh) return std::move(fresh).error().context("tmpcopyup");
    auto copied = copy_tree(underneath.value().get(), fresh.value().get(), target.destination);
    if (!copied) return copied;
  } else {
    auto mounted = mount_on(target, source, destination.value(), "tmpfs", flags, options.data);
    if (!mounted) return mounted;
  }
  if (existed) {
    auto mounted = reopen(target, target.destination);
    if (!mounted) return std::move(mounted).error();
    if (::chmod(mounted.value().proc_path().c_str(), previous.st_mode & 07777) != 0) {
      return sys_error("chmod " + target.destination + " (in " + target.context.rootfs + ")", errno);
    }
  }
  return apply_propagation_and_attributes(target, target.destination, options);
}

// proc and sysfs go only onto a real directory reached without symlinks: mounting procfs through a link the
// image controls has been an attack before (CVE-2019-19921).
Status mount_kernel_filesystem(const Target& target, const MountOptions& options) {
  const std::string& type = target.mount.type;
  auto created = mkdir_all_in_root(target.context.root_fd, target.destination, 0755);
  if (!created) return std::move(created).error().context("mount destination " + target.destination);
  auto destination =
      open_in_root(target.context.root_fd, target.destination, O_PATH | O_DIRECTORY, RESOLVE_NO_SYMLINKS);
  if (!destination) {
    return Error{destination.error().code, "mount " + type + " to " + target.destination +
                                               ": it must be an ordinary directory, not reached "
                                               "through a symlink (" +
                                               destination.error().message + ")"};
  }
  const std::string source = target.mount.source.empty() ? type : target.mount.source;
  auto mounted = mount_on(target, source, destination.value(), type.c_str(), options.flags, options.data);
  if (!mounted && type == "sysfs" && mounted.error().code == EPERM) {
    // Without its own network namespace (or as an unprivileged user) sysfs cannot be mounted: give the
    // container the host's /sys read-only instead, as runc does.
    auto bound = mount_on(target, "/sys", destination.value(), nullptr, MS_BIND | MS_REC, "");
    if (!bound) return std::move(bound).error().context("sysfs fallback after EPERM");
    MountOptions read_only = options;
    read_only.recursive.set |= MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
    read_only.recursive.clear &= ~read_only.recursive.set;
    return apply_propagation_and_attributes(target, target.destination, read_only);
  }
  if (!mounted) return mounted;
  return apply_propagation_and_attributes(target, target.destination, options);
}

Status bind_cgroup_directory(const Target& target, const std::string& source, const std::string& destination,
                             unsigned long flags) {
  auto directory = mkdir_all_in_root(target.context.root_fd, destination, 0755);
  if (!directory) return std::move(directory).error().context("cgroup mount");
  auto bound = do_mount(source, directory.value().proc_path(), nullptr, MS_BIND | MS_REC, "", destination,
                        target.context.rootfs);
  if (!bound) return bound;
  return remount_bind(target, destination, flags);
}

// "cgroup": a cgroup2-only host with a cgroup namespace mounts cgroup2 afresh; otherwise (v1, hybrid, or no
// namespace) a tmpfs holds one directory per hierarchy, each the container's own cgroup directory.
Status mount_cgroup(const Target& target, const MountOptions& options) {
  const auto* sources = target.context.cgroup_sources;
  if (sources == nullptr || sources->empty()) {
    return Error{EINVAL, "cgroup mount to " + target.destination + ": the runtime gave no cgroup hierarchies"};
  }
  const unsigned long flags = kCgroupMountFlags | (options.flags & MS_RDONLY);
  const bool cgroup2_only = sources->size() == 1 && sources->front().name.empty();
  if (cgroup2_only) {
    const auto& unified = sources->front();
    if (target.context.cgroup_namespace) {
      auto directory = mkdir_all_in_root(target.context.root_fd, target.destination, 0755);
      if (!directory) return std::move(directory).error().context("cgroup mount");
      auto mounted =
          mount_on(target, "cgroup2", directory.value(), "cgroup2", options.flags | kCgroupMountFlags, options.data);
      if (mounted) return apply_propagation_and_attributes(target, target.destination, options);
      // EPERM/EBUSY: e.g. no permission over the cgroup namespace; runc falls back to a bind mount.
      if (mounted.error().code != EPERM && mounted.error().code != EBUSY) return mounted;
    }
    auto bound = bind_cgroup_directory(target, unified.host_directory, target.destination, flags);
    if (!bound) return bound;
    return apply_propagation_and_attributes(target, target.destination, options);
  }

  auto directory = mkdir_all_in_root(target.context.root_fd, target.destination, 0755);
  if (!directory) return std::move(directory).error().context("cgroup mount");
  auto tmpfs = mount_on(target, "tmpfs", directory.value(), "tmpfs", kCgroupMountFlags, "mode=755");
  if (!tmpfs) return tmpfs;
  for (const auto& source : *sources) {
    if (source.name.empty() || source.name.find('/') != std::string::npos || source.name == "..") {
      return Error{EINVAL, "cgroup mount: hierarchy name \"" + source.name + "\" is not a directory name"};
    }
    const std::string hierarchy = target.destination + "/" + source.name;
    if (target.context.cgroup_namespace) {
      auto subdirectory = mkdir_all_in_root(target.context.root_fd, hierarchy, 0755);
      if (!subdirectory) return std::move(subdirectory).error().context("cgroup mount");
      auto mounted = do_mount("cgroup", subdirectory.value().proc_path(), source.filesystem_type.c_str(), flags,
                              source.mount_options, hierarchy, target.context.rootfs);
      if (!mounted) return mounted;
    } else {
      auto bound = bind_cgroup_directory(target, source.host_directory, hierarchy, flags);
      if (!bound) return bound;
    }
  }
  auto tmpfs_root = open_in_root(target.context.root_fd, target.destination, O_RDONLY | O_DIRECTORY);
  if (!tmpfs_root) return std::move(tmpfs_root).error().context("cgroup mount");
  for (const auto& source : *sources) {
    for (const auto& link : source.symlinks) {
      if (link.empty() || link.find('/') != std::string::npos || link == "." || link == "..") continue;
      if (::symlinkat(source.name.c_str(), tmpfs_root.value().get(), link.c_str()) != 0 && errno != EEXIST) {
        return sys_error("symlink " + target.destination + "/" + link + " -> " + source.name, errno);
      }
    }
  }
  if ((options.flags & MS_RDONLY) != 0) {
    auto remounted = remount_bind(target, target.destination, flags);
    if (!remounted) return remounted;
  }
  return apply_propagation_and_attributes(target, target.destination, options);
}

Status mount_other(const Target& target, const MountOptions& options) {
  auto destination = mkdir_all_in_root(target.context.root_fd, target.destination, 0755);
  if (!destination) return std::move(destination).error().context("mount destination " + target.destination);
  const std::string source = target.mount.source.empty() ? target.mount.type : target.mount.source;
  auto allowed = check_proc_mount(target, destination.value(), false, source);
  if (!allowed) return allowed;
  unsigned long flags = options.flags;
  if (target.destination == "/dev") flags &= ~MS_RDONLY;  // filled now, made read-only by finish_rootfs
  auto mounted = mount_on(target, source, destination.value(), target.mount.type.c_str(), flags, options.data);
  if (!mounted) return mounted;
  return apply_propagation_and_attributes(target, target.destination, options);
}

}  // namespace

Status mount_spec_entry(const MountContext& context, const oci::Mount& mount) {
  auto destination = clean_container_path(mount.destination);
  if (!destination) return std::move(destination).error().context("mount destination");
  auto options = parse_mount_options(mount.options);
  if (!options) return std::move(options).error().context("mount to " + destination.value());
  if (!mount.uid_mappings.empty() || !mount.gid_mappings.empty()) {
    return Error{EINVAL, "mount to " + destination.value() +
                             ": id-mapped mounts (uidMappings, gidMappings) are not "
                             "supported"};
  }
  const Target target{context, mount, destination.value()};
  MountOptions& parsed = options.value();
  // "type": "bind" without a bind option means a plain bind: there is no file system called "bind".
  if (mount.type == "bind" && !parsed.is_bind()) parsed.flags |= MS_BIND;
  Status mounted;
  if (parsed.is_bind()) {
    mounted = mount_bind(target, parsed);
  } else if (mount.type.empty()) {
    return Error{EINVAL, "mount to " + destination.value() + " has no type and is not a bind mount"};
  } else if (mount.type == "tmpfs") {
    mounted = mount_tmpfs(target, parsed);
  } else if (mount.type == "proc" || mount.type == "sysfs") {
    mounted = mount_kernel_filesystem(target, parsed);
  } else if (mount.type == "cgroup") {
    mounted = mount_cgroup(target, parsed);
  } else {
    if (parsed.tmpcopyup) return Error{EINVAL, "mount to " + destination.value() + ": tmpcopyup needs a tmpfs"};
    mounted = mount_other(target, parsed);
  }
  return mounted;
}

}  // namespace litebox::linux_host::rootfs_detail
