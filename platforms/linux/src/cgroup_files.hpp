// Private helpers of the cgroups manager: reading and writing control files with messages naming the file.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "litebox/linux/error.hpp"

namespace litebox::linux_host::cgroup_files {

bool exists(const std::string& path);
// The whole file; errors as "read <path>: <strerror>".
Expected<std::string> read(const std::string& path);
// One write(2) of `value` (the kernel parses a control file per write); debug-logged.
Status write(const std::string& path, std::string_view value);
// The first line without its newline.
Expected<std::string> read_line(const std::string& path);
// A number, or kCgroupUnlimited for "max" / v1's huge "unlimited" values.
Expected<std::uint64_t> read_uint(const std::string& path);
// "key value" lines (memory.stat, cpu.stat, memory.events, memory.oom_control).
Expected<std::map<std::string, std::uint64_t>> read_keyed(const std::string& path);
std::optional<std::uint64_t> parse_uint(std::string_view text);

std::string join(const std::string& directory, std::string_view file);
std::vector<std::string> split(std::string_view text, char separator);
std::string_view trim(std::string_view text);

// mkdir -p; returns the topmost directory it created (empty when all existed). Retries when a concurrent
// destroy removes a parent under it.
Expected<std::string> make_directories(const std::string& path);

}  // namespace litebox::linux_host::cgroup_files
