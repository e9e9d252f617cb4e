// The shim's runtime options: a JSON file named by the runtime options containerd passes on `start`'s
// stdin (runtimeoptions.v1.Options{config_path, config_body}, the CRI runtime's `options` table):
//   {"transport": "ttrpc" | "grpc", "log_level": "info" | "debug" | ..., "runtime_root": "/run/containerd/litebox",
//    "core": true | false, "core_descriptor_budget": 4096}
#pragma once

#include <string>
#include <string_view>

#include "litebox/linux/error.hpp"

namespace litebox::shim {

inline constexpr const char* kDefaultRuntimeRoot = "/run/containerd/litebox";

struct ShimConfig {
  std::string transport = "ttrpc";
  std::string log_level;  // empty: info, or debug with -debug
  std::string runtime_root = kDefaultRuntimeRoot;
  // The LiteBox core serves the containers' descriptor system calls; false: plain runc-style containers.
  // A container's annotation org.litebox.core ("on"/"off") overrides it.
  bool core = true;
  // The most open file descriptions one container may hold (0: only RLIMIT_NOFILE applies). The annotation
  // org.litebox.core.descriptor-budget overrides it.
  std::size_t core_descriptor_budget = 0;
};

// From the bytes containerd wrote to `start`'s stdin: empty, a google.protobuf.Any holding
// runtimeoptions.v1.Options (or another runtime's options, which are ignored), or containerd 2.3's
// BootstrapParams (nothing of ours in it).
linux_host::Expected<ShimConfig> config_from_start_input(std::string_view stdin_bytes);
// The JSON document itself; unknown members are errors (a typo should not silently change nothing).
linux_host::Expected<ShimConfig> parse_shim_config(std::string_view json);

}  // namespace litebox::shim
