#include "litebox/linux/seccomp_listener.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "child_safe_error.hpp"
#include "litebox/linux/unix_socket.hpp"

namespace litebox::linux_host {

Status send_seccomp_listener(const std::string& listener_path, std::string_view state_json, int listener_fd) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (listener_path.empty() || listener_path.size() >= sizeof(address.sun_path)) {
    return Error{EINVAL, "seccomp listenerPath \"" + listener_path + "\" is empty or longer than " +
                             std::to_string(sizeof(address.sun_path) - 1) + " bytes"};
  }
  if (state_json.empty()) {
    return Error{EINVAL, "send seccomp listener: empty state"};
  }
  const int socket_fd = connect_unix_socket(listener_path);
  if (socket_fd < 0) return detail::child_error("connect to seccomp listenerPath " + listener_path, -socket_fd);
  const int error = send_with_descriptor(socket_fd, state_json, listener_fd);
  close(socket_fd);
  if (error != 0) return detail::child_error("send the seccomp listener to " + listener_path, error);
  return {};
}

}  // namespace litebox::linux_host
