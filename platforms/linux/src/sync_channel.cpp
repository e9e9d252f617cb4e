#include "litebox/linux/sync_channel.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "litebox/linux/unix_socket.hpp"

namespace litebox::linux_host {
namespace {

// Packet layout: type (1 byte), value (8 bytes, host order), text (the rest).
constexpr std::size_t kHeader = 1 + sizeof(std::int64_t);
constexpr std::size_t kMaxPacket = 64 * 1024;

}  // namespace

Expected<std::pair<SyncChannel, SyncChannel>> SyncChannel::pair() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) return Error::from_errno("socketpair");
  return std::pair<SyncChannel, SyncChannel>{SyncChannel(fds[0]), SyncChannel(fds[1])};
}

void SyncChannel::reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Status SyncChannel::send(SyncType type, std::int64_t value, const std::string& text, int fd) {
  std::vector<char> packet(kHeader + std::min(text.size(), kMaxPacket - kHeader));
  packet[0] = static_cast<char>(type);
  std::memcpy(packet.data() + 1, &value, sizeof value);
  std::memcpy(packet.data() + kHeader, text.data(), packet.size() - kHeader);
  // One packet: SOCK_SEQPACKET keeps message boundaries, so the whole message goes in one write.
  if (const int error = send_with_descriptor(fd_, std::string_view(packet.data(), packet.size()), fd); error != 0) {
    return Error::from_errno("sync send", error);
  }
  return {};
}

Expected<SyncMessage> SyncChannel::receive() {
  std::vector<char> packet(kMaxPacket);
  SyncMessage out;
  const long n = receive_with_descriptor(fd_, packet.data(), packet.size(), out.fd);
  if (n < 0) return Error::from_errno("sync receive", static_cast<int>(-n));
  if (n == 0) return Error{EPIPE, "the container's init went away before finishing its set-up"};
  if (static_cast<std::size_t>(n) < kHeader) {
    if (out.fd >= 0) ::close(out.fd);
    return Error{EPROTO, "short sync message"};
  }
  out.type = static_cast<SyncType>(packet[0]);
  std::memcpy(&out.value, packet.data() + 1, sizeof out.value);
  out.text.assign(packet.data() + kHeader, static_cast<std::size_t>(n) - kHeader);
  return out;
}

Expected<SyncMessage> SyncChannel::expect(SyncType type) {
  auto msg = receive();
  if (!msg) return msg;
  if (msg.value().type == SyncType::error) {
    return Error{static_cast<int>(msg.value().value), msg.value().text};
  }
  if (msg.value().type != type) {
    if (msg.value().fd >= 0) ::close(msg.value().fd);
    return Error{EPROTO, "unexpected sync message " + std::to_string(static_cast<int>(msg.value().type)) +
                             " (wanted " + std::to_string(static_cast<int>(type)) + ")"};
  }
  return msg;
}

}  // namespace litebox::linux_host
