// The gRPC transport module: serves a ServiceRegistry over gRPC on a unix socket, through grpc++'s callback
// generic API (raw ByteBuffers for any "/service/method", so no codegen). Each call's handler runs on a
// thread of its own because handlers block (Wait lasts as long as the task). Connections are accepted here,
// not by gRPC, so the peer's uid can be checked (SO_PEERCRED) before the connection is handed to gRPC with
// AddInsecureChannelFromFd: gRPC reports a unix peer as a path only, not its credentials.
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <exception>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <grpcpp/server_posix.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/version_info.h>
#include <spdlog/spdlog.h>

#include "grpc/grpc_module_api.hpp"
#include "rpc/rpc_status.hpp"
#include "rpc/service_registry.hpp"

namespace litebox::shim::grpc_module {
namespace {

constexpr std::uint32_t kDefaultMaxCalls = 1024;
constexpr std::uint32_t kDefaultMaxMessageBytes = 16u << 20;

std::string errno_message(const std::string& what, int err) { return what + ": " + std::strerror(err); }

// One thread per call, joined once finished: by the next spawn, or by drain() at shutdown. Shared with the
// threads themselves, so a handler still running after a bounded drain keeps this alive.
class HandlerThreads : public std::enable_shared_from_this<HandlerThreads> {
 public:
  enum class Spawn { ok, busy, closed, failed };

  explicit HandlerThreads(std::uint32_t limit) : limit_(limit) {}
  ~HandlerThreads() {
    // Only reached when no handler holds us any more; the finished ones may still be in their epilogue (and
    // this may run on one of them), so let them go rather than join.
    for (auto& t : finished_) t.detach();
    for (auto& [id, t] : running_) t.detach();
  }

  Spawn spawn(std::function<void()> fn) noexcept {
    std::vector<std::thread> reap;
    Spawn result = Spawn::ok;
    {
      std::lock_guard lock(mu_);
      reap.swap(finished_);
      if (closed_) {
        result = Spawn::closed;
      } else if (running_.size() >= limit_) {
        result = Spawn::busy;
      } else {
        try {
          const std::uint64_t id = next_id_++;
          // The thread registers its end under mu_, which we hold until it is in running_.
          std::thread t([self = shared_from_this(), id, fn = std::move(fn)]() mutable {
            current_ = self.get();
            fn();
            fn = nullptr;  // drop the call's state before announcing the end
            self->finished(id);
          });
          running_.emplace(id, std::move(t));
        } catch (...) {
          result = Spawn::failed;
        }
      }
    }
    for (auto& t : reap) t.join();
    return result;
  }

  // Refuses new handlers, waits until those running have returned (bounded by `limit`; the caller's own
  // thread is not waited for), joins them and returns how many are left running, detached.
  std::uint32_t drain(std::optional<std::chrono::milliseconds> limit) {
    std::unique_lock lock(mu_);
    closed_ = true;
    const bool on_handler = current_ == this;
    const std::size_t own = on_handler ? 1 : 0;
    auto done = [&] { return running_.size() <= own; };
    if (limit) {
      cv_.wait_for(lock, *limit, done);
    } else {
      cv_.wait(lock, done);
    }
    std::vector<std::thread> reap;
    reap.swap(finished_);
    std::uint32_t left = 0;
    for (auto it = running_.begin(); it != running_.end();) {
      if (on_handler && it->second.get_id() == std::this_thread::get_id()) {
        ++it;
        continue;
      }
      it->second.detach();
      it = running_.erase(it);
      ++left;
    }
    drained_ = true;  // from now on threads detach themselves as they end
    lock.unlock();
    for (auto& t : reap) t.join();
    return left;
  }

 private:
  void finished(std::uint64_t id) {
    std::lock_guard lock(mu_);
    auto it = running_.find(id);
    if (it == running_.end()) return;  // detached by drain()
    if (drained_) {
      it->second.detach();
    } else {
      finished_.push_back(std::move(it->second));
    }
    running_.erase(it);
    cv_.notify_all();
  }

  static thread_local const HandlerThreads* current_;

