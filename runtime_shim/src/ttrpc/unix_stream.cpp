#include "ttrpc/unix_stream.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>
#include <new>

#include <spdlog/spdlog.h>

#include "ttrpc/peer_credentials.hpp"

namespace litebox::shim::ttrpc {

namespace {

using Clock = std::chrono::steady_clock;

// Milliseconds until `deadline` for poll(2), rounded up, at least 0.
int poll_timeout_ms(Clock::time_point deadline) {
  const auto left = deadline - Clock::now();
  if (left <= Clock::duration::zero()) return 0;
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
}

void set(std::string* out, std::string text) {
  if (out != nullptr) *out = std::move(text);
}

// An eventfd that becomes readable once raised: what wakes a thread blocked in poll on the socket.
class WakeEvent {
 public:
  WakeEvent() : fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}
  ~WakeEvent() {
    if (fd_ >= 0) ::close(fd_);
  }
  WakeEvent(const WakeEvent&) = delete;
  WakeEvent& operator=(const WakeEvent&) = delete;

  bool valid() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  void raise() {
    const std::uint64_t one = 1;
    if (::write(fd_, &one, sizeof(one)) != static_cast<ssize_t>(sizeof(one))) {
      spdlog::error("ttrpc: cannot wake a thread blocked on a socket: {}", std::strerror(errno));
    }
  }
  // Waits up to `ms` for the event: true when raised.
  bool wait(int ms) const {
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, ms) > 0;
  }

 private:
  const int fd_;
};

class UnixStream final : public Stream {
 public:
  explicit UnixStream(int fd) : fd_(fd) {}
  ~UnixStream() override { ::close(fd_); }
  UnixStream(const UnixStream&) = delete;
  UnixStream& operator=(const UnixStream&) = delete;

  bool valid() const { return stop_.valid(); }

  std::ptrdiff_t read_some(char* buf, std::size_t size, std::string& error) override {
    for (;;) {
      pollfd p[2] = {{fd_, POLLIN, 0}, {stop_.fd(), POLLIN, 0}};
      if (::poll(p, 2, -1) < 0) {
        if (errno == EINTR) continue;
        error = std::string("poll: ") + std::strerror(errno);
        return -1;
      }
      if (p[1].revents != 0) return 0;
      if ((p[0].revents & POLLNVAL) != 0) {
        error = "the socket is closed";
        return -1;
      }
      const ssize_t n = ::recv(fd_, buf, size, 0);
      if (n >= 0) return n;
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
      error = std::strerror(errno);
      return -1;
    }
  }

  WriteResult write_all(std::string_view data, std::size_t& written, std::optional<Clock::time_point> deadline,
                        std::string& error) override {
    written = 0;
    while (written < data.size()) {
      const int flags = MSG_NOSIGNAL | (deadline ? MSG_DONTWAIT : 0);
      const ssize_t n = ::send(fd_, data.data() + written, data.size() - written, flags);
      if (n > 0) {
        written += static_cast<std::size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && deadline && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        const int timeout = poll_timeout_ms(*deadline);
        if (timeout == 0) return WriteResult::timed_out;
        pollfd p{fd_, POLLOUT, 0};
        if (::poll(&p, 1, timeout) < 0 && errno != EINTR) break;
        continue;
      }
      break;
    }
    if (written == data.size()) return WriteResult::ok;
    error = std::strerror(errno);
    return WriteResult::failed;
  }

  void stop_reading() override {
    if (!stopped_.exchange(true)) stop_.raise();
  }

  void shut_down() override {
    stop_reading();
    ::shutdown(fd_, SHUT_RDWR);  // unblocks a send to a peer that does not read
  }

  std::optional<std::string> peer_refusal() const override {
    const auto cred = peer_credentials(fd_);
    const uid_t euid = ::geteuid();
    if (!cred) return std::string("without peer credentials: ") + std::strerror(errno);
    if (cred->uid == euid) return std::nullopt;
    return "from pid " + std::to_string(cred->pid) + " uid " + std::to_string(cred->uid) + ": only uid " +
           std::to_string(euid) + " may connect";
  }

 private:
  const int fd_;
  WakeEvent stop_;
  std::atomic<bool> stopped_{false};
};

