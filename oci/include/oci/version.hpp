// Versions of the runtime-spec this model reads and writes.
#pragma once

#include <optional>
#include <string_view>

namespace oci {

// The oldest and newest runtime-spec versions the model covers (features.json "ociVersionMin"/"Max").
inline constexpr std::string_view kOciVersionMin = "1.0.0";
inline constexpr std::string_view kOciVersionMax = "1.3.0";
// The version written into documents this runtime produces (state.json, generated configs).
inline constexpr std::string_view kOciVersion = "1.3.0";

// A parsed semantic version "MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]".
struct SemanticVersion {
  unsigned major = 0;
  unsigned minor = 0;
  unsigned patch = 0;
  std::string_view prerelease;  // after '-', empty when absent; refers into the parsed text
};

// Parses a semantic version (semver.org 2.0.0 syntax); nullopt if `text` is not one.
std::optional<SemanticVersion> parse_semantic_version(std::string_view text);

}  // namespace oci