  std::mutex mu_;
  std::condition_variable cv_;
  const std::uint32_t limit_;
  std::map<std::uint64_t, std::thread> running_;
  std::vector<std::thread> finished_;
  std::uint64_t next_id_ = 0;
  bool closed_ = false;
  bool drained_ = false;
};

thread_local const HandlerThreads* HandlerThreads::current_ = nullptr;

grpc::StatusCode to_grpc_code(StatusCode code) {
  const int c = static_cast<int>(code);
  if (c < 0 || c > static_cast<int>(grpc::StatusCode::UNAUTHENTICATED)) return grpc::StatusCode::UNKNOWN;
  return static_cast<grpc::StatusCode>(c);
}

// "/containerd.task.v3.Task/Create" -> ("containerd.task.v3.Task", "Create").
std::optional<std::pair<std::string_view, std::string_view>> split_method(std::string_view path) {
  if (path.size() < 4 || path.front() != '/') return std::nullopt;
  const auto slash = path.rfind('/');
  if (slash <= 1 || slash + 1 == path.size()) return std::nullopt;
  return std::pair{path.substr(1, slash - 1), path.substr(slash + 1)};
}

std::optional<std::chrono::steady_clock::time_point> steady_deadline(std::chrono::system_clock::time_point dl) {
  if (dl == std::chrono::system_clock::time_point::max()) return std::nullopt;  // none (gpr_inf_future)
  const auto left = dl - std::chrono::system_clock::now();
  return std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(left);
}

bool byte_buffer_to_string(const grpc::ByteBuffer& buffer, std::string& out) {
  std::vector<grpc::Slice> slices;
  if (!buffer.Valid()) {
    out.clear();
    return true;
  }
  if (!buffer.Dump(&slices).ok()) return false;
  out.clear();
  out.reserve(buffer.Length());
  for (const auto& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return true;
}

class UnaryReactor;

// What the reactor and its handler thread share. Whoever sets `finished` first calls Finish (exactly once);
// the reactor stays alive until then (OnDone follows Finish), so that one may still use `reactor`.
struct CallState {
  std::mutex mu;
  bool finished = false;
  UnaryReactor* reactor = nullptr;

  bool claim() {
    std::lock_guard lock(mu);
    return !std::exchange(finished, true);
  }
};

struct ServerCore {
  const ServiceRegistry* registry = nullptr;
  std::shared_ptr<HandlerThreads> threads;
};

// A unary call over the generic bidi stream: read one message, run the handler on its thread, write the reply
// and the status.
class UnaryReactor final : public grpc::ServerGenericBidiReactor {
 public:
  UnaryReactor(const ServerCore& core, grpc::GenericCallbackServerContext* ctx)
      : core_(core), ctx_(ctx), call_(std::make_shared<CallState>()) {
    call_->reactor = this;
    auto names = split_method(ctx->method());
    if (names) handler_ = core_.registry->find(names->first, names->second);
    if (handler_ == nullptr) {
      if (call_->claim()) Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "unknown method " + ctx->method()));
      return;
    }
    context_.service = std::string(names->first);
    context_.method = std::string(names->second);
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {  // the client half-closed without a message, or the call broke
      if (call_->claim()) Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no request message"));
      return;
    }
    std::string request;
    if (!byte_buffer_to_string(request_, request)) {
      if (call_->claim()) Finish(grpc::Status(grpc::StatusCode::INTERNAL, "cannot read the request message"));
      return;
    }
    request_.Clear();
    context_.deadline = steady_deadline(ctx_->deadline());
    for (const auto& [key, value] : ctx_->client_metadata()) {
      context_.metadata.emplace_back(std::string(key.data(), key.size()), std::string(value.data(), value.size()));
    }
    auto run = [call = call_, handler = handler_, context = std::move(context_), request = std::move(request)] {
      std::string response;
      RpcStatus status;
      try {
        status = (*handler)(context, request, response);
      } catch (const std::exception& e) {
        status = RpcStatus::error(StatusCode::internal, std::string("handler threw: ") + e.what());
      } catch (...) {
        status = RpcStatus::error(StatusCode::internal, "handler threw");
      }
      if (call->claim()) call->reactor->complete(status, response);
    };
    switch (core_.threads->spawn(std::move(run))) {
      case HandlerThreads::Spawn::ok:
        return;
      case HandlerThreads::Spawn::busy:
        if (call_->claim()) Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "too many calls in flight"));
        return;
      case HandlerThreads::Spawn::closed:
        if (call_->claim()) Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the shim is shutting down"));
        return;
      case HandlerThreads::Spawn::failed:
        if (call_->claim()) {
          Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "cannot start a thread for the call"));
        }
        return;
    }
  }

  // Cancelled by the client, its deadline, or shutdown past its grace: answer now; the handler's thread runs
  // on and its result is dropped.
  void OnCancel() override {
    if (call_->claim()) Finish(grpc::Status(grpc::StatusCode::CANCELLED, "call cancelled"));
  }

  void OnDone() override { delete this; }

  // From the handler's thread, after it claimed the call.
  void complete(const RpcStatus& status, const std::string& response) {
    if (!status.ok()) {
      Finish(grpc::Status(to_grpc_code(status.code), status.message));
      return;
    }
    grpc::Slice slice(response);
    response_ = grpc::ByteBuffer(&slice, 1);
    StartWriteAndFinish(&response_, grpc::WriteOptions(), grpc::Status::OK);
  }

 private:
  const ServerCore& core_;
  grpc::GenericCallbackServerContext* ctx_;
  std::shared_ptr<CallState> call_;
  const UnaryHandler* handler_ = nullptr;
  CallContext context_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
};

