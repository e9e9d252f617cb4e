// The shim's command line as containerd writes it, in Go's flag syntax (single or double dash, "-f v" or
// "-f=v"): `-namespace NS -address A -publish-binary P -id ID [-debug] [-bundle B] start|delete`, plus `-v`
// and `-info`, and the private flags `start` hands to the long-lived server (`serve`).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace litebox::shim {

struct ShimArgs {
  std::string namespace_name;
  std::string address;         // containerd's gRPC socket
  std::string publish_binary;  // containerd's own binary (legacy event path)
  std::string id;
  std::string bundle;          // delete's -bundle (default: the working directory)
  bool debug = false;
  bool version = false;        // -v
  bool info = false;           // -info
  std::string action;          // "start", "delete", "serve" or empty
  // Set by `start` for `serve`.
  std::string socket_path;
  std::string transport = "ttrpc";
  std::string log_level;
  std::string runtime_root;
  std::string core = "on";       // the LiteBox core: "on" or "off" (the runtime options' "core")
  std::string core_budget = "0";  // per-container descriptor budget, 0: none
};

struct ShimArgsResult {
  std::optional<ShimArgs> args;
  std::string error;
};

ShimArgsResult parse_shim_args(const std::vector<std::string>& argv);

}  // namespace litebox::shim
