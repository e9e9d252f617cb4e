#include "litebox/linux/devices.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>

#include "litebox/linux/path_in_root.hpp"
#include "rootfs_util.hpp"

namespace litebox::linux_host {
namespace {

using rootfs_detail::do_mount;
using rootfs_detail::sys_error;

oci::Device char_device(const char* path, std::int64_t major, std::int64_t minor) {
  oci::Device device;
  device.type = "c";
  device.path = path;
  device.major = major;
  device.minor = minor;
  device.file_mode = 0666;
  device.uid = 0;
  device.gid = 0;
  return device;
}

std::string parent_path(const std::string& clean) {
  const std::size_t slash = clean.rfind('/');
  return slash == 0 ? std::string("/") : clean.substr(0, slash);
}

std::string base_name(const std::string& clean) { return clean.substr(clean.rfind('/') + 1); }

// runc's bindMountDeviceNode: an empty file as the mount point, the host's node on it.
Status bind_host_device(int root_fd, const std::string& rootfs, const std::string& path) {
  auto target = create_file_in_root(root_fd, path, 0644);
  if (!target) return std::move(target).error().context("device " + path);
  return do_mount(path, target.value().proc_path(), nullptr, MS_BIND, "", path, rootfs);
}

Status make_device_node(int root_fd, const std::string& rootfs, const oci::Device& device, bool bind_from_host) {
  auto clean = clean_container_path(device.path);
  if (!clean) return std::move(clean).error().context("device");
  const std::string& path = clean.value();
  if (path == "/") return Error{EINVAL, "device path " + device.path + " is the root itself"};
  mode_t type = 0;
  if (device.type == "c" || device.type == "u") {
    type = S_IFCHR;
  } else if (device.type == "b") {
    type = S_IFBLK;
  } else if (device.type == "p") {
    type = S_IFIFO;
  } else {
    return Error{EINVAL, "device " + path + ": type \"" + device.type + "\" is not one of c, u, b, p"};
  }
  if (bind_from_host && type != S_IFIFO) return bind_host_device(root_fd, rootfs, path);

  auto parent = mkdir_all_in_root(root_fd, parent_path(path), 0755);
  if (!parent) return std::move(parent).error().context("device " + path);
  // An O_PATH descriptor cannot be a mknodat directory on every kernel: reopen it as a real directory.
  auto directory = open_in_root(root_fd, parent_path(path), O_RDONLY | O_DIRECTORY);
  if (!directory) return std::move(directory).error().context("device " + path);
  const mode_t permissions = static_cast<mode_t>(device.file_mode.value_or(0666) & 07777);
  const dev_t number = type == S_IFIFO ? 0
                                       : ::makedev(static_cast<unsigned>(device.major.value_or(0)),
                                                   static_cast<unsigned>(device.minor.value_or(0)));
  const std::string name = base_name(path);
  const int dirfd = directory.value().get();
  if (::mknodat(dirfd, name.c_str(), type | permissions, number) != 0) {
    if (errno == EEXIST) return {};
    if (errno == EPERM && type != S_IFIFO) return bind_host_device(root_fd, rootfs, path);
    return sys_error("mknod " + path + " (in " + rootfs + ")", errno);
  }
  // mknod applied the umask; the spec's bits are what counts.
  if (::fchmodat(dirfd, name.c_str(), permissions, 0) != 0) return sys_error("chmod " + path, errno);
  if (::fchownat(dirfd, name.c_str(), device.uid.value_or(0), device.gid.value_or(0), AT_SYMLINK_NOFOLLOW) != 0) {
    return sys_error("chown " + path, errno);
  }
  return {};
}

Status make_link(int dev_fd, const char* target, const char* name) {
  if (::symlinkat(target, dev_fd, name) != 0 && errno != EEXIST) {
    return sys_error(std::string("symlink /dev/") + name + " -> " + target, errno);
  }
  return {};
}

}  // namespace

std::vector<oci::Device> default_devices() {
  return {char_device("/dev/null", 1, 3),   char_device("/dev/zero", 1, 5),    char_device("/dev/full", 1, 7),
          char_device("/dev/random", 1, 8), char_device("/dev/urandom", 1, 9), char_device("/dev/tty", 5, 0)};
}

std::vector<oci::Device> devices_to_create(const std::vector<oci::Device>& spec_devices) {
  std::vector<oci::Device> devices;
  for (auto& device : default_devices()) {
    bool replaced = false;
    for (const auto& spec_device : spec_devices) replaced = replaced || spec_device.path == device.path;
    if (!replaced) devices.push_back(std::move(device));
  }
  devices.insert(devices.end(), spec_devices.begin(), spec_devices.end());
  return devices;
}

Status create_devices(int root_fd, const std::string& rootfs, const std::vector<oci::Device>& devices,
                      bool bind_from_host) {
  for (const auto& device : devices) {
    if (device.path.empty()) continue;  // only there for the devices cgroup
    auto clean = clean_container_path(device.path);
    if (clean && clean.value() == "/dev/ptmx") continue;
    auto made = make_device_node(root_fd, rootfs, device, bind_from_host);
    if (!made) return made;
  }
  return {};
}

Status setup_dev_links(int root_fd, const std::string& rootfs) {
  auto dev = mkdir_all_in_root(root_fd, "/dev", 0755);
  if (!dev) return std::move(dev).error();
  auto dev_dir = open_in_root(root_fd, "/dev", O_RDONLY | O_DIRECTORY);
  if (!dev_dir) return std::move(dev_dir).error();
  const int dev_fd = dev_dir.value().get();
  // runc's setupPtmx: whatever is at /dev/ptmx gives way to the link into this container's devpts.
  if (::unlinkat(dev_fd, "ptmx", 0) != 0 && errno != ENOENT) {
    return sys_error("remove /dev/ptmx (in " + rootfs + ")", errno);
  }
  if (::symlinkat("pts/ptmx", dev_fd, "ptmx") != 0) return sys_error("symlink /dev/ptmx -> pts/ptmx", errno);
  for (const auto& [target, name] : {std::pair{"/proc/self/fd", "fd"}, std::pair{"/proc/self/fd/0", "stdin"},
                                     std::pair{"/proc/self/fd/1", "stdout"}, std::pair{"/proc/self/fd/2", "stderr"}}) {
    auto linked = make_link(dev_fd, target, name);
    if (!linked) return linked;
  }
  struct stat kcore {};
  if (::stat("/proc/kcore", &kcore) == 0) {
    auto linked = make_link(dev_fd, "/proc/kcore", "core");
    if (!linked) return linked;
  }
  return {};
}

Status mount_console(int root_fd, const std::string& rootfs, const std::string& slave_path) {
  auto target = create_file_in_root(root_fd, "/dev/console", 0600);
  if (!target) return std::move(target).error().context("console");
  return do_mount(slave_path, target.value().proc_path(), nullptr, MS_BIND, "", "/dev/console", rootfs);
}

}  // namespace litebox::linux_host
