#include "shim_config.hpp"

#include <filesystem>

#include <boost/json.hpp>

#include "options.pb.h"
#include "small_file.hpp"
#include "wire.pb.h"

namespace litebox::shim {

namespace {
// The host's notion: "/..." on Linux; "C:\\..." or a UNC path on Windows, where containerd sends its state
// folder's s\ as BootstrapParams.socket_dir.
bool is_absolute_path(const std::string& text) { return !text.empty() && std::filesystem::path(text).is_absolute(); }

constexpr std::size_t kMaxConfigBytes = 64 * 1024;
}

platform::Expected<ShimConfig> parse_shim_config(std::string_view json) {
  if (json.size() > kMaxConfigBytes) return platform::Error{EINVAL, "runtime options: larger than 64 KiB"};
  boost::system::error_code ec;
  boost::json::value doc = boost::json::parse(json, ec);
  if (ec) return platform::Error{EINVAL, "runtime options: not JSON: " + ec.message()};
  if (!doc.is_object()) return platform::Error{EINVAL, "runtime options: must be a JSON object"};
  ShimConfig config;
  for (const auto& [key, value] : doc.as_object()) {
    if (key == "core") {
      if (!value.is_bool()) return platform::Error{EINVAL, "runtime options: \"core\" must be true or false"};
      config.core = value.as_bool();
      continue;
    }
    if (key == "core_descriptor_budget") {
      if (!value.is_int64() || value.as_int64() < 0 || value.as_int64() > (1 << 20)) {
        return platform::Error{EINVAL, "runtime options: \"core_descriptor_budget\" must be a number from 0 to 1048576"};
      }
      config.core_descriptor_budget = static_cast<std::size_t>(value.as_int64());
      continue;
    }
    if (!value.is_string()) return platform::Error{EINVAL, "runtime options: \"" + std::string(key) + "\" must be a string"};
    const std::string text(value.as_string());
    if (key == "transport") {
      if (text != "ttrpc" && text != "grpc") {
        return platform::Error{EINVAL, "runtime options: transport must be \"ttrpc\" or \"grpc\", got \"" + text + "\""};
      }
      config.transport = text;
    } else if (key == "log_level") {
      if (text != "trace" && text != "debug" && text != "info" && text != "warn" && text != "error") {
        return platform::Error{EINVAL, "runtime options: log_level must be trace, debug, info, warn or error, got \"" + text + "\""};
      }
      config.log_level = text;
    } else if (key == "runtime_root") {
      if (!is_absolute_path(text)) {
        return platform::Error{EINVAL, "runtime options: runtime_root must be an absolute path"};
      }
      config.runtime_root = text;
    } else {
      return platform::Error{EINVAL, "runtime options: unknown option \"" + std::string(key) + "\""};
    }
  }
  return config;
}

namespace {

// A runtimeoptions.v1.Options Any: the config it names (or holds); any other Any is another runtime's.
platform::Expected<ShimConfig> config_from_options_any(const litebox::wire::Any& any) {
  if (any.type_url().find("runtimeoptions") == std::string::npos) return ShimConfig{};
  litebox::shim::options::RuntimeOptions options;
  if (!options.ParseFromString(any.value())) {
    return platform::Error{EINVAL, "runtime options: malformed runtimeoptions.v1.Options"};
  }
  if (!options.config_body().empty()) return parse_shim_config(options.config_body());
  if (options.config_path().empty()) return ShimConfig{};
  auto text = read_small_file(options.config_path(), kMaxConfigBytes);
  if (!text) return platform::Error{text.error().code, "runtime options: " + text.error().message};
  auto config = parse_shim_config(text.value());
  if (!config) return platform::Error{EINVAL, config.error().message + " (in " + options.config_path() + ")"};
  return config;
}

bool is_bootstrap_params(const litebox::shim::options::BootstrapParams& params) {
  return params.log_level() != 0 || !params.containerd_version().empty() ||
         !params.containerd_ttrpc_address().empty() || !params.containerd_grpc_address().empty() ||
         !params.containerd_binary().empty() || params.extensions_size() > 0 || params.has_socket_dir();
}

}  // namespace

platform::Expected<StartInput> parse_start_input(std::string_view stdin_bytes) {
  StartInput input;
  if (stdin_bytes.empty()) return input;
  const int size = static_cast<int>(stdin_bytes.size());
  litebox::shim::options::BootstrapParams params;
  if (params.ParseFromArray(stdin_bytes.data(), size) && is_bootstrap_params(params)) {
    input.bootstrap_params = true;
    if (params.has_socket_dir()) {
      if (!is_absolute_path(params.socket_dir())) {
        return platform::Error{EINVAL, "bootstrap: socket_dir must be an absolute path"};
      }
      input.socket_dir = params.socket_dir();
    }
    for (const auto& extension : params.extensions()) {
      if (extension.value().type_url().find("runtimeoptions") == std::string::npos) continue;
      auto config = config_from_options_any(extension.value());
      if (!config) return config.error();
      input.config = std::move(config.value());
    }
    // containerd's own level, unless the options name one (containerd also passes -debug).
    if (input.config.log_level.empty() && params.log_level() <= -8) input.config.log_level = "trace";
    return input;
  }
  litebox::wire::Any any;
  // Not an Any either (or another runtime's options): nothing of ours.
  if (!any.ParseFromArray(stdin_bytes.data(), size)) return input;
  auto config = config_from_options_any(any);
  if (!config) return config.error();
  input.config = std::move(config.value());
  return input;
}

}  // namespace litebox::shim
