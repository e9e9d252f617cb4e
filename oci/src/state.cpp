// state.json: the container's runtime state.
#include "oci/state.hpp"

#include <array>
#include <exception>
#include <utility>

#include "checker.hpp"
#include "codec.hpp"
#include "fields.hpp"
#include "oci/version.hpp"

namespace oci {

namespace {

constexpr std::array<std::pair<Status, std::string_view>, 4> kStatusNames{{
    {Status::creating, "creating"},
    {Status::created, "created"},
    {Status::running, "running"},
    {Status::stopped, "stopped"},
}};

}  // namespace

std::string_view to_string(Status status) {
  for (const auto& [s, name] : kStatusNames) {
    if (s == status) return name;
  }
  return "unknown";
}

std::optional<Status> status_from_string(std::string_view name) {
  for (const auto& [s, n] : kStatusNames) {
    if (n == name) return s;
  }
  return std::nullopt;
}

Diagnostics validate(const State& state) {
  Diagnostics errors;
  const auto version = parse_semantic_version(state.oci_version);
  if (!version) {
    errors.push_back({"/ociVersion", "must be a semantic version such as \"1.2.0\", got \"" + state.oci_version + "\""});
  } else if (version->major != 1) {
    errors.push_back({"/ociVersion", "major version " + std::to_string(version->major) +
                                         " is not supported (this runtime implements 1.x)"});
  }
  if (state.id.empty()) errors.push_back({"/id", "must be a non-empty container ID"});
  if ((state.status == Status::created || state.status == Status::running) && state.pid <= 0) {
    errors.push_back({"/pid", "must be the positive process ID of the container process while the status is " +
                                  std::string(to_string(state.status)) + ", got " + std::to_string(state.pid)});
  } else if (state.pid < 0) {
    errors.push_back({"/pid", "must not be negative, got " + std::to_string(state.pid)});
  }
  if (!detail::is_posix_absolute(state.bundle) && !detail::is_windows_absolute(state.bundle)) {
    errors.push_back({"/bundle", "must be the absolute path of the bundle, got \"" + state.bundle + "\""});
  }
  for (const auto& [key, value] : state.annotations) {
    if (key.empty()) errors.push_back({"/annotations/", "annotation keys must not be empty"});
  }
  return errors;
}

Result<State> parse_state(std::string_view json, const ParseLimits& limits) {
  Result<State> result;
  try {
    detail::ErrorSink sink(limits.max_errors);
    if (auto doc = detail::parse_document(json, limits, sink)) {
      State state;
      detail::read(*doc, state, "", sink);
      if (sink.empty()) {
        Diagnostics rules = validate(state);
        for (auto& d : rules) sink.add(std::move(d.pointer), std::move(d.message));
      }
      if (sink.empty()) result.value = std::move(state);
    }
    result.errors = sink.take();
  } catch (const std::exception& e) {
    result.value.reset();
    result.errors.push_back({"", std::string("could not be read: ") + e.what()});
  }
  return result;
}

std::string to_json(const State& state, JsonStyle style) {
  return detail::serialize(detail::write(state), style);
}

}  // namespace oci
