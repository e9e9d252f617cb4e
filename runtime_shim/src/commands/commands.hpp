// The shim's sub-commands. Each returns the process's exit status.
#pragma once

#include "shim_args.hpp"

namespace litebox::shim {

// `start`: binds the socket, starts the long-lived server (this binary again, `serve`), writes the address
// file and prints the address; nothing else on stdout.
int start_command(const ShimArgs& args);
// `serve`: the server itself (never run by containerd directly).
int serve_command(const ShimArgs& args);
// `delete`: cleans up after a task whose shim is gone; prints a DeleteResponse on stdout.
int delete_command(const ShimArgs& args);
// `-info`: a RuntimeInfo message on stdout.
int info_command(const ShimArgs& args);

}  // namespace litebox::shim
