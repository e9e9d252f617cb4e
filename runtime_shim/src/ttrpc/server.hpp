// The ttrpc server: unary calls dispatched to a ServiceRegistry, as containerd's task shims serve them.
//
// Per connection one reader thread decodes frames; every request runs on a thread of its own (Wait blocks for
// as long as the process lives while State, Kill and Exec keep arriving on the same connection) and its
// response is written under the connection's write lock as soon as it is ready, in any order. Behaviour on
// odd input follows github.com/containerd/ttrpc's server:
//   - oversized frame (> max_payload): payload read and dropped, RESOURCE_EXHAUSTED on that stream;
//   - frames other than Request (Response, Data, unknown types): ignored;
//   - unparsable Request: INVALID_ARGUMENT on that stream; even stream id: INVALID_ARGUMENT; request flags are
//     not looked at (every request is unary);
//   - unknown service or method: UNIMPLEMENTED "service S: method M: not implemented";
//   - a frame cut off by end of stream: the connection is closed.
// The connection stays open through all of these. No function throws.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "rpc/service_registry.hpp"
#include "ttrpc/frame.hpp"
#include "ttrpc/stream.hpp"

namespace litebox::shim::ttrpc {

struct ServerOptions {
  // Accept a connection only when the stream admits its peer (Stream::peer_refusal: on Linux the peer's
  // SO_PEERCRED uid must equal our effective uid, as containerd and runc's shim check); otherwise it is logged
  // and closed.
  bool require_same_uid = true;
  // How long shutdown() waits for requests in flight before it closes their connections.
  std::chrono::milliseconds shutdown_grace{std::chrono::seconds(10)};
  // Requests running at once on one connection; more are answered RESOURCE_EXHAUSTED.
  std::size_t max_concurrent_requests = 1024;
  std::uint32_t max_payload = kMaxPayload;
};

class Server {
 public:
  // `registry` must outlive the server (the handlers are copied per call, the map is read while serving).
  explicit Server(const ServiceRegistry& registry, ServerOptions options = {});
  ~Server();  // shutdown()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Accepts connections from `listener` on a thread of its own until shutdown(). False (listener dropped)
  // after shutdown or when no thread can be started.
  bool serve_listener(std::unique_ptr<Listener> listener);
  // Serves one connected stream. Same peer check as accepted ones. False (stream dropped) when refused.
  bool serve_connection(std::unique_ptr<Stream> stream);
#ifndef _WIN32
  // The same over a listening unix stream socket (e.g. the inherited fd 3) and a connected one; the server
  // owns the fd from here on and closes it.
  bool serve_listener(int listen_fd);
  bool serve_connection(int fd);
#endif

  // Stops accepting and reading, waits up to shutdown_grace for the requests in flight to finish and answer,
  // then closes every connection and joins every thread. A handler still running after that is left to finish
  // on its own (its thread detached, its response dropped; see wait_detached): returns false then, true
  // otherwise. Idempotent.
  bool shutdown();

  // Connections being served (readers running or requests in flight).
  std::size_t connection_count() const;

  // Waits up to `limit` for the handlers that any server's shutdown() abandoned to return (e.g. before the
  // process exits). True when none is left running.
  static bool wait_detached(std::chrono::milliseconds limit);

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace litebox::shim::ttrpc
