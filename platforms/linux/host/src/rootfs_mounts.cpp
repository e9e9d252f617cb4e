#include "litebox/linux/host/rootfs_mounts.hpp"

#include <sys/mount.h>
#include <sys/stat.h>

#include <cerrno>
#include <string_view>
#include <utility>

namespace litebox::linux_host {
namespace {

struct MountFlag {
  std::string_view name;
  bool clear;
  unsigned long flag;
};

// The flags of mount(8) that containerd's Linux mount code turns into mount(2) flags; everything else is
// filesystem data.
constexpr MountFlag kFlags[] = {
    {"async", true, MS_SYNCHRONOUS}, {"atime", true, MS_NOATIME},      {"bind", false, MS_BIND},
    {"defaults", false, 0},          {"dev", true, MS_NODEV},          {"diratime", true, MS_NODIRATIME},
    {"dirsync", false, MS_DIRSYNC},  {"exec", true, MS_NOEXEC},        {"mand", false, MS_MANDLOCK},
    {"noatime", false, MS_NOATIME},  {"nodev", false, MS_NODEV},       {"nodiratime", false, MS_NODIRATIME},
    {"noexec", false, MS_NOEXEC},    {"nomand", true, MS_MANDLOCK},    {"norelatime", true, MS_RELATIME},
    {"nostrictatime", true, MS_STRICTATIME}, {"nosuid", false, MS_NOSUID}, {"rbind", false, MS_BIND | MS_REC},
    {"relatime", false, MS_RELATIME}, {"remount", false, MS_REMOUNT},  {"ro", false, MS_RDONLY},
    {"rw", true, MS_RDONLY},         {"strictatime", false, MS_STRICTATIME}, {"suid", true, MS_NOSUID},
    {"sync", false, MS_SYNCHRONOUS},
};

std::pair<unsigned long, std::string> parse_options(const std::vector<std::string>& options) {
  unsigned long flags = 0;
  std::string data;
  for (const auto& option : options) {
    bool known = false;
    for (const auto& f : kFlags) {
      if (f.name == option) {
        flags = f.clear ? (flags & ~f.flag) : (flags | f.flag);
        known = true;
        break;
      }
    }
    if (!known) {
      if (!data.empty()) data += ',';
      data += option;
    }
  }
  return {flags, data};
}

linux_host::Status mount_one(const RootfsMount& m, const std::filesystem::path& target) {
  auto [flags, data] = parse_options(m.options);
  const bool is_bind = (flags & MS_BIND) != 0;
  const unsigned long first = is_bind ? (flags & (MS_BIND | MS_REC)) : (flags & ~MS_REMOUNT);
  if (::mount(m.source.c_str(), target.c_str(), m.type.c_str(), first, data.empty() ? nullptr : data.c_str()) != 0) {
    return linux_host::Error::from_errno("mount " + m.type + " " + m.source + " on " + target.string() +
                                         (data.empty() ? "" : " (" + data + ")"));
  }
  // A bind mount takes its other flags (ro, nosuid...) only through a remount.
  const unsigned long rest = flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
  if (is_bind && rest != 0 &&
      ::mount(nullptr, target.c_str(), nullptr, MS_REMOUNT | MS_BIND | rest, nullptr) != 0) {
    auto error = linux_host::Error::from_errno("remount " + target.string() + " with the bind options");
    ::umount2(target.c_str(), MNT_DETACH);
    return error;
  }
  return {};
}

}  // namespace

linux_host::Status mount_rootfs(const std::vector<RootfsMount>& mounts, const std::filesystem::path& target) {
  if (mounts.empty()) return {};
  std::error_code ec;
  std::filesystem::create_directories(target, ec);
  if (ec) return linux_host::Error{ec.value(), "create " + target.string() + ": " + ec.message()};
  std::size_t done = 0;
  for (const auto& m : mounts) {
    auto status = mount_one(m, target);
    if (!status) {
      for (; done > 0; --done) ::umount2(target.c_str(), MNT_DETACH);
      return status;
    }
    ++done;
  }
  return {};
}

linux_host::Status unmount_rootfs(const std::filesystem::path& target) {
  // Stacked mounts come off one at a time; the bound keeps a failing umount from looping forever.
  for (int i = 0; i < 64; ++i) {
    if (::umount2(target.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) != 0) {
      if (errno == EINVAL || errno == ENOENT) return {};
      return linux_host::Error::from_errno("unmount " + target.string());
    }
  }
  return linux_host::Error{EBUSY, "unmount " + target.string() + ": still mounted after 64 unmounts"};
}

}  // namespace litebox::linux_host
