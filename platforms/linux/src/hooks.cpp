#include "litebox/linux/hooks.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>

namespace litebox::linux_host {
namespace {

std::vector<char*> c_strings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (const auto& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

Status run_hook(const oci::Hook& hook, const std::string& state_json, const std::string& name) {
  int in[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return Error::from_errno(name + ": pipe");
  const std::vector<std::string> args = hook.args.empty() ? std::vector<std::string>{hook.path} : hook.args;
  auto argv = c_strings(args);
  auto envp = c_strings(hook.env);
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(in[0]);
    ::close(in[1]);
    return Error::from_errno(name + ": fork");
  }
  if (pid == 0) {
    ::dup2(in[0], STDIN_FILENO);
    ::execve(hook.path.c_str(), argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(in[0]);
  // The hook may not read its stdin at all: a closed pipe is not our failure.
  const auto old_sigpipe = std::signal(SIGPIPE, SIG_IGN);
  for (std::size_t off = 0; off < state_json.size();) {
    const ssize_t n = ::write(in[1], state_json.data() + off, state_json.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    off += static_cast<std::size_t>(n);
  }
  std::signal(SIGPIPE, old_sigpipe);
  ::close(in[1]);

  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (hook.timeout && pidfd >= 0) {
    pollfd p{pidfd, POLLIN, 0};
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(*hook.timeout);
    int rc = 0;
    do {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      rc = ::poll(&p, 1, static_cast<int>(std::max<std::chrono::milliseconds::rep>(left.count(), 0)));
    } while (rc < 0 && errno == EINTR);
    if (rc == 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      ::close(pidfd);
      return Error{ETIMEDOUT, name + " timed out after " + std::to_string(*hook.timeout) + "s"};
    }
  }
  if (pidfd >= 0) ::close(pidfd);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return Error::from_errno(name + ": wait");
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
    return Error{ENOENT, name + ": cannot run (not found or not executable), or it exited with status 127"};
  }
  if (WIFSIGNALED(status)) return Error{ECANCELED, name + " was killed by signal " + std::to_string(WTERMSIG(status))};
  return Error{ECANCELED, name + " exited with status " + std::to_string(WEXITSTATUS(status))};
}

}  // namespace

Status run_hooks(const std::vector<oci::Hook>& hooks, const std::string& state_json, std::string_view stage) {
  for (std::size_t i = 0; i < hooks.size(); ++i) {
    const std::string name = std::string(stage) + " hook #" + std::to_string(i) + " (" + hooks[i].path + ")";
    if (auto st = run_hook(hooks[i], state_json, name); !st) return st;
  }
  return {};
}

}  // namespace litebox::linux_host