class GenericService final : public grpc::CallbackGenericService {
 public:
  explicit GenericService(const ServerCore& core) : core_(core) {}
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override {
    return new UnaryReactor(core_, ctx);
  }

 private:
  const ServerCore& core_;
};

void copy_error(const std::string& message, char* error, std::size_t error_size) {
  if (error == nullptr || error_size == 0) return;
  const std::size_t n = std::min(message.size(), error_size - 1);
  std::memcpy(error, message.data(), n);
  error[n] = '\0';
}

}  // namespace
}  // namespace litebox::shim::grpc_module

using litebox::shim::grpc_module::errno_message;

struct LiteboxGrpcServer {
  litebox::shim::grpc_module::ServerCore core;
  std::unique_ptr<litebox::shim::grpc_module::GenericService> service;
  std::unique_ptr<grpc::Server> server;
  int listen_fd = -1;
  int wake_fd = -1;  // eventfd: stops the acceptor
  std::string bound_path;  // the socket we created, removed at shutdown
  dev_t bound_dev = 0;
  ino_t bound_ino = 0;
  std::thread acceptor;

  std::mutex shutdown_mu;  // serializes shutdown()
  bool shut_down = false;
  std::uint32_t left_running = 0;

  std::mutex mu;
  std::condition_variable cv;
  bool stopped = false;  // wait() returns
  int waiters = 0;

  ~LiteboxGrpcServer() {
    if (listen_fd >= 0) ::close(listen_fd);
    if (wake_fd >= 0) ::close(wake_fd);
  }

  void mark_stopped() {
    std::lock_guard lock(mu);
    stopped = true;
    cv.notify_all();
  }

  // Waits on the listener and the wake eventfd; hands each accepted connection from our own uid to gRPC.
  void accept_loop() {
    const uid_t self = ::geteuid();
    for (;;) {
      pollfd fds[2] = {{listen_fd, POLLIN, 0}, {wake_fd, POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        spdlog::error("grpc transport: {}", errno_message("poll on the listener", errno));
        break;
      }
      if (fds[1].revents != 0) return;
      if ((fds[0].revents & (POLLERR | POLLHUP | POLLNVAL)) != 0) {
        spdlog::error("grpc transport: the listening socket failed (revents {:#x})", fds[0].revents);
        break;
      }
      const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (fd < 0) {
        const int err = errno;
        if (err == EINTR || err == EAGAIN || err == ECONNABORTED || err == EPROTO) continue;
        if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
          spdlog::warn("grpc transport: {}; retrying", errno_message("accept", err));
          pollfd wake{wake_fd, POLLIN, 0};
          if (::poll(&wake, 1, 100) > 0) return;
          continue;
        }
        spdlog::error("grpc transport: {}", errno_message("accept", err));
        break;
      }
      ucred cred{};
      socklen_t len = sizeof(cred);
      if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
        spdlog::warn("grpc transport: refusing a connection: {}", errno_message("SO_PEERCRED", errno));
        ::close(fd);
        continue;
      }
      if (cred.uid != self) {
        spdlog::warn("grpc transport: refusing a connection from pid {} uid {} (serving uid {} only)", cred.pid,
                     cred.uid, self);
        ::close(fd);
        continue;
      }
      grpc::AddInsecureChannelFromFd(server.get(), fd);  // gRPC owns fd from here
    }
    mark_stopped();  // the listener is gone for good: let wait() return so the shim can shut down
  }

  std::uint32_t shutdown(std::int64_t grace_ms, std::optional<std::int64_t> drain_ms) {
    std::lock_guard guard(shutdown_mu);
    if (shut_down) return left_running;
    if (acceptor.joinable()) {
      const std::uint64_t one = 1;
      if (::write(wake_fd, &one, sizeof(one)) != static_cast<ssize_t>(sizeof(one))) {
        spdlog::error("grpc transport: {}", errno_message("wake the acceptor", errno));
      }
      acceptor.join();
    }
    if (listen_fd >= 0) ::close(std::exchange(listen_fd, -1));
    if (!bound_path.empty()) {
      struct stat st {};
      if (::lstat(bound_path.c_str(), &st) == 0 && st.st_dev == bound_dev && st.st_ino == bound_ino) {
        ::unlink(bound_path.c_str());
      }
    }
    // Calls in flight get the grace; then gRPC cancels them, our reactors answer CANCELLED at once (OnCancel)
    // and Shutdown returns without waiting for the handlers.
    if (server) {
      constexpr std::int64_t kDay = 24LL * 3600 * 1000;
      const auto grace = std::chrono::milliseconds(std::clamp<std::int64_t>(grace_ms, 0, kDay));
      server->Shutdown(std::chrono::system_clock::now() + grace);
      server->Wait();
    }
    std::optional<std::chrono::milliseconds> limit;
    if (drain_ms) limit = std::chrono::milliseconds(std::max<std::int64_t>(*drain_ms, 0));
    left_running = core.threads->drain(limit);
    if (left_running != 0) {
      spdlog::warn("grpc transport: {} handler(s) still running after shutdown", left_running);
    }
    shut_down = true;
    mark_stopped();
    return left_running;
  }
};

