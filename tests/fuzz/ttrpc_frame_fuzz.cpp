// libFuzzer target: the bytes a ttrpc peer sends are untrusted. They go (1) through the incremental frame
// decoder, fed in chunks of several sizes, which must cut the same frames whatever the chunking and give back
// exactly the bytes it was fed; and (2) to a server serving one end of a socketpair with a few handlers, which
// must answer only with well-formed Response frames, close the connection when the input ends, and never
// crash, hang or leak.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/stubs/logging.h>

#include "rpc/service_registry.hpp"
#include "ttrpc/codec.hpp"
#include "ttrpc/frame.hpp"
#include "ttrpc/server.hpp"

namespace tt = litebox::shim::ttrpc;
using litebox::shim::CallContext;
using litebox::shim::RpcStatus;
using litebox::shim::ServiceRegistry;
using litebox::shim::StatusCode;

namespace {

// Small enough that fuzz-sized inputs reach the oversize path.
constexpr std::uint32_t kServerMaxPayload = 2048;

void check(bool ok) {
  if (!ok) std::abort();
}

std::vector<tt::Frame> decode(std::string_view in, std::size_t chunk, std::uint32_t max, std::string& rebuilt) {
  tt::FrameDecoder d(max);
  std::vector<tt::Frame> frames;
  for (std::size_t i = 0; i < in.size(); i += chunk) {
    d.feed(in.substr(i, chunk));
    while (auto f = d.next()) frames.push_back(std::move(*f));
  }
  std::size_t whole = 0;
  for (const auto& f : frames) {
    check(f.oversized == (f.header.length > max));
    check(f.oversized ? f.payload.empty() : f.payload.size() == f.header.length);
    whole += tt::kHeaderSize + f.header.length;
    if (!f.oversized) {
      const auto again = tt::encode_frame(f.header.stream_id, static_cast<tt::MessageType>(f.header.type),
                                          f.header.flags, f.payload, max);
      check(again.has_value());
      rebuilt += *again;
    }
  }
  check(whole <= in.size());
  check(d.mid_frame() == (whole < in.size()));
  check(d.mid_frame() == !d.eof_error().empty());
  return frames;
}

void fuzz_decoder(std::string_view in) {
  std::string whole_rebuilt;
  const auto whole = decode(in, in.size() + 1, tt::kMaxPayload, whole_rebuilt);
  for (std::size_t chunk : {std::size_t{1}, std::size_t{3}, 1 + in.size() % 17}) {
    std::string rebuilt;
    check(decode(in, chunk, tt::kMaxPayload, rebuilt) == whole);
    check(rebuilt == whole_rebuilt);
  }
  // Frames under the limit are the input's bytes exactly.
  bool any_oversized = false;
  for (const auto& f : whole) any_oversized |= f.oversized;
  if (!any_oversized) check(std::string_view(in).substr(0, whole_rebuilt.size()) == whole_rebuilt);
  std::string small_rebuilt;
  const auto small = decode(in, 5, 16, small_rebuilt);
  check(small.size() == whole.size());
}

ServiceRegistry make_registry() {
  ServiceRegistry r;
  const std::string task = "containerd.task.v2.Task";
  r.add(task, "Echo", [](const CallContext&, std::string_view req, std::string& resp) {
    resp = std::string(req);
    return RpcStatus::success();
  });
  r.add(task, "Empty", [](const CallContext&, std::string_view, std::string&) { return RpcStatus::success(); });
  r.add(task, "Fail", [](const CallContext& ctx, std::string_view req, std::string&) {
    return RpcStatus::error(StatusCode::not_found, ctx.method + " " + std::string(req.substr(0, 16)));
  });
  r.add(task, "Context", [](const CallContext& ctx, std::string_view, std::string& resp) {
    for (const auto& [k, v] : ctx.metadata) resp += k + "=" + v + ";";
    if (ctx.deadline) resp += "deadline";
    return RpcStatus::success();
  });
  return r;
}

const ServiceRegistry& registry() {
  static const ServiceRegistry r = make_registry();
  return r;
}

void fuzz_server(std::string_view in) {
  // A server of its own per input, shut down (every request's thread joined) before the input ends: a handler
  // thread still unwinding when libFuzzer looks for leaks after the input would be reported as one.
  tt::ServerOptions options;
  options.max_payload = kServerMaxPayload;
  options.shutdown_grace = std::chrono::milliseconds(1000);
  tt::Server server(registry(), options);
  int sv[2];
  check(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
  check(server.serve_connection(sv[0]));
  const int fd = sv[1];
  check(::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK) == 0);

  tt::FrameDecoder replies(tt::kMaxPayload);
  std::size_t sent = 0;
  bool write_open = true;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(8);
  for (;;) {
    if (write_open && sent == in.size()) {
      ::shutdown(fd, SHUT_WR);
      write_open = false;
    }
    pollfd p{fd, static_cast<short>(POLLIN | (write_open ? POLLOUT : 0)), 0};
    check(std::chrono::steady_clock::now() < give_up);  // the server must close once the input is over
    if (::poll(&p, 1, 1000) <= 0) continue;
    if (write_open && (p.revents & POLLOUT) != 0) {
      const ssize_t n = ::send(fd, in.data() + sent, in.size() - sent, MSG_NOSIGNAL);
      if (n > 0) sent += static_cast<std::size_t>(n);
      else if (n < 0 && errno != EAGAIN && errno != EINTR) write_open = false;  // server hung up
    }
    if ((p.revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      char buf[8192];
      const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) break;
      if (n > 0) replies.feed(std::string_view(buf, static_cast<std::size_t>(n)));
    }
  }
  ::close(fd);
  check(server.shutdown());  // nothing was still running: the connection had ended
  // Whatever the server said is whole Response frames.
  check(!replies.mid_frame());
  while (auto f = replies.next()) {
    check(f->header.type == static_cast<std::uint8_t>(tt::MessageType::response));
    check(!f->oversized && f->header.length <= kServerMaxPayload);
    RpcStatus st;
    std::string payload;
    check(tt::decode_response(f->payload, st, payload));
    check(st.ok() || payload.empty());
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);  // invalid UTF-8 in a string field is expected here, not news
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  fuzz_decoder(in);
  fuzz_server(in);
  return 0;
}
