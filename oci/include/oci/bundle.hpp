// Loading an OCI bundle (bundle.md): a directory with config.json and the root file system.
#pragma once

#include <filesystem>

#include "oci/config.hpp"
#include "oci/diagnostics.hpp"
#include "oci/spec.hpp"

namespace oci {

// Reads <bundle>/config.json under `limits` (a file larger than limits.max_bytes is refused before it is
// read; a non-regular file such as a FIFO or device is refused), parses and validates it. File errors
// have an empty pointer and name the file. Never throws.
Result<Spec> load_bundle(const std::filesystem::path& bundle, const ParseLimits& limits = {});

}  // namespace oci
