// The ttrpc client: unary calls over one connection (a unix socket, a named pipe on Windows), any number of threads at once. Stream ids
// are odd and increasing; responses are matched to calls by id in whatever order they come. A lost connection
// fails every call in flight (and every later one) with UNAVAILABLE; a call past its timeout returns
// DEADLINE_EXCEEDED (the server is told the timeout in timeout_nano). No function throws.
//
//   auto client = Client::connect(getenv("TTRPC_ADDRESS"));
//   std::string reply;
//   RpcStatus st = client->call("containerd.services.events.ttrpc.v1.Events", "Forward", request, reply,
//                               {{"containerd-namespace-ttrpc", ns}}, std::chrono::seconds(5));
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "rpc/rpc_status.hpp"
#include "ttrpc/codec.hpp"
#include "ttrpc/frame.hpp"
#include "ttrpc/stream.hpp"

namespace litebox::shim::ttrpc {

class Client {
 public:
  // `address`: as connect_stream takes it (a socket path, optionally `unix://...`; on Windows a named pipe).
  // nullptr on failure, with the reason in `error` when given (UNAVAILABLE, or INVALID_ARGUMENT for an
  // unusable address).
  static std::unique_ptr<Client> connect(std::string_view address, RpcStatus* error = nullptr);
  // Takes a connected stream (owned from here on; closed on failure).
  static std::unique_ptr<Client> adopt(std::unique_ptr<Stream> stream, RpcStatus* error = nullptr);
#ifndef _WIN32
  // The same over a connected unix stream socket.
  static std::unique_ptr<Client> adopt(int fd, RpcStatus* error = nullptr);
#endif

  ~Client();  // close()
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // One unary call: `request` / `response` are the serialized messages. No timeout: wait as long as the
  // connection lives.
  RpcStatus call(std::string_view service, std::string_view method, std::string_view request, std::string& response,
                 const Metadata& metadata = {}, std::optional<std::chrono::nanoseconds> timeout = std::nullopt);

  // Fails the calls in flight with UNAVAILABLE and disconnects. Idempotent.
  void close();
  // False once the connection is lost or closed.
  bool is_open() const;

 private:
  struct State;
  explicit Client(std::shared_ptr<State> state) : state_(std::move(state)) {}
  std::shared_ptr<State> state_;
};

}  // namespace litebox::shim::ttrpc
