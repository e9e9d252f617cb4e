#include "ttrpc/socket_io.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <climits>

namespace litebox::shim::ttrpc::detail {

int poll_timeout_ms(std::chrono::steady_clock::time_point deadline) {
  const auto left = deadline - std::chrono::steady_clock::now();
  if (left <= std::chrono::steady_clock::duration::zero()) return 0;
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
}

WriteResult write_all(int fd, std::string_view data, std::size_t& written,
                      std::optional<std::chrono::steady_clock::time_point> deadline) {
  written = 0;
  while (written < data.size()) {
    const int flags = MSG_NOSIGNAL | (deadline ? MSG_DONTWAIT : 0);
    const ssize_t n = ::send(fd, data.data() + written, data.size() - written, flags);
    if (n > 0) {
      written += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && deadline && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      const int timeout = poll_timeout_ms(*deadline);
      if (timeout == 0) return WriteResult::timed_out;
      pollfd p{fd, POLLOUT, 0};
      const int r = ::poll(&p, 1, timeout);
      if (r < 0 && errno != EINTR) return WriteResult::failed;
      continue;
    }
    return WriteResult::failed;
  }
  return WriteResult::ok;
}

}  // namespace litebox::shim::ttrpc::detail
