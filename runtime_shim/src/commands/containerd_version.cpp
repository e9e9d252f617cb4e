#include "commands/containerd_version.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <string_view>

namespace litebox::shim {
namespace {

constexpr std::size_t kMaxOutput = 4096;
constexpr auto kDeadline = std::chrono::seconds(5);

// Its stdout (stderr to /dev/null: containerd reads `start`'s stdout and stderr as one stream), or "".
std::string version_output(const std::string& path) {
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return {};
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(out[0]);
    ::close(out[1]);
    return {};
  }
  if (pid == 0) {
    const int devnull = ::open("/dev/null", O_RDWR);
    if (devnull >= 0) {
      ::dup2(devnull, 0);
      ::dup2(devnull, 2);
    }
    ::dup2(out[1], 1);
    char* const argv[] = {const_cast<char*>(path.c_str()), const_cast<char*>("--version"), nullptr};
    ::execv(path.c_str(), argv);
    ::_exit(127);
  }
  ::close(out[1]);
  std::string text;
  const auto end = std::chrono::steady_clock::now() + kDeadline;
  char buffer[512];
  while (text.size() < kMaxOutput) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{out[0], POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) break;
    const ssize_t n = ::read(out[0], buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(out[0]);
  ::kill(pid, SIGKILL);  // finished already, or past the deadline
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  return text;
}

}  // namespace

int containerd_major_version(const std::string& path) {
  if (path.empty()) return 0;
  // "containerd github.com/containerd/containerd/v2 v2.4.2 <rev>" or "containerd github.com/containerd/containerd 1.7.35 ..."
  const std::string text = version_output(path);
  const std::string_view module = "github.com/containerd/containerd";
  const auto at = text.find(module);
  if (at == std::string::npos) return 0;
  const std::string_view rest = std::string_view(text).substr(at + module.size());
  if (rest.substr(0, 3) == "/v2") return 2;
  if (rest.substr(0, 1) == " ") return 1;
  return 0;
}

}  // namespace litebox::shim
