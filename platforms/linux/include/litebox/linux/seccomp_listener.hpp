// The spec's `linux.seccomp.listenerPath` protocol (runtime.md / config-linux.md, as runc implements it): the
// runtime connects to the unix socket at listenerPath and sends, in one message, the container process state
// as JSON ({"ociVersion", "fds": ["seccompFd"], "pid", "metadata", "state"}) with the listener fd attached
// through SCM_RIGHTS.
#pragma once

#include <string>
#include <string_view>

#include "litebox/linux/error.hpp"

namespace litebox::linux_host {

// Connects to `listener_path` (SOCK_STREAM), sends `state_json` with `listener_fd` attached, closes the
// connection. `listener_fd` stays open. No logging: usable in the parent or the child.
Status send_seccomp_listener(const std::string& listener_path, std::string_view state_json, int listener_fd);

}  // namespace litebox::linux_host
