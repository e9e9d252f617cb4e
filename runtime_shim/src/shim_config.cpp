#include "shim_config.hpp"

#include <boost/json.hpp>

#include "options.pb.h"
#include "small_file.hpp"
#include "wire.pb.h"

namespace litebox::shim {

namespace {
constexpr std::size_t kMaxConfigBytes = 64 * 1024;
}

linux_host::Expected<ShimConfig> parse_shim_config(std::string_view json) {
  if (json.size() > kMaxConfigBytes) return linux_host::Error{EINVAL, "runtime options: larger than 64 KiB"};
  boost::system::error_code ec;
  boost::json::value doc = boost::json::parse(json, ec);
  if (ec) return linux_host::Error{EINVAL, "runtime options: not JSON: " + ec.message()};
  if (!doc.is_object()) return linux_host::Error{EINVAL, "runtime options: must be a JSON object"};
  ShimConfig config;
  for (const auto& [key, value] : doc.as_object()) {
    if (key == "core") {
      if (!value.is_bool()) return linux_host::Error{EINVAL, "runtime options: \"core\" must be true or false"};
      config.core = value.as_bool();
      continue;
    }
    if (key == "core_descriptor_budget") {
      if (!value.is_int64() || value.as_int64() < 0 || value.as_int64() > (1 << 20)) {
        return linux_host::Error{EINVAL, "runtime options: \"core_descriptor_budget\" must be a number from 0 to 1048576"};
      }
      config.core_descriptor_budget = static_cast<std::size_t>(value.as_int64());
      continue;
    }
    if (!value.is_string()) return linux_host::Error{EINVAL, "runtime options: \"" + std::string(key) + "\" must be a string"};
    const std::string text(value.as_string());
    if (key == "transport") {
      if (text != "ttrpc" && text != "grpc") {
        return linux_host::Error{EINVAL, "runtime options: transport must be \"ttrpc\" or \"grpc\", got \"" + text + "\""};
      }
      config.transport = text;
    } else if (key == "log_level") {
      if (text != "trace" && text != "debug" && text != "info" && text != "warn" && text != "error") {
        return linux_host::Error{EINVAL, "runtime options: log_level must be trace, debug, info, warn or error, got \"" + text + "\""};
      }
      config.log_level = text;
    } else if (key == "runtime_root") {
      if (text.empty() || text.front() != '/') {
        return linux_host::Error{EINVAL, "runtime options: runtime_root must be an absolute path"};
      }
      config.runtime_root = text;
    } else {
      return linux_host::Error{EINVAL, "runtime options: unknown option \"" + std::string(key) + "\""};
    }
  }
  return config;
}

linux_host::Expected<ShimConfig> config_from_start_input(std::string_view stdin_bytes) {
  if (stdin_bytes.empty()) return ShimConfig{};
  litebox::wire::Any any;
  if (!any.ParseFromArray(stdin_bytes.data(), static_cast<int>(stdin_bytes.size())) ||
      any.type_url().find("runtimeoptions") == std::string::npos) {
    // Another runtime's options (containerd.runc.v1.Options from a shared config) or BootstrapParams.
    return ShimConfig{};
  }
  litebox::shim::options::RuntimeOptions options;
  if (!options.ParseFromString(any.value())) {
    return linux_host::Error{EINVAL, "runtime options: malformed runtimeoptions.v1.Options"};
  }
  if (!options.config_body().empty()) return parse_shim_config(options.config_body());
  if (options.config_path().empty()) return ShimConfig{};
  auto text = read_small_file(options.config_path(), kMaxConfigBytes);
  if (!text) return linux_host::Error{text.error().code, "runtime options: " + text.error().message};
  auto config = parse_shim_config(text.value());
  if (!config) return linux_host::Error{EINVAL, config.error().message + " (in " + options.config_path() + ")"};
  return config;
}

}  // namespace litebox::shim
