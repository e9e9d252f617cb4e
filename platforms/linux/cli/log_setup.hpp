// Logging for the command line: errors to stderr, and with --log to a file, as text or as runc's JSON lines
// ({"level":"error","msg":"...","time":"..."}), which containerd's runc shim reads back on failure.
#pragma once

#include <string>

#include "cli.hpp"

namespace litebox::cli {

bool setup_logging(const GlobalOptions& options, std::string& error);

}  // namespace litebox::cli
