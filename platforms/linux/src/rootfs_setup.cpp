#include "litebox/linux/rootfs_setup.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "litebox/linux/devices.hpp"
#include "litebox/linux/mount_options.hpp"
#include "litebox/linux/owned_fd.hpp"
#include "litebox/linux/path_in_root.hpp"
#include "rootfs_util.hpp"
#include "spec_mounts.hpp"

namespace litebox::linux_host {
namespace {

using rootfs_detail::do_mount;
using rootfs_detail::read_mountinfo;
using rootfs_detail::sys_error;

bool spec_has_namespace(const oci::Spec& spec, std::string_view type) {
  if (!spec.linux_config) return false;
  for (const auto& ns : spec.linux_config->namespaces) {
    if (ns.type == type) return true;
  }
  return false;
}

bool is_under(const std::string& path, const std::string& directory) {
  if (directory == "/") return true;
  return path.compare(0, directory.size(), directory) == 0 &&
         (path.size() == directory.size() || path[directory.size()] == '/');
}

// pivot_root refuses a new root whose parent mount is shared, and a bind of the rootfs onto itself would
// propagate to the host through a shared parent: make that parent private (runc's rootfsParentMountPrivate).
Status make_parent_mount_private(const std::string& rootfs) {
  const rootfs_detail::MountInfoEntry* parent = nullptr;
  const auto mounts = read_mountinfo();
  for (const auto& entry : mounts) {
    if (is_under(rootfs, entry.mount_point) &&
        (parent == nullptr || entry.mount_point.size() >= parent->mount_point.size())) {
      parent = &entry;
    }
  }
  if (parent == nullptr || parent->optional_fields.find("shared:") == std::string::npos) return {};
  return do_mount("", parent->mount_point, nullptr, MS_PRIVATE, "",
                  parent->mount_point + " (the rootfs's parent mount)", "");
}

// The spec mounts a file system (not a bind of the host's) on /dev: the container gets the default device
// nodes and links there. runc does the same unless /dev is a bind mount.
bool spec_mounts_dev(const oci::Spec& spec) {
  for (const auto& mount : spec.mounts) {
    auto destination = clean_container_path(mount.destination);
    if (!destination || destination.value() != "/dev") continue;
    auto options = parse_mount_options(mount.options);
    return options && !options.value().is_bind();
  }
  return false;
}

// runc's reOpenDevNull: stdio on the host's /dev/null would keep a host file open in the container.
Status reopen_dev_null() {
  OwnedFd null_device(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!null_device.valid()) return {};  // the container has no /dev/null: nothing to swap in
  struct stat null_status {};
  if (::fstat(null_device.get(), &null_status) != 0 || !S_ISCHR(null_status.st_mode)) return {};
  for (int fd = 0; fd < 3; ++fd) {
    struct stat status {};
    if (::fstat(fd, &status) != 0) continue;
    if (S_ISCHR(status.st_mode) && status.st_rdev == null_status.st_rdev && ::dup3(null_device.get(), fd, 0) < 0) {
      return sys_error("re-open stdio descriptor " + std::to_string(fd) + " on the container's /dev/null", errno);
    }
  }
  return {};
}

bool root_is_ramfs() {
  struct statfs status {};
  if (::statfs("/", &status) != 0) return false;
  return status.f_type == static_cast<decltype(status.f_type)>(RAMFS_MAGIC) ||
         status.f_type == static_cast<decltype(status.f_type)>(TMPFS_MAGIC);
}

// runc's msMoveRoot: hide the host's full proc and sysfs mounts (the kernel checks for them before letting a
// container mount procfs, and through chroot they stay reachable), move the rootfs onto "/", chroot into it.
Status move_root(const std::string& rootfs, int new_root_fd) {
  for (const auto& entry : read_mountinfo()) {
    if (entry.root != "/" || (entry.fstype != "proc" && entry.fstype != "sysfs")) continue;
    if (is_under(entry.mount_point, rootfs)) continue;
    const char* path = entry.mount_point.c_str();
    if (::mount(nullptr, path, nullptr, MS_SLAVE | MS_REC, nullptr) != 0) {
      if (errno == ENOENT) continue;  // under something already detached
      return sys_error("make " + entry.mount_point + " rslave before hiding it", errno);
    }
    if (::umount2(path, MNT_DETACH) != 0) {
      if (errno != EINVAL && errno != EPERM) return sys_error("unmount " + entry.mount_point, errno);
      auto covered = do_mount("tmpfs", entry.mount_point, "tmpfs", 0, "", entry.mount_point + " (to hide it)", "");
      if (!covered) return covered;
    }
  }
  if (::fchdir(new_root_fd) != 0) return sys_error("chdir " + rootfs, errno);
  auto moved = do_mount(rootfs, "/", nullptr, MS_MOVE, "", "/ (no pivot_root)", "");
  if (!moved) return moved;
  if (::chroot(".") != 0) return sys_error("chroot " + rootfs, errno);
  if (::chdir("/") != 0) return sys_error("chdir / after chroot", errno);
  return {};
}

}  // namespace

Status prepare_rootfs(const oci::Spec& spec, const RootfsSetup& setup) {
  auto sysctls_ok = validate_sysctls(spec);
  if (!sysctls_ok) return sysctls_ok;
  if (setup.rootfs.empty() || setup.rootfs.front() != '/') {
    return Error{EINVAL, "rootfs \"" + setup.rootfs + "\" is not an absolute path"};
  }
  char* resolved = ::realpath(setup.rootfs.c_str(), nullptr);
  if (resolved == nullptr) return sys_error("rootfs " + setup.rootfs, errno);
  const std::string rootfs(resolved);
  std::free(resolved);

  // Everything below changes mounts: in the host's own mount namespace it would change the host.
  struct stat own_namespace {};
  struct stat init_namespace {};
  if (::stat("/proc/self/ns/mnt", &own_namespace) == 0 && ::stat("/proc/1/ns/mnt", &init_namespace) == 0 &&
      own_namespace.st_ino == init_namespace.st_ino && own_namespace.st_dev == init_namespace.st_dev) {
    return Error{EINVAL, "refusing to set up the root file system in the host's mount namespace (no CLONE_NEWNS)"};
  }
  auto propagation = parse_propagation(spec.linux_config ? spec.linux_config->rootfs_propagation : "");
  if (!propagation) return std::move(propagation).error();
  // Nothing the container mounts may reach the host: "/" becomes a slave unless the spec says otherwise.
  const unsigned long root_propagation = propagation.value() != 0 ? propagation.value() : MS_SLAVE | MS_REC;
  auto propagated = do_mount("", "/", nullptr, root_propagation, "", "/ (root propagation)", "");
  if (!propagated) return propagated;
  auto parent_private = make_parent_mount_private(rootfs);
  if (!parent_private) return parent_private;
  // A mount point of its own, so that pivot_root can move it.
  auto bound = do_mount(rootfs, rootfs, nullptr, MS_BIND | MS_REC, "", rootfs, "");
  if (!bound) return bound;

  OwnedFd root(::open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root.valid()) return sys_error("open rootfs " + rootfs, errno);
  rootfs_detail::MountContext context;
  context.root_fd = root.get();
  context.rootfs = rootfs;
  context.bundle = setup.bundle;
  context.cgroup_sources = &setup.cgroup_mounts;
  context.cgroup_namespace = spec_has_namespace(spec, "cgroup");
  for (const auto& mount : spec.mounts) {
    auto mounted = rootfs_detail::mount_spec_entry(context, mount);
    if (!mounted) return mounted;
  }

  const bool bind_devices = spec_has_namespace(spec, "user");
  const std::vector<oci::Device> no_devices;
  const auto& spec_devices = spec.linux_config ? spec.linux_config->devices : no_devices;
  if (spec_mounts_dev(spec)) {
    auto created = create_devices(root.get(), rootfs, devices_to_create(spec_devices), bind_devices);
    if (!created) return created;
    auto linked = setup_dev_links(root.get(), rootfs);
    if (!linked) return linked;
  } else if (!spec_devices.empty()) {
    // /dev is the image's own directory (or the host's, bound): only what the spec asks for explicitly.
    auto created = create_devices(root.get(), rootfs, spec_devices, bind_devices);
    if (!created) return created;
  }
  if (!setup.console_slave.empty()) {
    auto console = mount_console(root.get(), rootfs, setup.console_slave);
    if (!console) return console;
  }
  if (::chdir(rootfs.c_str()) != 0) return sys_error("chdir " + rootfs, errno);
  return {};
}

Status pivot_into_rootfs(const RootfsSetup& setup) {
  char* resolved = ::realpath(setup.rootfs.c_str(), nullptr);
  if (resolved == nullptr) return sys_error("rootfs " + setup.rootfs, errno);
  const std::string rootfs(resolved);
  std::free(resolved);
  OwnedFd new_root(::open(rootfs.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  if (!new_root.valid()) return sys_error("open rootfs " + rootfs, errno);
  Status entered;
  if (setup.no_pivot) {
    entered = move_root(rootfs, new_root.get());
  } else {
    OwnedFd old_root(::open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC));
    if (!old_root.valid()) return sys_error("open /", errno);
    if (::fchdir(new_root.get()) != 0) return sys_error("chdir " + rootfs, errno);
    // pivot_root(".", "."): the old root is stacked on top of the new one at "/", so it can be detached
    // without a directory for it inside the container (runc's trick).
    if (::syscall(SYS_pivot_root, ".", ".") == 0) {
      if (::fchdir(old_root.get()) != 0) return sys_error("chdir to the old root", errno);
      // Our unmount must not propagate to the host.
      if (::mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) != 0) {
        return sys_error("make the old root rslave", errno);
      }
      if (::umount2(".", MNT_DETACH) != 0) return sys_error("detach the old root", errno);
      if (::chdir("/") != 0) return sys_error("chdir / in the new root", errno);
    } else {
      const int code = errno;
      // An initramfs cannot be pivoted away from: move the rootfs over it instead.
      if (code != EINVAL || !root_is_ramfs()) return sys_error("pivot_root into " + rootfs, code);
      entered = move_root(rootfs, new_root.get());
    }
  }
  if (!entered) return entered;
  return reopen_dev_null();
}

Status setup_rootfs(const oci::Spec& spec, const RootfsSetup& setup) {
  auto prepared = prepare_rootfs(spec, setup);
  if (!prepared) return prepared;
  auto entered = pivot_into_rootfs(setup);
  if (!entered) return entered;
  return finish_rootfs(spec);
}

}  // namespace litebox::linux_host
