#include "ttrpc/client.hpp"

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#ifndef _WIN32
#include "ttrpc/unix_stream.hpp"
#endif

namespace litebox::shim::ttrpc {

namespace {

using Clock = std::chrono::steady_clock;

struct Pending {
  std::condition_variable cv;
  bool done = false;
  RpcStatus status;
  std::string payload;
};

void set_error(RpcStatus* out, RpcStatus st) {
  if (out != nullptr) *out = std::move(st);
}

}  // namespace

struct Client::State {
  explicit State(std::unique_ptr<Stream> s) : stream(std::move(s)) {}
  State(const State&) = delete;
  State& operator=(const State&) = delete;

  const std::unique_ptr<Stream> stream;
  const std::uint32_t max_payload = kMaxPayload;

  std::mutex mu;  // everything below but the write_ members, close_mu and reader
  bool broken = false;
  std::string broken_reason;
  std::uint64_t next_id = 1;
  std::map<std::uint32_t, Pending*> pending;

  // One frame at a time. A flag under a plain mutex rather than std::timed_mutex, whose timed lock
  // (pthread_mutex_clocklock) ThreadSanitizer does not see.
  std::mutex write_mu;
  std::condition_variable write_cv;
  bool writing = false;

  bool begin_write(const std::optional<Clock::time_point>& deadline) {
    std::unique_lock lock(write_mu);
    const auto free = [this] { return !writing; };
    if (deadline) {
      if (!write_cv.wait_until(lock, *deadline, free)) return false;
    } else {
      write_cv.wait(lock, free);
    }
    writing = true;
    return true;
  }
  void end_write() {
    {
      std::lock_guard lock(write_mu);
      writing = false;
    }
    write_cv.notify_one();
  }
  std::mutex close_mu;        // joins the reader
  std::thread reader;

  void fail_all_locked(std::string reason) {
    if (!broken) {
      broken = true;
      broken_reason = std::move(reason);
    }
    for (auto& [id, p] : pending) {
      p->status = RpcStatus::error(StatusCode::unavailable, broken_reason);
      p->payload.clear();
      p->done = true;
      p->cv.notify_all();
    }
    pending.clear();
  }

  void deliver(Frame& f) {
    if (f.header.type != static_cast<std::uint8_t>(MessageType::response)) {
      spdlog::debug("ttrpc client: ignoring a frame of type {} on stream {}", f.header.type, f.header.stream_id);
      return;
    }
    std::lock_guard lock(mu);
    const auto it = pending.find(f.header.stream_id);
    if (it == pending.end()) {  // timed out already, or never ours
      spdlog::debug("ttrpc client: response for unknown stream {}", f.header.stream_id);
      return;
    }
    Pending& p = *it->second;
    if (f.oversized) {
      p.status = RpcStatus::error(StatusCode::resource_exhausted, oversize_message(f.header.length, max_payload));
    } else if (!decode_response(f.payload, p.status, p.payload)) {
      p.status = RpcStatus::error(StatusCode::internal, "ttrpc: malformed response");
      p.payload.clear();
    }
    p.done = true;
    p.cv.notify_all();
    pending.erase(it);
  }

