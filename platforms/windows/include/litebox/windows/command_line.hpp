// What CreateProcessW is given for an OCI process: its command line, environment block, program and working
// directory. Pure functions of the spec (and, for lookups, the file system), so they are tested on their own.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "litebox/platform/error.hpp"

namespace litebox::windows_host {

// The command line whose CommandLineToArgvW() split is `args` (the inverse of the MSVC/CommandLineToArgvW
// rules: an argument with blanks or quotes, or an empty one, is quoted; backslashes are doubled only before a
// quote, embedded or closing).
std::wstring quote_command_line(const std::vector<std::string>& args);

// process.env as a CREATE_UNICODE_ENVIRONMENT block: "K=V\0...\0\0", sorted by name without regard to case
// as Windows keeps its own blocks (GetEnvironmentVariable depends on it). Entries without '=' are dropped; a
// later duplicate name replaces an earlier one, as execve's last-wins lookup does. SystemRoot is taken from
// the shim's environment when the spec does not set it: without it Winsock and the C runtime fail to start
// in the child, and HostProcess containers run on the host's Windows anyway.
std::wstring environment_block(const std::vector<std::string>& env);

// process.cwd under the container's root folder: "C:\\app", "\\app" and "/app" all name <rootfs>\app (a
// HostProcess container's root is its rootfs folder). ".." cannot climb above the root.
std::filesystem::path path_in_root(const std::filesystem::path& rootfs, const std::string& path);

// The program args[0] names: a path (absolute, or with a separator: taken under the root) is used as it is
// (".exe" added when it names no file); a bare name is looked for in the root folder first, then in each
// directory of the spec's PATH (host paths, as in a HostProcess container), with ".exe" when it has no
// extension. ENOENT: `exec: "foo": executable file not found in %PATH%`.
platform::Expected<std::filesystem::path> find_program(const std::string& arg0, const std::filesystem::path& rootfs,
                                                       const std::vector<std::string>& env);

}  // namespace litebox::windows_host
