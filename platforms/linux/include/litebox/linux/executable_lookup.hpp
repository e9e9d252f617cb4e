// Finding and executing the container's args[0] inside the pivoted root, with runc's (Go's exec.LookPath)
// rules and wording, e.g. `exec: "foo": executable file not found in $PATH`.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "litebox/linux/error.hpp"

namespace litebox::linux_host {

// The PATH used when the spec's env has none.
inline constexpr std::string_view kDefaultContainerPath =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// The value of PATH in a KEY=value list (the last one wins, as when runc sets them in order), else the default.
std::string container_path_variable(const std::vector<std::string>& env);

// Child side, after pivot_root and the user switch (permission checks use the effective ids). A name with a
// '/' is checked as is; otherwise each PATH entry is tried ("" means "."). Errors, as runc prints them:
//   exec: "foo": executable file not found in $PATH
//   exec: "/nonexistent": stat /nonexistent: no such file or directory
//   exec: "/bin/x": permission denied          (no execute permission, or a noexec mount)
//   exec: "/tmp": is a directory
//   exec: "foo": cannot run executable found relative to current directory
Expected<std::string> find_executable(const std::string& name, std::string_view path_variable);

// execve(path, args, env), retried on EINTR. Returns only on failure: `exec /bin/x: exec format error`.
Error execute(const std::string& path, const std::vector<std::string>& args, const std::vector<std::string>& env);

}  // namespace litebox::linux_host
