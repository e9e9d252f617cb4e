// What the runtime remembers of a container between commands: <root>/<id>/state.json. Each command of the
// command-line runtime is its own process, so everything later commands need is here.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "litebox/linux/error.hpp"

namespace litebox::linux_host {

enum class ContainerStatus { creating, created, running, paused, stopped };

std::string_view to_string(ContainerStatus status);

struct ContainerRecord {
  std::string id;
  std::string bundle;              // absolute
  std::string rootfs;              // absolute host path of the root
  pid_t init_pid = 0;              // in the runtime's pid namespace
  std::uint64_t init_start_time = 0;  // /proc/<pid>/stat field 22: tells a reused pid from ours
  std::string created;             // RFC 3339, UTC
  std::string cgroup_path;         // the resolved cgroupsPath, to reopen the cgroup
  std::map<std::string, std::string> annotations;
};

// The directory of one container's state under the runtime's root.
std::filesystem::path container_dir(const std::filesystem::path& root, std::string_view id);

// Ids are file names: letters, digits, and `_ + - .`, not starting with a dot, at most 1024 bytes.
Status check_container_id(std::string_view id);

Status save_record(const std::filesystem::path& dir, const ContainerRecord& record);
Expected<ContainerRecord> load_record(const std::filesystem::path& dir);

// The start time of a process (field 22 of /proc/<pid>/stat), or nullopt when it does not exist or is a
// zombie (it has exited: only its exit status is left).
std::optional<std::uint64_t> process_start_time(pid_t pid);

// "2026-11-27T09:00:00.123456789Z".
std::string rfc3339_now();

}  // namespace litebox::linux_host
