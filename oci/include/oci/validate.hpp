// The runtime-spec's rules for config.json, beyond types: every violation is collected, each with the
// JSON pointer of the offending value and what is wrong.
#pragma once

#include <cstddef>

#include "oci/diagnostics.hpp"
#include "oci/spec.hpp"

namespace oci {

// What validate() found: errors make the configuration unusable; warnings are logged and accepted.
struct Validation {
  Diagnostics errors;
  Diagnostics warnings;

  bool ok() const { return errors.empty(); }
};

// Checks a configuration against the spec. A configuration with a "windows" section is checked as a
// Windows container; otherwise as a POSIX (Linux) container. At most `max_errors` errors (and as many
// warnings) are reported, the last saying that the rest were dropped. Never throws.
Validation validate(const Spec& spec, std::size_t max_errors = 1000);

}  // namespace oci
