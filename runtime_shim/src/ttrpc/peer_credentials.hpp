// SO_PEERCRED of a connected unix socket: containerd and runc's shim accept a connection only from their own
// effective uid (the credentials are those in effect when the peer called connect(2) or socketpair(2)).
#pragma once

#include <sys/types.h>

#include <optional>

namespace litebox::shim::ttrpc {

struct PeerCredentials {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};

// nullopt when `fd` is not a unix socket or the kernel does not say.
std::optional<PeerCredentials> peer_credentials(int fd);

}  // namespace litebox::shim::ttrpc