  void read_loop() {
    std::string reason = "ttrpc: connection closed";
    try {
      FrameDecoder decoder(max_payload);
      std::vector<char> buf(64 * 1024);
      std::string error;
      for (;;) {
        const std::ptrdiff_t n = stream->read_some(buf.data(), buf.size(), error);
        if (n < 0) {
          reason = "ttrpc: connection lost: " + error;
          break;
        }
        if (n == 0) break;
        decoder.feed(std::string_view(buf.data(), static_cast<std::size_t>(n)));
        while (auto f = decoder.next()) deliver(*f);
      }
    } catch (const std::exception& e) {
      reason = std::string("ttrpc: connection dropped: ") + e.what();
    }
    std::lock_guard lock(mu);
    fail_all_locked(reason);
  }
};

std::unique_ptr<Client> Client::adopt(std::unique_ptr<Stream> stream, RpcStatus* error) {
  if (!stream) {
    set_error(error, RpcStatus::error(StatusCode::unavailable, "ttrpc client: no connection"));
    return nullptr;
  }
  std::shared_ptr<State> state;
  try {
    state = std::make_shared<State>(std::move(stream));
  } catch (const std::exception& e) {
    set_error(error, RpcStatus::error(StatusCode::internal, e.what()));
    return nullptr;
  }
  try {
    State* raw = state.get();
    state->reader = std::thread([raw] { raw->read_loop(); });
    return std::unique_ptr<Client>(new Client(std::move(state)));
  } catch (const std::exception& e) {
    if (state->reader.joinable()) {  // thread started, Client allocation failed
      state->stream->shut_down();
      state->reader.join();
    }
    set_error(error, RpcStatus::error(StatusCode::internal, std::string("ttrpc client: ") + e.what()));
    return nullptr;
  }
}

#ifndef _WIN32
std::unique_ptr<Client> Client::adopt(int fd, RpcStatus* error) {
  std::string why;
  auto stream = unix_stream(fd, &why);
  if (!stream) {
    set_error(error, RpcStatus::error(StatusCode::internal, "ttrpc client: " + why));
    return nullptr;
  }
  return adopt(std::move(stream), error);
}
#endif

std::unique_ptr<Client> Client::connect(std::string_view address, RpcStatus* error) {
  RpcStatus st;
  auto stream = connect_stream(address, st);
  if (!stream) {
    set_error(error, std::move(st));
    return nullptr;
  }
  return adopt(std::move(stream), error);
}

Client::~Client() { close(); }

void Client::close() {
  State& s = *state_;
  {
    std::lock_guard lock(s.mu);
    s.fail_all_locked("ttrpc: client closed");
  }
  s.stream->shut_down();  // wakes the reader; the stream itself is closed with the state
  std::lock_guard lock(s.close_mu);
  if (s.reader.joinable() && s.reader.get_id() != std::this_thread::get_id()) s.reader.join();
}

bool Client::is_open() const {
  std::lock_guard lock(state_->mu);
  return !state_->broken;
}

RpcStatus Client::call(std::string_view service, std::string_view method, std::string_view request,
                       std::string& response, const Metadata& metadata, std::optional<std::chrono::nanoseconds> timeout) {
  State& s = *state_;
  response.clear();
  const std::string name = std::string(service) + "/" + std::string(method);
  std::optional<Clock::time_point> deadline;
  if (timeout) {
    if (*timeout <= std::chrono::nanoseconds::zero()) {
      return RpcStatus::error(StatusCode::deadline_exceeded, "ttrpc: " + name + ": deadline exceeded");
    }
    const auto now = Clock::now();
    deadline = *timeout >= Clock::time_point::max() - now
                   ? Clock::time_point::max()
                   : now + std::chrono::duration_cast<Clock::duration>(*timeout);
  }

  Pending p;
  std::uint32_t id = 0;
  {
    std::lock_guard lock(s.mu);
    if (s.broken) return RpcStatus::error(StatusCode::unavailable, s.broken_reason);
    if (s.next_id > 0xffffffffu) return RpcStatus::error(StatusCode::unavailable, "ttrpc: stream ids exhausted");
    id = static_cast<std::uint32_t>(s.next_id);
    s.next_id += 2;
    s.pending[id] = &p;
  }
  // Every return from here on leaves `p` out of the pending map.
  const auto forget = [&s, id] {
    std::lock_guard lock(s.mu);
    s.pending.erase(id);
  };
  const auto expired = [&name] {
    return RpcStatus::error(StatusCode::deadline_exceeded, "ttrpc: " + name + ": deadline exceeded");
  };

  try {
    std::int64_t timeout_nano = 0;
    if (deadline) {
      timeout_nano = std::max<std::int64_t>(
          1, std::chrono::duration_cast<std::chrono::nanoseconds>(*deadline - Clock::now()).count());
    }
    const auto frame =
        encode_frame(id, MessageType::request, 0, encode_request(service, method, request, timeout_nano, metadata),
                     s.max_payload);
    if (!frame) {
      forget();
      return RpcStatus::error(StatusCode::resource_exhausted, "ttrpc: " + name + ": request too large");
    }

    if (!s.begin_write(deadline)) {
      forget();
      return expired();
    }
    std::size_t written = 0;
    std::string write_error;
    const auto r = s.stream->write_all(*frame, written, deadline, write_error);
    s.end_write();
    if (r != WriteResult::ok) {
      if (r == WriteResult::timed_out && written == 0) {
        forget();
        return expired();
      }
      // A frame cut in the middle (or a dead socket) leaves nothing usable on this connection.
      {
        std::lock_guard lock(s.mu);
        s.pending.erase(id);
        s.fail_all_locked(r == WriteResult::timed_out
                              ? std::string("ttrpc: connection abandoned: a request timed out half-written")
                              : "ttrpc: connection lost: " + write_error);
      }
      s.stream->shut_down();
      if (r == WriteResult::timed_out) return expired();
      std::lock_guard lock(s.mu);
      return RpcStatus::error(StatusCode::unavailable, s.broken_reason);
    }

    std::unique_lock lock(s.mu);
    if (deadline) {
      p.cv.wait_until(lock, *deadline, [&p] { return p.done; });
    } else {
      p.cv.wait(lock, [&p] { return p.done; });
    }
    if (!p.done) {
      s.pending.erase(id);
      return expired();
    }
    response = std::move(p.payload);
    return std::move(p.status);
  } catch (const std::exception& e) {
    forget();
    return RpcStatus::error(StatusCode::internal, std::string("ttrpc: ") + name + ": " + e.what());
  }
}

}  // namespace litebox::shim::ttrpc
