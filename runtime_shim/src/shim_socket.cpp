#include "shim_socket.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include <boost/json.hpp>

#include "litebox/linux/unix_socket.hpp"

namespace litebox::shim {
namespace {

// FNV-1a: stable across builds and machines, which is all the name needs (containerd never recomputes it:
// it reads the address file).
std::uint64_t fnv1a(std::string_view text, std::uint64_t hash) {
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

bool make_sockaddr(const std::string& path, sockaddr_un& addr) {
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) return false;
  std::memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  return true;
}

}  // namespace

std::string shim_socket_path(std::string_view containerd_address, std::string_view ns, std::string_view group,
                             std::string_view directory) {
  std::string key(containerd_address);
  key += '/';
  key += ns;
  key += '/';
  key += group;
  char hex[33];
  std::snprintf(hex, sizeof hex, "%016llx%016llx", static_cast<unsigned long long>(fnv1a(key, 0xcbf29ce484222325ULL)),
                static_cast<unsigned long long>(fnv1a(key, 0x84222325cbf29ce4ULL)));
  return std::string(directory) + "/" + hex;
}

std::string socket_address(const std::string& path) { return "unix://" + path; }

std::string socket_path_of(std::string_view address) {
  if (!address.empty() && address.front() == '{') {
    // The JSON answer of a gRPC shim: its "address" member (a bare path).
    boost::system::error_code ec;
    const boost::json::value doc = boost::json::parse(address, ec);
    const auto* object = ec ? nullptr : doc.if_object();
    const auto* member = object != nullptr ? object->if_contains("address") : nullptr;
    if (member == nullptr || !member->is_string()) return {};
    return socket_path_of(std::string_view(member->as_string()));
  }
  constexpr std::string_view prefix = "unix://";
  if (address.substr(0, prefix.size()) == prefix) address.remove_prefix(prefix.size());
  return std::string(address);
}

linux_host::Expected<int> listen_on(const std::string& path) {
  sockaddr_un addr{};
  if (!make_sockaddr(path, addr)) {
    return linux_host::Error{ENAMETOOLONG, "socket path " + path + ": longer than " +
                                               std::to_string(sizeof(addr.sun_path) - 1) + " bytes"};
  }
  const auto dir = std::filesystem::path(path).parent_path();
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return linux_host::Error{ec.value(), "create " + dir.string() + ": " + ec.message()};
  ::chmod(dir.c_str(), 0711);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return linux_host::Error::from_errno("socket");
  // Mode 0600 from the start: no window in which another user could connect.
  const mode_t old_mask = ::umask(0177);
  const int bound = ::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  const int bind_errno = errno;
  ::umask(old_mask);
  if (bound != 0) {
    ::close(fd);
    return linux_host::Error::from_errno("bind " + path, bind_errno);
  }
  if (::listen(fd, 128) != 0) {
    auto error = linux_host::Error::from_errno("listen " + path);
    ::close(fd);
    ::unlink(path.c_str());
    return error;
  }
  return fd;
}

bool socket_is_served(const std::string& path) {
  const int fd = linux_host::connect_unix_socket(path);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

linux_host::Status write_address_file(const std::filesystem::path& bundle, const std::string& address) {
  const auto tmp = bundle / ".address.tmp";
  const auto final_path = bundle / "address";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return linux_host::Error::from_errno("create " + tmp.string());
  const ssize_t n = ::write(fd, address.data(), address.size());
  const bool ok = n == static_cast<ssize_t>(address.size());
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), final_path.c_str()) != 0) {
    auto error = linux_host::Error::from_errno("write " + final_path.string());
    ::unlink(tmp.c_str());
    return error;
  }
  return {};
}

}  // namespace litebox::shim
