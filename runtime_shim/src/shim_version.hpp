// The shim's name and version, for `-v`, `-info` and Connect.
#pragma once

namespace litebox::shim {

inline constexpr const char* kShimBinaryName = "containerd-shim-litebox-v1";
inline constexpr const char* kRuntimeName = "io.containerd.litebox.v1";
const char* shim_version();   // "0.1.0"
const char* shim_revision();  // the git commit the build came from, or "unknown"

}  // namespace litebox::shim
