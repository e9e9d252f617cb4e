// The legacy event path on Linux: `containerd --address A publish --topic T --namespace NS` with the event
// (a google.protobuf.Any) on its stdin, spawned while the reaper's guard is held so the reaper cannot take
// its exit status.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include <spdlog/spdlog.h>

#include "task/event_forwarder.hpp"
#include "wire.pb.h"

extern char** environ;

namespace litebox::shim {

bool EventForwarder::deliver_binary(const Event& event) {
  if (config_.publish_binary.empty()) {
    spdlog::warn("event {}: neither TTRPC_ADDRESS nor -publish-binary given, dropped", event.topic);
    return true;
  }
  litebox::wire::Any any;
  any.set_type_url(event.type_url);
  any.set_value(event.value);
  std::string payload;
  any.SerializeToString(&payload);

  int in[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return false;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  std::vector<std::string> args = {config_.publish_binary, "--address", config_.containerd_address, "publish",
                                   "--topic", event.topic, "--namespace", config_.namespace_name};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  int status = 0;
  {
    std::shared_lock<std::shared_mutex> guard;
    if (config_.runtime_guard) guard = std::shared_lock(*config_.runtime_guard);
    const int spawned = ::posix_spawn(&pid, args[0].c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(in[0]);
    if (spawned != 0) {
      ::close(in[1]);
      return false;
    }
    std::size_t off = 0;
    while (off < payload.size()) {
      const ssize_t n = ::write(in[1], payload.data() + off, payload.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      off += static_cast<std::size_t>(n);
    }
    ::close(in[1]);
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace litebox::shim
