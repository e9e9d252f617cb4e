// Small files the shim reads whole (its runtime options, the bundle's `address` and runtime-root files):
// bounded, so a file that is not what it should be cannot make the shim read without end.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

#include "litebox/platform/error.hpp"

namespace litebox::shim {

// The file's bytes; an error naming the file when it cannot be opened, is not a regular file or is larger
// than `max_bytes` (EFBIG).
platform::Expected<std::string> read_small_file(const std::filesystem::path& path, std::size_t max_bytes);

}  // namespace litebox::shim
