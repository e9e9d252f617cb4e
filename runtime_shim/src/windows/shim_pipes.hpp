// The named pipes of a shim on Windows (containerd's conventions, as runhcs uses them): the task service's
// pipe, whose address `start` prints, and the log pipe the shim serves and containerd connects to.
#pragma once

#include <string>

namespace litebox::shim {

// \\.\pipe\containerd-shim-<ns>-<group>-pipe
std::string shim_pipe_address(const std::string& namespace_name, const std::string& group);
// \\.\pipe\containerd-shim-<ns>-<id>-log
std::string shim_log_pipe_address(const std::string& namespace_name, const std::string& id);
// Whether a server answers on the pipe now (another container of the group's shim, a shim still running).
bool pipe_is_served(const std::string& address);
// This executable's path, for `start` to run it again as the server.
std::wstring self_executable_path();

}  // namespace litebox::shim
