// Unix-socket helpers shared by the runtime's protocols that pass descriptors: the init's sync channel,
// seccomp's listenerPath, runc's console socket. No logging and no locks: usable in a child after fork.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace litebox::linux_host {

// A SOCK_STREAM unix socket (close-on-exec) connected to `path`; -errno on failure.
int connect_unix_socket(const std::string& path);

// Sends `data` with `fd` attached (SCM_RIGHTS; none when fd < 0). On a stream socket the data may go in
// several writes: the descriptor rides on the first. Returns 0, or the errno that stopped it.
int send_with_descriptor(int socket, std::string_view data, int fd);

// Receives one message into `buffer` (at most `capacity` bytes), with a descriptor attached or not: `fd`
// gets it (close-on-exec) or -1; extra descriptors are closed. Returns the byte count (0 at EOF) or -errno.
long receive_with_descriptor(int socket, char* buffer, std::size_t capacity, int& fd);

}  // namespace litebox::linux_host
