// The container's process (config.md "Process").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace oci {

// "consoleSize": the terminal's size in characters.
struct Box {
  std::uint32_t height = 0;  // "height" (required)
  std::uint32_t width = 0;   // "width" (required)

  bool operator==(const Box&) const = default;
};

// "user": who the process runs as.
struct User {
  std::uint32_t uid = 0;                      // "uid" (POSIX)
  std::uint32_t gid = 0;                      // "gid" (POSIX)
  std::optional<std::uint32_t> umask;         // "umask" (POSIX), 0..0777
  std::vector<std::uint32_t> additional_gids;  // "additionalGids" (POSIX)
  std::string username;                       // "username" (Windows)

  bool operator==(const User&) const = default;
};

// "capabilities": the five Linux capability sets, as "CAP_*" names.
struct Capabilities {
  std::vector<std::string> bounding;     // "bounding"
  std::vector<std::string> effective;    // "effective"
  std::vector<std::string> inheritable;  // "inheritable"
  std::vector<std::string> permitted;    // "permitted"
  std::vector<std::string> ambient;      // "ambient"

  bool operator==(const Capabilities&) const = default;
};

// One entry of "rlimits".
struct Rlimit {
  std::string type;        // "type": "RLIMIT_*" (required)
  std::uint64_t hard = 0;  // "hard" (required)
  std::uint64_t soft = 0;  // "soft" (required); not above hard

  bool operator==(const Rlimit&) const = default;
};

// "ioPriority" (Linux, spec 1.2): ioprio_set(2) class and level.
struct IoPriority {
  std::string io_class;      // "class": IOPRIO_CLASS_RT, IOPRIO_CLASS_BE or IOPRIO_CLASS_IDLE (required)
  std::int32_t priority = 0;  // "priority": 0 (highest) .. 7 (lowest)

  bool operator==(const IoPriority&) const = default;
};

// "scheduler" (Linux, spec 1.2): sched_setattr(2) parameters.
struct Scheduler {
  std::string policy;                   // "policy": SCHED_OTHER, SCHED_FIFO, ... (required)
  std::optional<std::int32_t> nice;     // "nice": -20..19
  std::optional<std::int32_t> priority;  // "priority": static priority (1..99 for FIFO and RR)
  std::vector<std::string> flags;       // "flags": SCHED_FLAG_*
  std::optional<std::uint64_t> runtime;   // "runtime": SCHED_DEADLINE, nanoseconds
  std::optional<std::uint64_t> deadline;  // "deadline": SCHED_DEADLINE, nanoseconds
  std::optional<std::uint64_t> period;    // "period": SCHED_DEADLINE, nanoseconds

  bool operator==(const Scheduler&) const = default;
};

// "execCPUAffinity" (Linux, spec 1.2): CPU lists ("0-3,7") for the exec'd process.
struct ExecCpuAffinity {
  std::string initial;  // "initial": affinity while the runtime sets the process up
  std::string final;    // "final": affinity of the user's process

  bool operator==(const ExecCpuAffinity&) const = default;
};

// "process": what the container runs and how.
struct Process {
  bool terminal = false;                       // "terminal"
  std::optional<Box> console_size;             // "consoleSize"
  User user;                                   // "user"
  std::vector<std::string> args;               // "args": argv; at least one entry (POSIX)
  std::string command_line;                    // "commandLine" (Windows): the full command line
  std::vector<std::string> env;                // "env": KEY=value entries
  std::string cwd;                             // "cwd": absolute path (required)
  std::optional<Capabilities> capabilities;    // "capabilities" (Linux)
  std::vector<Rlimit> rlimits;                 // "rlimits" (POSIX)
  bool no_new_privileges = false;              // "noNewPrivileges" (Linux)
  std::string apparmor_profile;                // "apparmorProfile" (Linux)
  std::optional<int> oom_score_adj;            // "oomScoreAdj" (Linux): -1000..1000
  std::string selinux_label;                   // "selinuxLabel" (Linux)
  std::optional<IoPriority> io_priority;       // "ioPriority" (Linux)
  std::optional<Scheduler> scheduler;          // "scheduler" (Linux)
  std::optional<ExecCpuAffinity> exec_cpu_affinity;  // "execCPUAffinity" (Linux)

  bool operator==(const Process&) const = default;
};

}  // namespace oci
