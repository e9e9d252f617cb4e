// The shim's log on Windows: the pipe \\.\pipe\containerd-shim-<ns>-<id>-log, served by the shim; containerd
// connects to it after `start` and copies what arrives into its own log (on Linux it is a FIFO in the bundle).
#pragma once

#include <string>

namespace litebox::shim {

// Creates the log pipe and logs to it in logrus's format (as on Linux) from the moment containerd connects,
// which a thread of its own waits for; lines before that are dropped. When the pipe cannot be created, logs
// to stderr.
void log_to_containerd_pipe(const std::string& address, const std::string& level, bool debug);

}  // namespace litebox::shim
