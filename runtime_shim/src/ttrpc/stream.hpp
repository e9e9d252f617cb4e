// The byte streams ttrpc runs over, behind one type per role so the server and the client are the same code on
// every host: a unix stream socket on Linux (unix_stream.cpp), a named pipe instance on Windows
// (named_pipe_stream.cpp). No function throws.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "rpc/rpc_status.hpp"

namespace litebox::shim::ttrpc {

enum class WriteResult { ok, failed, timed_out };

// One connected stream. read_some runs on one thread while write_all runs on others (one writer at a time);
// stop_reading and shut_down may be called from any thread.
class Stream {
 public:
  virtual ~Stream() = default;

  // Blocks until some bytes arrive: their count; 0 at end of stream or once stop_reading()/shut_down() was
  // called; -1 on an error, described in `error`.
  virtual std::ptrdiff_t read_some(char* buf, std::size_t size, std::string& error) = 0;
  // Writes all of `data`. With a deadline, waits for room only until then; `written` says how much went out
  // (a partial frame leaves the stream unusable). On failure `error` says why.
  virtual WriteResult write_all(std::string_view data, std::size_t& written,
                                std::optional<std::chrono::steady_clock::time_point> deadline,
                                std::string& error) = 0;
  // A blocked and every later read_some returns 0; writing goes on working (answers to requests in flight).
  virtual void stop_reading() = 0;
  // Reading and writing both end: blocked calls return (a peer that does not read cannot hold us).
  virtual void shut_down() = 0;
  // Why the peer may not use this server (on Linux: another uid than ours, from SO_PEERCRED), or nullopt when
  // it may. On Windows the pipe's security descriptor already admitted only our user, SYSTEM and
  // Administrators, so this is always nullopt there.
  virtual std::optional<std::string> peer_refusal() const = 0;
};

// Accepts connections for a server.
class Listener {
 public:
  virtual ~Listener() = default;
  // Blocks until a client connects: its stream; nullptr once stop() was called or the listener failed
  // (logged). Transient failures (a client gone before accept, descriptor exhaustion) are retried inside.
  virtual std::unique_ptr<Stream> accept() = 0;
  // Makes a blocked and every later accept() return nullptr. Any thread.
  virtual void stop() = 0;
};

// Connects to a ttrpc server at `address`: a socket path (optionally `unix://...`) on Linux, a named pipe
// (`\\.\pipe\...`, optionally `npipe://...`) on Windows. nullptr with UNAVAILABLE (or INVALID_ARGUMENT for an
// unusable address) in `error` on failure.
std::unique_ptr<Stream> connect_stream(std::string_view address, RpcStatus& error);

}  // namespace litebox::shim::ttrpc
