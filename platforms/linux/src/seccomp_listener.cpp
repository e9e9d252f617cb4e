#include "litebox/linux/seccomp_listener.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "child_safe_error.hpp"

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
  std::memcpy(address.sun_path, listener_path.data(), listener_path.size());
  int socket_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (socket_fd < 0) {
    return detail::child_error("socket for seccomp listenerPath", errno);
  }
  if (connect(socket_fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    int error = errno;
    close(socket_fd);
    return detail::child_error("connect to seccomp listenerPath " + listener_path, error);
  }

  // The fd rides on the first byte; a stream socket may take the rest in further writes.
  std::size_t sent = 0;
  while (sent < state_json.size()) {
    iovec chunk{const_cast<char*>(state_json.data() + sent), state_json.size() - sent};
    msghdr message{};
    message.msg_iov = &chunk;
    message.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    if (sent == 0) {
      message.msg_control = control;
      message.msg_controllen = sizeof(control);
      cmsghdr* header = CMSG_FIRSTHDR(&message);
      header->cmsg_level = SOL_SOCKET;
      header->cmsg_type = SCM_RIGHTS;
      header->cmsg_len = CMSG_LEN(sizeof(int));
      std::memcpy(CMSG_DATA(header), &listener_fd, sizeof(int));
    }
    ssize_t n = sendmsg(socket_fd, &message, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      int error = n < 0 ? errno : EIO;
      close(socket_fd);
      return detail::child_error("send the seccomp listener to " + listener_path, error);
    }
    sent += static_cast<std::size_t>(n);
  }
  close(socket_fd);
  return {};
}

}  // namespace litebox::linux_host
