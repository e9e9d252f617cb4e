#include "litebox/linux/mount_options.hpp"

#include <sys/mount.h>

#include <array>
#include <cerrno>

namespace litebox::linux_host {
namespace {

struct FlagOption {
  std::string_view name;
  bool clear;  // the option removes the flag ("rw" clears MS_RDONLY)
  unsigned long flag;
};

// runc's mountFlags table (libcontainer/specconv).
constexpr std::array kFlagOptions{
    FlagOption{"defaults", false, 0},
    FlagOption{"ro", false, MS_RDONLY},
    FlagOption{"rw", true, MS_RDONLY},
    FlagOption{"suid", true, MS_NOSUID},
    FlagOption{"nosuid", false, MS_NOSUID},
    FlagOption{"dev", true, MS_NODEV},
    FlagOption{"nodev", false, MS_NODEV},
    FlagOption{"exec", true, MS_NOEXEC},
    FlagOption{"noexec", false, MS_NOEXEC},
    FlagOption{"sync", false, MS_SYNCHRONOUS},
    FlagOption{"async", true, MS_SYNCHRONOUS},
    FlagOption{"dirsync", false, MS_DIRSYNC},
    FlagOption{"remount", false, MS_REMOUNT},
    FlagOption{"mand", false, MS_MANDLOCK},
    FlagOption{"nomand", true, MS_MANDLOCK},
    FlagOption{"atime", true, MS_NOATIME},
    FlagOption{"noatime", false, MS_NOATIME},
    FlagOption{"diratime", true, MS_NODIRATIME},
    FlagOption{"nodiratime", false, MS_NODIRATIME},
    FlagOption{"bind", false, MS_BIND},
    FlagOption{"rbind", false, MS_BIND | MS_REC},
    FlagOption{"relatime", false, MS_RELATIME},
    FlagOption{"norelatime", true, MS_RELATIME},
    FlagOption{"strictatime", false, MS_STRICTATIME},
    FlagOption{"nostrictatime", true, MS_STRICTATIME},
    FlagOption{"iversion", false, MS_I_VERSION},
    FlagOption{"noiversion", true, MS_I_VERSION},
    FlagOption{"lazytime", false, MS_LAZYTIME},
    FlagOption{"nolazytime", true, MS_LAZYTIME},
    FlagOption{"silent", false, MS_SILENT},
    FlagOption{"loud", true, MS_SILENT},
    FlagOption{"nosymfollow", false, MS_NOSYMFOLLOW},
    FlagOption{"symfollow", true, MS_NOSYMFOLLOW},
};

struct PropagationOption {
  std::string_view name;
  unsigned long flags;
};

constexpr std::array kPropagationOptions{
    PropagationOption{"private", MS_PRIVATE},       PropagationOption{"rprivate", MS_PRIVATE | MS_REC},
    PropagationOption{"shared", MS_SHARED},         PropagationOption{"rshared", MS_SHARED | MS_REC},
    PropagationOption{"slave", MS_SLAVE},           PropagationOption{"rslave", MS_SLAVE | MS_REC},
    PropagationOption{"unbindable", MS_UNBINDABLE}, PropagationOption{"runbindable", MS_UNBINDABLE | MS_REC},
};

struct RecursiveOption {
  std::string_view name;
  std::uint64_t set;
  std::uint64_t clear;
};

// runc's recAttrFlags; the atime modes are an enum in mount_setattr, so changing one clears MOUNT_ATTR__ATIME.
constexpr std::array kRecursiveOptions{
    RecursiveOption{"rro", MOUNT_ATTR_RDONLY, 0},
    RecursiveOption{"rrw", 0, MOUNT_ATTR_RDONLY},
    RecursiveOption{"rnosuid", MOUNT_ATTR_NOSUID, 0},
    RecursiveOption{"rsuid", 0, MOUNT_ATTR_NOSUID},
    RecursiveOption{"rnodev", MOUNT_ATTR_NODEV, 0},
    RecursiveOption{"rdev", 0, MOUNT_ATTR_NODEV},
    RecursiveOption{"rnoexec", MOUNT_ATTR_NOEXEC, 0},
    RecursiveOption{"rexec", 0, MOUNT_ATTR_NOEXEC},
    RecursiveOption{"rnodiratime", MOUNT_ATTR_NODIRATIME, 0},
    RecursiveOption{"rdiratime", 0, MOUNT_ATTR_NODIRATIME},
    RecursiveOption{"rrelatime", MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME},
    RecursiveOption{"rnorelatime", MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME},
    RecursiveOption{"rnoatime", MOUNT_ATTR_NOATIME, MOUNT_ATTR__ATIME},
    RecursiveOption{"ratime", MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME},
    RecursiveOption{"rstrictatime", MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME},
    RecursiveOption{"rnostrictatime", MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME},
    RecursiveOption{"rnosymfollow", MOUNT_ATTR_NOSYMFOLLOW, 0},
    RecursiveOption{"rsymfollow", 0, MOUNT_ATTR_NOSYMFOLLOW},
};

}  // namespace

bool MountOptions::is_bind() const noexcept { return (flags & MS_BIND) != 0; }

Expected<MountOptions> parse_mount_options(const std::vector<std::string>& options) {
  MountOptions parsed;
  for (const auto& option : options) {
    if (option == "tmpcopyup") {
      parsed.tmpcopyup = true;
      continue;
    }
    if (option == "idmap" || option == "ridmap") {
      return Error{EINVAL, "mount option \"" + option + "\": id-mapped mounts are not supported"};
    }
    bool known = false;
    for (const auto& flag_option : kFlagOptions) {
      if (flag_option.name != option) continue;
      if (flag_option.clear) {
        parsed.flags &= ~flag_option.flag;
      } else {
        parsed.flags |= flag_option.flag;
      }
      known = true;
      break;
    }
    for (const auto& propagation_option : kPropagationOptions) {
      if (known || propagation_option.name != option) continue;
      parsed.propagation.push_back(propagation_option.flags);
      known = true;
    }
    for (const auto& recursive_option : kRecursiveOptions) {
      if (known || recursive_option.name != option) continue;
      // A later option wins over an earlier contrary one ("rro" then "rrw").
      if ((recursive_option.clear & MOUNT_ATTR__ATIME) != 0) parsed.recursive.set &= ~MOUNT_ATTR__ATIME;
      parsed.recursive.set = (parsed.recursive.set & ~recursive_option.clear) | recursive_option.set;
      parsed.recursive.clear = (parsed.recursive.clear & ~recursive_option.set) | recursive_option.clear;
      known = true;
    }
    if (known) continue;
    if (!parsed.data.empty()) parsed.data += ',';
    parsed.data += option;
  }
  return parsed;
}

Expected<unsigned long> parse_propagation(std::string_view name) {
  if (name.empty()) return 0UL;
  for (const auto& option : kPropagationOptions) {
    if (option.name == name) return option.flags;
  }
  return Error{EINVAL, "rootfsPropagation \"" + std::string(name) +
                           "\" is not one of private, rprivate, shared, rshared, slave, rslave, unbindable, "
                           "runbindable"};
}

}  // namespace litebox::linux_host
