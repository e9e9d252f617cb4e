#include "ttrpc/server.hpp"

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <limits>
#include <list>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>

#include "ttrpc.pb.h"
#include "ttrpc/codec.hpp"
#ifndef _WIN32
#include "ttrpc/unix_stream.hpp"
#endif

namespace litebox::shim::ttrpc {

namespace {

using Clock = std::chrono::steady_clock;

struct Worker {
  std::thread thread;
  bool done = false;
  bool detached = false;  // abandoned by shutdown: counted in Detached until its thread ends
};

// Handlers abandoned by any server's shutdown that still run, so a process can wait for them before it exits.
struct Detached {
  std::mutex mu;
  std::condition_variable cv;
  std::size_t running = 0;

  static Detached& get() {
    static Detached* d = new Detached;  // never destroyed: detached threads may outlive static destruction
    return *d;
  }
};

// One accepted connection. The stream is closed by whoever finishes last: the reader (end of stream or
// shutdown) or the last request's thread, so a request answered after the client half-closed still gets
// through and the descriptor is never reused while someone may write to it.
struct Connection {
  Connection(std::unique_ptr<Stream> s, std::uint32_t max) : stream(std::move(s)), max_payload(max) {}
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  std::unique_ptr<Stream> stream;  // null once closed; used without `mu` only while reading or active
  const std::uint32_t max_payload;

  std::mutex mu;  // everything below but write_mu
  std::condition_variable cv;
  bool reading = true;
  bool closed = false;
  std::set<std::uint32_t> active;  // streams whose handler runs
  std::list<Worker> workers;

  std::mutex write_mu;  // one frame at a time

  bool idle_locked() const { return !reading && active.empty(); }
  void close_if_idle_locked() {
    if (idle_locked() && !closed) {
      stream.reset();
      closed = true;
    }
  }

  // Only while this thread counts as reading or active (the stream is open then).
  bool send_response(std::uint32_t stream_id, const RpcStatus& status, std::string_view payload) {
    std::string body = encode_response(status, payload);
    auto frame = encode_frame(stream_id, MessageType::response, 0, body, max_payload);
    if (!frame) {
      body = encode_response(RpcStatus::error(StatusCode::resource_exhausted,
                                              "response " + oversize_message(body.size(), max_payload)),
                             {});
      frame = encode_frame(stream_id, MessageType::response, 0, body, max_payload);
      if (!frame) return false;
    }
    std::lock_guard lock(write_mu);
    std::size_t written = 0;
    std::string error;
    if (stream->write_all(*frame, written, std::nullopt, error) != WriteResult::ok) {
      spdlog::debug("ttrpc: cannot send the response of stream {}: {}", stream_id, error);
      return false;
    }
    return true;
  }
};

// Moves the threads of finished workers out (to be joined without the lock).
void take_done_workers_locked(Connection& c, std::vector<std::thread>& out) {
  for (auto it = c.workers.begin(); it != c.workers.end();) {
    if (it->done) {
      if (it->thread.joinable()) out.push_back(std::move(it->thread));
      it = c.workers.erase(it);
    } else {
      ++it;
    }
  }
}

void join_all(std::vector<std::thread>& threads) {
  for (auto& t : threads)
    if (t.joinable()) t.join();
  threads.clear();
}

std::optional<Clock::time_point> deadline_from(std::int64_t timeout_nano) {
  if (timeout_nano == 0) return std::nullopt;
  const auto now = Clock::now();
  if (timeout_nano < 0) return now;  // already expired, as Go's context.WithTimeout does
  const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::time_point::max() - now);
  if (timeout_nano >= left.count()) return Clock::time_point::max();
  return now + std::chrono::duration_cast<Clock::duration>(std::chrono::nanoseconds(timeout_nano));
}

// Returns whether the worker was detached (its arguments are gone when this returns).
bool worker_body(std::shared_ptr<Connection> c, std::list<Worker>::iterator self, std::uint32_t stream,
                 UnaryHandler handler, CallContext ctx, std::string payload) {
  RpcStatus status;
  std::string out;
  try {
    status = handler(ctx, payload, out);
  } catch (const std::exception& e) {
    status = RpcStatus::error(StatusCode::internal, std::string("handler failed: ") + e.what());
  } catch (...) {
    status = RpcStatus::error(StatusCode::internal, "handler failed");
  }
  spdlog::debug("ttrpc: {}/{} stream={} status={} {}", ctx.service, ctx.method, stream,
                static_cast<int>(status.code), status.message);
  try {
    c->send_response(stream, status, status.ok() ? std::string_view(out) : std::string_view());
  } catch (...) {  // bad_alloc while encoding: the stream goes unanswered rather than the process down
  }
  std::lock_guard lock(c->mu);
  self->done = true;
  c->active.erase(stream);
  c->close_if_idle_locked();
  c->cv.notify_all();
  return self->detached;
}

void worker_main(std::shared_ptr<Connection> c, std::list<Worker>::iterator self, std::uint32_t stream,
                 UnaryHandler handler, CallContext ctx, std::string payload) {
  if (!worker_body(std::move(c), self, stream, std::move(handler), std::move(ctx), std::move(payload))) return;
  Detached& d = Detached::get();
  std::lock_guard lock(d.mu);
  --d.running;
  d.cv.notify_all();
}

}  // namespace

