// What a foreground `run` or `exec` does while its process runs: signals forwarded, terminal proxied, the
// exit status returned as a shell reports it. Also runc's console-socket and pid-file protocols.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>

#include "cli.hpp"
#include "litebox/linux/unix_socket.hpp"

namespace litebox::cli {
namespace {

// Copies what is readable on `from` to `to`; false at EOF or error.
bool pump(int from, int to) {
  char buf[16384];
  const ssize_t n = ::read(from, buf, sizeof buf);
  if (n <= 0) return false;
  for (ssize_t off = 0; off < n;) {
    const ssize_t w = ::write(to, buf + off, static_cast<std::size_t>(n - off));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    off += w;
  }
  return true;
}

}  // namespace

bool send_console(const std::string& path, int fd, std::string& error) {
  const int sock = linux_host::connect_unix_socket(path);
  if (sock < 0) {
    error = "connect to console socket " + path + ": " + std::strerror(-sock);
    return false;
  }
  // runc sends the terminal's name as the payload and the master as SCM_RIGHTS.
  const int failed = linux_host::send_with_descriptor(sock, "/dev/ptmx", fd);
  ::close(sock);
  if (failed != 0) error = "send console to " + path + ": " + std::strerror(failed);
  return failed == 0;
}

bool write_pid_file(const std::string& path, pid_t pid, std::string& error) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << pid;
    if (!out.flush()) {
      error = "write pid file " + tmp + ": " + std::strerror(errno);
      return false;
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    error = "rename pid file " + path + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

int wait_foreground(pid_t pid, int console_master) {
  sigset_t forwarded;
  sigfillset(&forwarded);
  for (int sig : {SIGKILL, SIGSTOP, SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTTIN, SIGTTOU, SIGTSTP}) {
    sigdelset(&forwarded, sig);
  }
  ::sigprocmask(SIG_BLOCK, &forwarded, nullptr);
  const int sfd = ::signalfd(-1, &forwarded, SFD_CLOEXEC);

  termios saved{};
  const bool raw_terminal = console_master >= 0 && ::isatty(STDIN_FILENO) && ::tcgetattr(STDIN_FILENO, &saved) == 0;
  if (raw_terminal) {
    termios raw = saved;
    ::cfmakeraw(&raw);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &raw);
  }
  bool stdin_open = console_master >= 0;
  bool master_open = console_master >= 0;
  int exit_code = -1;
  // The process may have exited before SIGCHLD was blocked: that signal is gone, so look once now.
  auto reap = [&] {
    int status = 0;
    // Everything: orphans reparented to us (we are a subreaper) too.
    for (pid_t done; (done = ::waitpid(-1, &status, WNOHANG)) > 0;) {
      if (done == pid) exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
  };
  reap();
  while (exit_code < 0) {
    pollfd fds[3] = {{sfd, POLLIN, 0}, {stdin_open ? STDIN_FILENO : -1, POLLIN, 0},
                     {master_open ? console_master : -1, POLLIN, 0}};
    if (::poll(fds, 3, -1) < 0 && errno != EINTR) break;
    if ((fds[1].revents & (POLLIN | POLLHUP)) != 0) stdin_open = pump(STDIN_FILENO, console_master);
    if ((fds[2].revents & (POLLIN | POLLHUP)) != 0) master_open = pump(console_master, STDOUT_FILENO);
    if ((fds[0].revents & POLLIN) != 0) {
      signalfd_siginfo info{};
      if (::read(sfd, &info, sizeof info) != sizeof info) continue;
      if (info.ssi_signo == SIGCHLD) {
        reap();
      } else if (info.ssi_signo == SIGWINCH && console_master >= 0) {
        winsize size{};
        if (::ioctl(STDIN_FILENO, TIOCGWINSZ, &size) == 0) ::ioctl(console_master, TIOCSWINSZ, &size);
      } else {
        ::kill(pid, static_cast<int>(info.ssi_signo));
      }
    }
  }
  // Drain what the terminal still holds.
  while (master_open) {
    pollfd p{console_master, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0 || !pump(console_master, STDOUT_FILENO)) break;
  }
  if (raw_terminal) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved);
  if (sfd >= 0) ::close(sfd);
  ::sigprocmask(SIG_UNBLOCK, &forwarded, nullptr);
  return exit_code < 0 ? 255 : exit_code;
}

}  // namespace litebox::cli