namespace litebox::shim::grpc_module {
namespace {

// Binds `path` (mode 0600, refused if it exists) and listens.
int bind_socket(const std::string& path, LiteboxGrpcServer& s, std::string& error) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.front() != '/') {
    error = "socket path \"" + path + "\" is not absolute";
    return -1;
  }
  if (path.size() >= sizeof(addr.sun_path)) {
    error = "socket path \"" + path + "\" is too long (" + std::to_string(path.size()) + " bytes, at most " +
            std::to_string(sizeof(addr.sun_path) - 1) + ")";
    return -1;
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    error = errno_message("socket", errno);
    return -1;
  }
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    error = errno_message("bind " + path, errno);
    ::close(fd);
    return -1;
  }
  // Nobody can connect before listen(), so the mode is right before the socket is reachable.
  struct stat st {};
  if (::chmod(path.c_str(), 0600) != 0 || ::lstat(path.c_str(), &st) != 0) {
    error = errno_message("chmod 0600 " + path, errno);
    ::unlink(path.c_str());
    ::close(fd);
    return -1;
  }
  s.bound_path = path;
  s.bound_dev = st.st_dev;
  s.bound_ino = st.st_ino;
  if (::listen(fd, SOMAXCONN) != 0) {
    error = errno_message("listen on " + path, errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

// Checks an adopted listener: a listening unix stream socket; made non-blocking for the accept loop.
bool check_listener(int fd, std::string& error) {
  int value = 0;
  socklen_t len = sizeof(value);
  if (::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &value, &len) != 0) {
    error = errno_message("listen_fd " + std::to_string(fd) + " is not a socket", errno);
    return false;
  }
  if (value != AF_UNIX) {
    error = "listen_fd " + std::to_string(fd) + " is not a unix socket";
    return false;
  }
  len = sizeof(value);
  if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &value, &len) != 0 || value == 0) {
    error = "listen_fd " + std::to_string(fd) + " is not listening";
    return false;
  }
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0 || ::fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {
    error = errno_message("fcntl listen_fd", errno);
    return false;
  }
  return true;
}

