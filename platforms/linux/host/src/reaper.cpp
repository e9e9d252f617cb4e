#include "litebox/linux/host/reaper.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>

namespace litebox::linux_host {
namespace {

// The write end of the self-pipe the SIGCHLD handler pokes; one per process.
int g_sigchld_pipe[2] = {-1, -1};

void on_sigchld(int) {
  const int saved = errno;
  const char byte = 0;
  [[maybe_unused]] const ssize_t n = ::write(g_sigchld_pipe[1], &byte, 1);  // EAGAIN: a wake-up is pending
  errno = saved;
}

}  // namespace

Reaper::~Reaper() { stop(); }

bool Reaper::start(ExitCallback on_exit) {
  on_exit_ = std::move(on_exit);
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) return false;
  if (g_sigchld_pipe[0] < 0 && ::pipe2(g_sigchld_pipe, O_CLOEXEC | O_NONBLOCK) != 0) return false;
  stop_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stop_fd_ < 0) return false;
  struct sigaction action {};
  action.sa_handler = on_sigchld;
  action.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  sigemptyset(&action.sa_mask);
  if (::sigaction(SIGCHLD, &action, nullptr) != 0) return false;
  thread_ = std::thread([this] { run(); });
  return true;
}

void Reaper::stop() {
  if (!thread_.joinable()) return;
  const std::uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = ::write(stop_fd_, &one, sizeof one);
  thread_.join();
  ::close(stop_fd_);
  stop_fd_ = -1;
}

void Reaper::run() {
  // Children may have exited before the handler was installed.
  reap_all();
  for (;;) {
    pollfd fds[2] = {{g_sigchld_pipe[0], POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents != 0) return;
    char drain[64];
    while (::read(g_sigchld_pipe[0], drain, sizeof drain) > 0) {
    }
    reap_all();
  }
}

void Reaper::reap_all() {
  std::unique_lock lock(guard_);
  for (;;) {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) {
      if (pid < 0 && errno == EINTR) continue;
      return;
    }
    if (on_exit_) on_exit_(pid, status);
  }
}

}  // namespace litebox::linux_host
