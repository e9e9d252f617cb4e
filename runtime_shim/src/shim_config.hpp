// The shim's runtime options: a JSON file named by the runtime options containerd passes on `start`'s
// stdin (runtimeoptions.v1.Options{config_path, config_body}, the CRI runtime's `options` table):
//   {"transport": "ttrpc" | "grpc", "log_level": "info" | "debug" | ..., "runtime_root": "/run/containerd/litebox",
//    "core": true | false, "core_descriptor_budget": 4096}
#pragma once

#include <string>
#include <string_view>

#include "litebox/platform/error.hpp"

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

// What `start` learns from its stdin.
struct StartInput {
  ShimConfig config;
  // containerd 2.3+ wrote a BootstrapParams: it decodes `start`'s output as a protobuf BootstrapResult first
  // (a plain address can decode as an empty one), so the answer must be one.
  bool bootstrap_params = false;
  std::string socket_dir;  // BootstrapParams.socket_dir; empty: /run/containerd/s
};

// From the bytes containerd wrote to `start`'s stdin: empty; a google.protobuf.Any holding
// runtimeoptions.v1.Options (1.6-2.2; another runtime's options are ignored); or containerd 2.3+'s
// BootstrapParams, whose extensions carry that Any. The two are told apart by BootstrapParams' fields 3-9,
// which containerd always sets (version, binary) and an Any (fields 1-2) never has.
platform::Expected<StartInput> parse_start_input(std::string_view stdin_bytes);
// The JSON document itself; unknown members are errors (a typo should not silently change nothing).
platform::Expected<ShimConfig> parse_shim_config(std::string_view json);

}  // namespace litebox::shim
