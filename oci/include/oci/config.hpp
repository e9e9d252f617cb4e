// Reading and writing config.json. Nothing here throws: failures come back as diagnostics.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "oci/diagnostics.hpp"
#include "oci/spec.hpp"

namespace oci {

// Bounds on untrusted input, so a hostile document cannot exhaust memory or the stack.
struct ParseLimits {
  std::size_t max_bytes = 1024 * 1024;  // largest document accepted, in bytes (real configs: < 100 KiB)
  std::size_t max_depth = 64;               // deepest nesting of arrays and objects accepted
  std::size_t max_errors = 100;             // errors collected before the rest are summarized
};

// How documents are written.
enum class JsonStyle {
  compact,  // one line, no spaces
  indented  // two-space indentation, one member per line (as `runc spec` and `runc state` print)
};

// Parses config.json text into the model. Type errors (a string where a number belongs, a missing required
// member, a number out of range) are errors naming their JSON pointer; unknown members are ignored with a
// debug log. Does not apply the spec's semantic rules: see validate() and load_config().
Result<Spec> parse_config(std::string_view json, const ParseLimits& limits = {});

// One section on its own, as containerd sends them to a shim (Exec's process, Update's resources): the
// same type checks as in a whole document, pointers relative to the section.
Result<Process> parse_process(std::string_view json, const ParseLimits& limits = {});
Result<LinuxResources> parse_linux_resources(std::string_view json, const ParseLimits& limits = {});

// parse_config() followed by validate(): the value is present only when both found no error.
Result<Spec> load_config(std::string_view json, const ParseLimits& limits = {});

// Writes the model as config.json. Empty optional members are omitted, as the spec's Go types do, so that
// parse_config(to_json(spec)) == spec for every spec parse_config() produced.
std::string to_json(const Spec& spec, JsonStyle style = JsonStyle::indented);

}  // namespace oci