struct Server::State {
  State(const ServiceRegistry& r, ServerOptions o) : registry(r), options(o) {}
  State(const State&) = delete;
  State& operator=(const State&) = delete;

  struct Entry {
    std::shared_ptr<Connection> conn;
    std::thread reader;
  };

  const ServiceRegistry& registry;
  const ServerOptions options;

  mutable std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;
  bool finished = false;
  bool result = true;
  std::vector<std::thread> acceptors;
  std::vector<std::unique_ptr<Listener>> listeners;
  std::list<Entry> conns;

  void accept_loop(Listener& listener);
  void read_loop(const std::shared_ptr<Connection>& c);
  void handle_frame(const std::shared_ptr<Connection>& c, Frame& f);
  bool add_connection(std::unique_ptr<Stream> stream);
  void reap_locked(std::vector<std::thread>& out);
};

void Server::State::reap_locked(std::vector<std::thread>& out) {
  for (auto it = conns.begin(); it != conns.end();) {
    bool finished_conn = false;
    {
      std::lock_guard lock(it->conn->mu);
      take_done_workers_locked(*it->conn, out);
      finished_conn = it->conn->idle_locked() && it->conn->workers.empty();
    }
    if (finished_conn) {
      if (it->reader.joinable()) out.push_back(std::move(it->reader));
      it = conns.erase(it);
    } else {
      ++it;
    }
  }
}

bool Server::State::add_connection(std::unique_ptr<Stream> stream) {
  if (!stream) return false;
  if (options.require_same_uid) {
    if (const auto refusal = stream->peer_refusal()) {
      spdlog::warn("ttrpc: refusing a connection {}", *refusal);
      return false;
    }
  }
  std::vector<std::thread> reaped;
  bool ok = false;
  {
    std::lock_guard lock(mu);
    if (!stopping) {
      reap_locked(reaped);
      try {
        auto c = std::make_shared<Connection>(std::move(stream), options.max_payload);
        Entry e{c, std::thread([this, c] { read_loop(c); })};
        conns.push_back(std::move(e));
        ok = true;
      } catch (const std::exception& e) {
        spdlog::error("ttrpc: cannot serve a connection: {}", e.what());
      }
    }
  }
  join_all(reaped);
  return ok;
}

void Server::State::accept_loop(Listener& listener) {
  while (auto stream = listener.accept()) add_connection(std::move(stream));
}

