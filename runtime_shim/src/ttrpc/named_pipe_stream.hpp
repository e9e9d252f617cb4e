// ttrpc's streams on Windows: named pipe instances in byte mode, overlapped so that a blocked read or write
// can be given up (stop_reading, shut_down, a write's deadline).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "ttrpc/stream.hpp"

namespace litebox::shim::ttrpc {

// Creates the first instance of the pipe `address` (`\\.\pipe\...`) at once, so clients can connect as soon as
// this returns, then one more instance per accepted client. The pipe admits SYSTEM, Administrators and our own
// user (its DACL), local clients only. `exclusive`: fail when another server already owns the name
// (FILE_FLAG_FIRST_PIPE_INSTANCE). nullptr with the reason in `error` on failure.
std::unique_ptr<Listener> named_pipe_listener(std::string_view address, bool exclusive, std::string& error);

}  // namespace litebox::shim::ttrpc