class UnixListener final : public Listener {
 public:
  explicit UnixListener(int fd) : fd_(fd) {}
  ~UnixListener() override { ::close(fd_); }
  UnixListener(const UnixListener&) = delete;
  UnixListener& operator=(const UnixListener&) = delete;

  bool valid() const { return stop_.valid(); }

  std::unique_ptr<Stream> accept() override {
    int backoff_ms = 0;
    for (;;) {
      pollfd p[2] = {{fd_, POLLIN, 0}, {stop_.fd(), POLLIN, 0}};
      if (::poll(p, 2, -1) < 0) {
        if (errno == EINTR) continue;
        spdlog::error("ttrpc: poll on the listening socket: {}", std::strerror(errno));
        return nullptr;
      }
      if (p[1].revents != 0) return nullptr;
      if ((p[0].revents & POLLIN) == 0) {
        spdlog::error("ttrpc: the listening socket failed (revents {:#x})", static_cast<unsigned>(p[0].revents));
        return nullptr;
      }
      const int fd = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0) {
        std::string error;
        auto stream = unix_stream(fd, &error);
        if (stream) return stream;
        spdlog::error("ttrpc: cannot serve a connection: {}", error);
        continue;
      }
      const int err = errno;
      if (err == EINTR || err == EAGAIN || err == EWOULDBLOCK || err == ECONNABORTED || err == EPROTO) continue;
      if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
        backoff_ms = std::min(backoff_ms == 0 ? 1 : backoff_ms * 2, 1000);
        spdlog::error("ttrpc: failed accept: {}; backoff {} ms", std::strerror(err), backoff_ms);
        if (stop_.wait(backoff_ms)) return nullptr;
        continue;
      }
      spdlog::error("ttrpc: accept: {}", std::strerror(err));
      return nullptr;
    }
  }

  void stop() override {
    if (!stopped_.exchange(true)) stop_.raise();
  }

 private:
  const int fd_;
  WakeEvent stop_;
  std::atomic<bool> stopped_{false};
};

}  // namespace

std::unique_ptr<Stream> unix_stream(int fd, std::string* error) {
  auto stream = std::unique_ptr<UnixStream>(new (std::nothrow) UnixStream(fd));
  if (!stream) {
    ::close(fd);
    set(error, "out of memory");
    return nullptr;
  }
  if (!stream->valid()) {
    set(error, std::string("eventfd: ") + std::strerror(errno));
    return nullptr;
  }
  return stream;
}

std::unique_ptr<Listener> unix_listener(int listen_fd, std::string* error) {
  const int fl = ::fcntl(listen_fd, F_GETFL);
  if (fl < 0 || ::fcntl(listen_fd, F_SETFL, fl | O_NONBLOCK) < 0) {
    set(error, "cannot use listening fd " + std::to_string(listen_fd) + ": " + std::strerror(errno));
    ::close(listen_fd);
    return nullptr;
  }
  auto listener = std::unique_ptr<UnixListener>(new (std::nothrow) UnixListener(listen_fd));
  if (!listener) {
    ::close(listen_fd);
    set(error, "out of memory");
    return nullptr;
  }
  if (!listener->valid()) {
    set(error, std::string("eventfd: ") + std::strerror(errno));
    return nullptr;
  }
  return listener;
}

std::unique_ptr<Stream> connect_stream(std::string_view address, RpcStatus& error) {
  std::string_view path = address;
  if (path.substr(0, 7) == "unix://") path.remove_prefix(7);
  sockaddr_un addr{};
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    error = RpcStatus::error(StatusCode::invalid_argument,
                             "ttrpc: unusable socket address \"" + std::string(address) + "\"");
    return nullptr;
  }
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = RpcStatus::error(StatusCode::unavailable, std::string("ttrpc: socket: ") + std::strerror(errno));
    return nullptr;
  }
  int r = 0;
  do {
    r = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  } while (r != 0 && errno == EINTR);
  if (r != 0 && errno != EISCONN) {
    const int err = errno;
    ::close(fd);
    error = RpcStatus::error(StatusCode::unavailable, "ttrpc: dial unix " + std::string(path) + ": " + std::strerror(err));
    return nullptr;
  }
  std::string why;
  auto stream = unix_stream(fd, &why);
  if (!stream) error = RpcStatus::error(StatusCode::unavailable, "ttrpc: " + why);
  return stream;
}

}  // namespace litebox::shim::ttrpc