void Server::State::read_loop(const std::shared_ptr<Connection>& c) {
  FrameDecoder decoder(options.max_payload);
  std::vector<char> buf(64 * 1024);
  std::string error;
  for (;;) {
    // 0 at end of stream and once shutdown began (read no more requests).
    const std::ptrdiff_t n = c->stream->read_some(buf.data(), buf.size(), error);
    if (n < 0) {
      spdlog::debug("ttrpc: connection read error: {}", error);
      break;
    }
    if (n == 0) {
      if (decoder.mid_frame()) spdlog::debug("ttrpc: connection closed in a frame: {}", decoder.eof_error());
      break;
    }
    try {
      decoder.feed(std::string_view(buf.data(), static_cast<std::size_t>(n)));
      while (auto f = decoder.next()) handle_frame(c, *f);
    } catch (const std::exception& e) {  // bad_alloc: drop the connection, keep the process
      spdlog::error("ttrpc: dropping a connection: {}", e.what());
      break;
    }
  }
  std::lock_guard lock(c->mu);
  c->reading = false;
  c->close_if_idle_locked();
  c->cv.notify_all();
}

void Server::State::handle_frame(const std::shared_ptr<Connection>& c, Frame& f) {
  const std::uint32_t stream = f.header.stream_id;
  if (f.oversized) {
    spdlog::debug("ttrpc: stream={} {}", stream, oversize_message(f.header.length, options.max_payload));
    c->send_response(stream,
                     RpcStatus::error(StatusCode::resource_exhausted,
                                      oversize_message(f.header.length, options.max_payload)),
                     {});
    return;
  }
  if (f.header.type != static_cast<std::uint8_t>(MessageType::request)) {
    // Responses, data (streaming) and unknown types are ignored, for future compatibility (as Go's server).
    spdlog::debug("ttrpc: ignoring a frame of type {} on stream {}", f.header.type, stream);
    return;
  }
  litebox::ttrpc::Request req;
  if (!req.ParseFromString(f.payload)) {
    c->send_response(stream, RpcStatus::error(StatusCode::invalid_argument, "unmarshal request error: bad protobuf"),
                     {});
    return;
  }
  f.payload = std::string();
  if (stream % 2 != 1) {
    c->send_response(stream,
                     RpcStatus::error(StatusCode::invalid_argument,
                                      "StreamID must be odd for client initiated streams"),
                     {});
    return;
  }
  spdlog::debug("ttrpc: {}/{} stream={}", req.service(), req.method(), stream);
  const UnaryHandler* handler = registry.find(req.service(), req.method());
  if (handler == nullptr) {
    RpcStatus st = RpcStatus::error(StatusCode::unimplemented,
                                    "service " + req.service() + ": method " + req.method() + ": not implemented");
    spdlog::debug("ttrpc: {}/{} stream={} status={} {}", req.service(), req.method(), stream,
                  static_cast<int>(st.code), st.message);
    c->send_response(stream, st, {});
    return;
  }

  CallContext ctx;
  ctx.service = std::move(*req.mutable_service());
  ctx.method = std::move(*req.mutable_method());
  ctx.metadata.reserve(static_cast<std::size_t>(req.metadata_size()));
  for (auto& kv : *req.mutable_metadata()) ctx.metadata.emplace_back(std::move(*kv.mutable_key()),
                                                                    std::move(*kv.mutable_value()));
  ctx.deadline = deadline_from(req.timeout_nano());

  RpcStatus refusal;
  std::vector<std::thread> reaped;
  {
    std::lock_guard lock(c->mu);
    take_done_workers_locked(*c, reaped);
    if (c->active.count(stream) != 0) {
      refusal = RpcStatus::error(StatusCode::invalid_argument, "StreamID already in use");
    } else if (c->active.size() >= options.max_concurrent_requests) {
      refusal = RpcStatus::error(StatusCode::resource_exhausted, "too many requests in flight on this connection");
    } else {
      auto self = c->workers.emplace(c->workers.end());
      c->active.insert(stream);
      try {
        self->thread = std::thread(worker_main, c, self, stream, *handler, std::move(ctx),
                                   std::move(*req.mutable_payload()));
      } catch (const std::exception& e) {
        c->workers.erase(self);
        c->active.erase(stream);
        refusal = RpcStatus::error(StatusCode::resource_exhausted, std::string("cannot start a handler: ") + e.what());
      }
    }
  }
  join_all(reaped);
  if (!refusal.ok()) {
    spdlog::debug("ttrpc: stream={} status={} {}", stream, static_cast<int>(refusal.code), refusal.message);
    c->send_response(stream, refusal, {});
  }
}

