// The seccomp filter (config-linux.md "Seccomp": "linux.seccomp").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace oci {

// One argument comparison of a syscall rule.
struct SeccompArg {
  std::uint32_t index = 0;       // "index": argument number, 0..5 (required)
  std::uint64_t value = 0;       // "value" (required)
  std::uint64_t value_two = 0;   // "valueTwo": the mask's operand for SCMP_CMP_MASKED_EQ
  std::string op;                // "op": SCMP_CMP_* (required)

  bool operator==(const SeccompArg&) const = default;
};

// One entry of "syscalls": an action for a set of system calls.
struct SeccompSyscall {
  std::vector<std::string> names;          // "names": at least one (required)
  std::string action;                      // "action": SCMP_ACT_* (required)
  std::optional<std::uint32_t> errno_ret;  // "errnoRet": only with SCMP_ACT_ERRNO / SCMP_ACT_TRACE
  std::vector<SeccompArg> args;            // "args"

  bool operator==(const SeccompSyscall&) const = default;
};

// "linux.seccomp".
struct Seccomp {
  std::string default_action;                      // "defaultAction": SCMP_ACT_* (required)
  std::optional<std::uint32_t> default_errno_ret;  // "defaultErrnoRet"
  std::vector<std::string> architectures;          // "architectures": SCMP_ARCH_*
  std::vector<std::string> flags;                  // "flags": SECCOMP_FILTER_FLAG_*
  std::string listener_path;                       // "listenerPath": unix socket for SCMP_ACT_NOTIFY
  std::string listener_metadata;                   // "listenerMetadata": opaque, sent to the listener
  std::vector<SeccompSyscall> syscalls;            // "syscalls"

  bool operator==(const Seccomp&) const = default;
};

}  // namespace oci
