// The legacy event path on Linux: `containerd --address A publish --topic T --namespace NS` with the event
// (a google.protobuf.Any) on its stdin, spawned while the reaper's guard is held so the reaper cannot take
// its exit status.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "task/publish_binary.hpp"

extern char** environ;

namespace litebox::shim {

bool run_publish_binary(std::vector<std::string> args, const std::string& payload, std::shared_mutex* guard_mutex) {
  int in[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return false;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  int status = 0;
  {
    std::shared_lock<std::shared_mutex> guard;
    if (guard_mutex != nullptr) guard = std::shared_lock(*guard_mutex);
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