Server::Server(const ServiceRegistry& registry, ServerOptions options)
    : state_(std::make_shared<State>(registry, options)) {}

Server::~Server() { shutdown(); }

bool Server::serve_listener(std::unique_ptr<Listener> listener) {
  if (!listener) return false;
  State& s = *state_;
  std::lock_guard lock(s.mu);
  if (s.stopping) return false;
  try {
    s.listeners.reserve(s.listeners.size() + 1);
    Listener& l = *listener;
    s.acceptors.emplace_back([&s, &l] { s.accept_loop(l); });
    s.listeners.push_back(std::move(listener));
  } catch (const std::exception& e) {
    spdlog::error("ttrpc: cannot start accepting: {}", e.what());
    return false;
  }
  return true;
}

bool Server::serve_connection(std::unique_ptr<Stream> stream) { return state_->add_connection(std::move(stream)); }

#ifndef _WIN32
bool Server::serve_listener(int listen_fd) {
  std::string error;
  auto listener = unix_listener(listen_fd, &error);
  if (!listener) {
    spdlog::error("ttrpc: {}", error);
    return false;
  }
  return serve_listener(std::move(listener));
}

bool Server::serve_connection(int fd) {
  std::string error;
  auto stream = unix_stream(fd, &error);
  if (!stream) {
    spdlog::error("ttrpc: cannot serve a connection: {}", error);
    return false;
  }
  return serve_connection(std::move(stream));
}
#endif

bool Server::wait_detached(std::chrono::milliseconds limit) {
  Detached& d = Detached::get();
  std::unique_lock lock(d.mu);
  return d.cv.wait_for(lock, limit, [&d] { return d.running == 0; });
}

std::size_t Server::connection_count() const {
  State& s = *state_;
  std::lock_guard lock(s.mu);
  std::size_t n = 0;
  for (const auto& e : s.conns) {
    std::lock_guard clock(e.conn->mu);
    if (!e.conn->idle_locked()) ++n;
  }
  return n;
}

bool Server::shutdown() {
  State& s = *state_;
  {
    std::unique_lock lock(s.mu);
    if (s.stopping) {
      s.cv.wait(lock, [&s] { return s.finished; });
      return s.result;
    }
    s.stopping = true;
  }
  // No connection or acceptor is added once stopping is set.
  for (auto& l : s.listeners) l->stop();
  for (auto& t : s.acceptors) t.join();
  s.acceptors.clear();
  s.listeners.clear();
  for (auto& e : s.conns) {  // read no more requests; the answers to those in flight still go out
    std::lock_guard lock(e.conn->mu);
    if (!e.conn->closed) e.conn->stream->stop_reading();
  }

  const auto deadline = Clock::now() + s.options.shutdown_grace;
  for (auto& e : s.conns) {
    std::unique_lock lock(e.conn->mu);
    e.conn->cv.wait_until(lock, deadline, [&e] { return e.conn->idle_locked(); });
  }
  // Whatever is still open: no more reading or writing (unblocks a write to a client that does not read).
  for (auto& e : s.conns) {
    std::lock_guard lock(e.conn->mu);
    if (!e.conn->closed) e.conn->stream->shut_down();
  }
  bool all_done = true;
  std::vector<std::thread> threads;
  for (auto& e : s.conns) {
    if (e.reader.joinable()) e.reader.join();
    std::lock_guard lock(e.conn->mu);
    take_done_workers_locked(*e.conn, threads);
    for (auto& w : e.conn->workers) {
      if (w.thread.joinable()) {
        all_done = false;
        {
          Detached& d = Detached::get();
          std::lock_guard dlock(d.mu);
          ++d.running;
        }
        w.detached = true;
        w.thread.detach();
      }
    }
  }
  join_all(threads);
  if (!all_done) spdlog::warn("ttrpc: shutdown: requests still running after the grace time were abandoned");
  {
    std::lock_guard lock(s.mu);
    s.conns.clear();
    s.finished = true;
    s.result = all_done;
  }
  s.cv.notify_all();
  return all_done;
}

}  // namespace litebox::shim::ttrpc
