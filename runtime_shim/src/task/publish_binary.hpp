// The legacy event path's process: `containerd --address A publish --topic T --namespace NS` with the event
// on its stdin (publish_binary_posix.cpp on Linux, windows/publish_binary_windows.cpp on Windows).
#pragma once

#include <shared_mutex>
#include <string>
#include <vector>

namespace litebox::shim {

// Runs args[0] with `args`, writes `payload` to its stdin and waits for it: true when it exited 0. On Linux
// `guard` (the reaper's) is held shared meanwhile, so the reaper cannot take the child's status.
bool run_publish_binary(std::vector<std::string> args, const std::string& payload, std::shared_mutex* guard);

}  // namespace litebox::shim
