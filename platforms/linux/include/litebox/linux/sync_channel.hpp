// The runtime <-> init conversation during create and exec: small typed messages over a SOCK_SEQPACKET
// socketpair, one message per packet, optionally carrying a descriptor (SCM_RIGHTS). The child's side runs
// after fork: no logging, and errors come back as values.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "litebox/linux/error.hpp"

namespace litebox::linux_host {

enum class SyncType : std::uint8_t {
  need_id_maps = 1,  // child -> runtime: write my uid_map/gid_map
  id_maps_done,      // runtime -> child
  init_pid,          // child -> runtime: the pid of the process that will exec (value)
  go,                // runtime -> child: cgroup joined; value = that pid in the runtime's namespace
  console,           // child -> runtime: the terminal's master (fd)
  run_hooks,         // child -> runtime: mounts done, root not yet changed: run prestart/createRuntime
  hooks_done,        // runtime -> child
  ready,             // child -> runtime: set up; parked (create) or about to exec (exec)
  error,             // child -> runtime: value = errno, text = message
};

struct SyncMessage {
  SyncType type = SyncType::error;
  std::int64_t value = 0;
  std::string text;
  int fd = -1;  // received descriptor, owned by the receiver
};

class SyncChannel {
 public:
  SyncChannel() = default;
  explicit SyncChannel(int fd) : fd_(fd) {}
  SyncChannel(SyncChannel&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  SyncChannel& operator=(SyncChannel&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  ~SyncChannel() { reset(); }

  // Both ends, close-on-exec.
  static Expected<std::pair<SyncChannel, SyncChannel>> pair();

  int fd() const { return fd_; }
  int* fd_ptr() { return &fd_; }
  void reset();

  Status send(SyncType type, std::int64_t value = 0, const std::string& text = {}, int fd = -1);
  // Waits for the next message; an error when the peer closed (EPIPE) or sent garbage.
  Expected<SyncMessage> receive();
  // Waits for `type`; an `error` message from the peer becomes an Error with its text.
  Expected<SyncMessage> expect(SyncType type);

 private:
  int fd_ = -1;
};

}  // namespace litebox::linux_host
