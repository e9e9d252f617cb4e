// The container's runtime state (runtime.md "State"), as `runc state` prints it and hooks receive it.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "oci/config.hpp"
#include "oci/diagnostics.hpp"

namespace oci {

// "status".
enum class Status { creating, created, running, stopped };

// The spec's name of a status ("creating", ...).
std::string_view to_string(Status status);
// The status a name denotes, if any.
std::optional<Status> status_from_string(std::string_view name);

// state.json.
struct State {
  std::string oci_version;                         // "ociVersion" (required)
  std::string id;                                  // "id": the container's ID (required)
  Status status = Status::creating;                // "status" (required)
  int pid = 0;                                     // "pid": required while created or running on Linux
  std::string bundle;                              // "bundle": absolute path of the bundle (required)
  std::map<std::string, std::string> annotations;  // "annotations"

  bool operator==(const State&) const = default;
};

// Parses a state document (`runc state` output is accepted: its extra members are ignored). Applies the
// spec's rules: non-empty id, absolute bundle, a positive pid while created or running.
Result<State> parse_state(std::string_view json, const ParseLimits& limits = {});

// Checks a state against the spec's rules.
Diagnostics validate(const State& state);

// Writes a state document; members in the spec's order, pid omitted when 0, annotations when empty.
std::string to_json(const State& state, JsonStyle style = JsonStyle::indented);

}  // namespace oci
