// The shim's socket: /run/containerd/s/<hash of containerd's address, the namespace and the group>, a
// filesystem socket (not an abstract one: CVE-2020-15257) of mode 0600, and the `address` file in the bundle
// that tells containerd (and a restarted containerd) where to dial.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "litebox/linux/error.hpp"

namespace litebox::shim {

inline constexpr const char* kSocketDirectory = "/run/containerd/s";

// The socket path for one shim: the same inputs give the same path, so the containers of one group (a pod)
// find the shim already serving it. `directory`: where containerd asks for it (BootstrapParams.socket_dir).
std::string shim_socket_path(std::string_view containerd_address, std::string_view ns, std::string_view group,
                             std::string_view directory = kSocketDirectory);

// "unix:///run/containerd/s/..."
std::string socket_address(const std::string& path);
// The path in "unix:///path", a bare path, or a gRPC shim's JSON answer (its "address").
std::string socket_path_of(std::string_view address);

// Binds and listens on `path` (mode 0600; the directory is made 0711). The descriptor is close-on-exec.
linux_host::Expected<int> listen_on(const std::string& path);
// True when a server accepts connections on `path`.
bool socket_is_served(const std::string& path);

// Writes `address` to <bundle>/address atomically, without a newline (containerd reads it as is).
linux_host::Status write_address_file(const std::filesystem::path& bundle, const std::string& address);

}  // namespace litebox::shim