LiteboxGrpcServer* start(const LiteboxGrpcServeOptions* options, char* error, std::size_t error_size) noexcept {
  int adopted = -1;
  try {
    if (options == nullptr || options->struct_size < sizeof(LiteboxGrpcServeOptions)) {
      copy_error("grpc transport: options missing or from an older ABI", error, error_size);
      return nullptr;
    }
    adopted = options->listen_fd;
    if (options->registry == nullptr) {
      if (adopted >= 0) ::close(adopted);
      copy_error("grpc transport: no service registry", error, error_size);
      return nullptr;
    }
    auto s = std::make_unique<LiteboxGrpcServer>();
    std::string message;
    if (adopted >= 0) {
      s->listen_fd = std::exchange(adopted, -1);
      if (!check_listener(s->listen_fd, message)) {
        copy_error("grpc transport: " + message, error, error_size);
        return nullptr;
      }
    } else {
      const std::string path = options->socket_path != nullptr ? options->socket_path : "";
      s->listen_fd = bind_socket(path, *s, message);
      if (s->listen_fd < 0) {
        copy_error("grpc transport: " + message, error, error_size);
        return nullptr;
      }
    }
    auto unbind = [&] {
      if (!s->bound_path.empty()) ::unlink(s->bound_path.c_str());
    };
    s->wake_fd = ::eventfd(0, EFD_CLOEXEC);
    if (s->wake_fd < 0) {
      unbind();
      copy_error("grpc transport: " + errno_message("eventfd", errno), error, error_size);
      return nullptr;
    }

    const std::uint32_t max_calls = options->max_concurrent_calls != 0 ? options->max_concurrent_calls : kDefaultMaxCalls;
    const std::uint32_t max_bytes = std::min<std::uint32_t>(
        options->max_message_bytes != 0 ? options->max_message_bytes : kDefaultMaxMessageBytes,
        static_cast<std::uint32_t>(std::numeric_limits<int>::max()));
    s->core.registry = options->registry;
    s->core.threads = std::make_shared<HandlerThreads>(max_calls);
    s->service = std::make_unique<GenericService>(s->core);

    grpc::ServerBuilder builder;
    builder.RegisterCallbackGenericService(s->service.get());
    builder.SetMaxReceiveMessageSize(static_cast<int>(max_bytes));
    builder.SetMaxSendMessageSize(static_cast<int>(max_bytes));
    s->server = builder.BuildAndStart();
    if (!s->server) {
      unbind();
      copy_error("grpc transport: the gRPC server did not start", error, error_size);
      return nullptr;
    }
    LiteboxGrpcServer* raw = s.get();
    try {
      s->acceptor = std::thread([raw] { raw->accept_loop(); });
    } catch (const std::exception& e) {
      s->shutdown(0, std::nullopt);  // stops gRPC, removes the socket
      copy_error(std::string("grpc transport: cannot start the acceptor thread: ") + e.what(), error, error_size);
      return nullptr;
    }
    return s.release();
  } catch (const std::exception& e) {
    if (adopted >= 0) ::close(adopted);
    copy_error(std::string("grpc transport: ") + e.what(), error, error_size);
  } catch (...) {
    if (adopted >= 0) ::close(adopted);
    copy_error("grpc transport: unexpected failure starting the server", error, error_size);
  }
  return nullptr;
}

void wait(LiteboxGrpcServer* s) noexcept {
  if (s == nullptr) return;
  std::unique_lock lock(s->mu);
  ++s->waiters;
  s->cv.wait(lock, [s] { return s->stopped; });
  --s->waiters;
  s->cv.notify_all();
}

std::uint32_t shutdown(LiteboxGrpcServer* s, std::int64_t grace_ms, std::int64_t drain_ms) noexcept {
  if (s == nullptr) return 0;
  try {
    // Beyond a day is no limit (and keeps the clock arithmetic from overflowing).
    constexpr std::int64_t kDay = 24LL * 3600 * 1000;
    return s->shutdown(grace_ms, drain_ms < 0 || drain_ms > kDay ? std::optional<std::int64_t>() : std::optional<std::int64_t>(drain_ms));
  } catch (const std::exception& e) {
    spdlog::error("grpc transport: shutdown: {}", e.what());
  } catch (...) {
    spdlog::error("grpc transport: shutdown failed");
  }
  return 0;
}

void destroy(LiteboxGrpcServer* s) noexcept {
  if (s == nullptr) return;
  try {
    s->shutdown(0, std::nullopt);
    {
      std::unique_lock lock(s->mu);
      s->cv.wait(lock, [s] { return s->waiters == 0; });
    }
    s->server.reset();  // after Shutdown; the service it refers to goes after it
    delete s;
  } catch (...) {
    spdlog::error("grpc transport: destroy failed; leaking the server");
  }
}

constexpr LiteboxGrpcTransportApi kApi{
    kLiteboxGrpcAbiVersion,
    sizeof(LiteboxGrpcTransportApi),
    sizeof(ServiceRegistry),
    sizeof(CallContext),
    sizeof(RpcStatus),
    GRPC_CPP_VERSION_STRING,
    &start,
    &wait,
    &shutdown,
    &destroy,
};

}  // namespace
}  // namespace litebox::shim::grpc_module

static_assert(std::string_view(kLiteboxGrpcEntryPoint) == "litebox_shim_grpc_transport_v1");

extern "C" __attribute__((visibility("default"))) const LiteboxGrpcTransportApi* litebox_shim_grpc_transport_v1() {
  return &litebox::shim::grpc_module::kApi;
}
