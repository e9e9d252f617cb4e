// The container's root file system and its mounts (config.md "Root", "Mounts").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace oci {

// A range of user or group IDs mapped from the container to the host (user namespaces, id-mapped mounts).
struct IdMapping {
  std::uint32_t container_id = 0;  // "containerID": first ID inside the container
  std::uint32_t host_id = 0;       // "hostID": first ID on the host
  std::uint32_t size = 0;          // "size": how many IDs; must be at least 1

  bool operator==(const IdMapping&) const = default;
};

// "root": the container's root file system, relative to the bundle or absolute.
struct Root {
  std::string path;       // "path" (required, except for Hyper-V containers which omit root)
  bool readonly = false;  // "readonly"

  bool operator==(const Root&) const = default;
};

// One entry of "mounts".
struct Mount {
  std::string destination;            // "destination": absolute path inside the container (required)
  std::string type;                   // "type": file system type, e.g. "proc", "tmpfs", "bind"
  std::string source;                 // "source": device, host path or pseudo-file-system name
  std::vector<std::string> options;   // "options": fstab-style options, e.g. "nosuid", "ro", "rbind"
  std::vector<IdMapping> uid_mappings;  // "uidMappings": id-mapped mount (spec 1.1+)
  std::vector<IdMapping> gid_mappings;  // "gidMappings": id-mapped mount (spec 1.1+)

  bool operator==(const Mount&) const = default;
};

}  // namespace oci
