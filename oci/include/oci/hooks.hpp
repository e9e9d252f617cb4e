// Lifecycle hooks (config.md "POSIX-platform Hooks").
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace oci {

// One hook: a program the runtime runs at a point of the container's lifecycle.
struct Hook {
  std::string path;               // "path": absolute path of the program (required)
  std::vector<std::string> args;  // "args": argv, including argv[0]
  std::vector<std::string> env;   // "env": KEY=value entries
  std::optional<int> timeout;     // "timeout": seconds; must be greater than zero

  bool operator==(const Hook&) const = default;
};

// "hooks": the six hook lists, in lifecycle order.
struct Hooks {
  std::vector<Hook> prestart;          // "prestart" (deprecated by the spec, still honoured)
  std::vector<Hook> create_runtime;    // "createRuntime": runtime namespace, after create
  std::vector<Hook> create_container;  // "createContainer": container namespace, before pivot_root
  std::vector<Hook> start_container;   // "startContainer": container namespace, before the user process
  std::vector<Hook> poststart;         // "poststart": after the user process started
  std::vector<Hook> poststop;          // "poststop": after the container is deleted

  bool operator==(const Hooks&) const = default;
};

}  // namespace oci
