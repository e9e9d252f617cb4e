// The shim's logging: spdlog in logrus's text format (what containerd's own shims write), to the log FIFO
// containerd made in the bundle (it copies the FIFO into its own log), or to stderr.
#pragma once

#include <string>

#include <spdlog/common.h>

namespace litebox::shim {

// `level`: trace, debug, info, warn, error; empty = info, or debug with `debug`.
void log_to_stderr(const std::string& level, bool debug);
// The same format and level to `sink`.
void log_to_sink(spdlog::sink_ptr sink, const std::string& level, bool debug);
#ifndef _WIN32  // Windows: windows/log_pipe.hpp
// Points fd 2 at <bundle>/log (non-blocking: a containerd that stops reading must not stall the shim) and
// logs there; keeps stderr as it is when the FIFO cannot be opened.
void log_to_containerd_fifo(const std::string& level, bool debug);
#endif

}  // namespace litebox::shim
