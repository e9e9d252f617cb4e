#include "shim_args.hpp"

#include <string_view>

namespace litebox::shim {

ShimArgsResult parse_shim_args(const std::vector<std::string>& argv) {
  ShimArgs args;
  auto value_flag = [&](std::string_view name) -> std::string* {
    if (name == "namespace") return &args.namespace_name;
    if (name == "address") return &args.address;
    if (name == "publish-binary") return &args.publish_binary;
    if (name == "id") return &args.id;
    if (name == "bundle") return &args.bundle;
    if (name == "socket-path") return &args.socket_path;
    if (name == "transport") return &args.transport;
    if (name == "log-level") return &args.log_level;
    if (name == "runtime-root") return &args.runtime_root;
    if (name == "core") return &args.core;
    if (name == "core-budget") return &args.core_budget;
    return nullptr;
  };
  auto bool_flag = [&](std::string_view name) -> bool* {
    if (name == "debug") return &args.debug;
    if (name == "v" || name == "version") return &args.version;
    if (name == "info") return &args.info;
    return nullptr;
  };
  for (std::size_t i = 1; i < argv.size(); ++i) {
    std::string_view token = argv[i];
    if (token.size() < 2 || token[0] != '-') {
      if (!args.action.empty()) return {std::nullopt, "unexpected argument \"" + argv[i] + "\""};
      args.action = argv[i];
      continue;
    }
    token.remove_prefix(token[1] == '-' ? 2 : 1);
    std::string_view name = token;
    std::optional<std::string> inline_value;
    if (auto eq = token.find('='); eq != std::string_view::npos) {
      name = token.substr(0, eq);
      inline_value = std::string(token.substr(eq + 1));
    }
    if (bool* b = bool_flag(name)) {
      *b = !inline_value || (*inline_value != "false" && *inline_value != "0");
      continue;
    }
    if (std::string* s = value_flag(name)) {
      if (inline_value) {
        *s = *inline_value;
      } else if (i + 1 < argv.size()) {
        *s = argv[++i];
      } else {
        return {std::nullopt, "flag needs an argument: -" + std::string(name)};
      }
      continue;
    }
    // A flag of a newer containerd: accepted and ignored, with its value when it has one attached.
  }
  return {std::move(args), {}};
}

}  // namespace litebox::shim
