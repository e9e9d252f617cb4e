// litebox-runtime's commands: runc's command line over litebox::linux_host::Runtime.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "args.hpp"
#include "litebox/linux/container.hpp"

namespace litebox::cli {

struct GlobalOptions {
  std::string root = "/run/litebox-runtime";
  std::string log_path;
  std::string log_format = "text";
  bool debug = false;
};

// Each command takes the arguments after its name and returns the process's exit code. Errors are logged
// (to stderr and the --log file).
using Command = int (*)(linux_host::Runtime& runtime, const std::vector<std::string>& args);

int cmd_create(linux_host::Runtime& runtime, const std::vector<std::string>& args);
int cmd_start(linux_host::Runtime& runtime, const std::vector<std::string>& args);
int cmd_run(linux_host::Runtime& runtime, const std::vector<std::string>& args);
int cmd_state(linux_host::Runtime& runtime, const std::vector<std::string>& args);
int cmd_list(linux_host::Runtime& runtime, const std::vector<std::string>& args);
int cmd_kill(linux_host::Runtime& runtime, const std::vector<std::string>& args);
int cmd_delete(linux_host::Runtime& runtime, const std::vector<std::string>& args);
int cmd_exec(linux_host::Runtime& runtime, const std::vector<std::string>& args);
int cmd_ps(linux_host::Runtime& runtime, const std::vector<std::string>& args);
int cmd_pause(linux_host::Runtime& runtime, const std::vector<std::string>& args);
int cmd_resume(linux_host::Runtime& runtime, const std::vector<std::string>& args);
int cmd_update(linux_host::Runtime& runtime, const std::vector<std::string>& args);
int cmd_features(linux_host::Runtime& runtime, const std::vector<std::string>& args);

// Logs `message` as an error and returns 1.
int fail(const std::string& message);

// A command's flags and at least `positional_min` positional arguments; logs the problem (or `usage`) and
// returns nothing otherwise. `stop_at_positional`: flags end at the first positional (exec ID CMD -c ...).
std::optional<ParsedArgs> parse_command(const std::vector<std::string>& args, const std::vector<FlagSpec>& flags,
                                        std::size_t positional_min, const char* usage, bool stop_at_positional = false);

// Sends `fd` (a terminal's master) to the unix socket at `path`, runc's --console-socket protocol.
bool send_console(const std::string& path, int fd, std::string& error);

// Waits for `pid` (our child), forwarding the signals a foreground runtime receives, and copying between
// our stdio and `console_master` when there is one. Returns the exit code as a shell reports it.
int wait_foreground(pid_t pid, int console_master);

// Writes `pid` to `path` atomically (runc's --pid-file).
bool write_pid_file(const std::string& path, pid_t pid, std::string& error);

}  // namespace litebox::cli
