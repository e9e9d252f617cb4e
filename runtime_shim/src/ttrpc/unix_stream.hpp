// ttrpc's streams on Linux: connected unix stream sockets and a listening one (the shim's socket, inherited
// as fd 3 by the serving process).
#pragma once

#include <memory>
#include <string>

#include "ttrpc/stream.hpp"

namespace litebox::shim::ttrpc {

// Takes a connected stream socket (owned from here on: closed on failure too). nullptr with the reason in
// `error` when the stream cannot be set up.
std::unique_ptr<Stream> unix_stream(int fd, std::string* error = nullptr);
// Takes a listening unix stream socket (owned from here on), made non-blocking so that a connection aborted
// between poll and accept cannot block the accepting thread. nullptr with the reason in `error` on failure.
std::unique_ptr<Listener> unix_listener(int listen_fd, std::string* error = nullptr);

}  // namespace litebox::shim::ttrpc
