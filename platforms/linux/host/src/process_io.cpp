#include "litebox/linux/host/process_io.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>

#include <spdlog/spdlog.h>

#include "litebox/linux/owned_fd.hpp"

namespace litebox::linux_host {

using linux_host::Error;
using linux_host::Expected;
using linux_host::OwnedFd;
using linux_host::ProcessStdio;
using linux_host::Status;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t kCopyBuffer = 64 * 1024;

// ---- URIs ----------------------------------------------------------------------------------------------

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Expected<std::string> unescape(std::string_view s, bool plus_is_space, std::string_view uri) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      const int hi = i + 2 < s.size() ? hex_value(s[i + 1]) : -1;
      const int lo = i + 2 < s.size() ? hex_value(s[i + 2]) : -1;
      if (hi < 0 || lo < 0) return Error{EINVAL, "stdio URI " + std::string(uri) + ": invalid percent-escape"};
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (plus_is_space && s[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

bool valid_scheme(std::string_view s) {
  if (s.empty() || !std::isalpha(static_cast<unsigned char>(s[0]))) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
  });
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// ---- descriptors ---------------------------------------------------------------------------------------

Status set_nonblocking(int fd, bool on) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0) return Error::from_errno("fcntl F_GETFL");
  const int wanted = on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
  if (wanted != flags && ::fcntl(fd, F_SETFL, wanted) < 0) return Error::from_errno("fcntl F_SETFL");
  return {};
}

Expected<OwnedFd> reopen(const OwnedFd& fd, int flags, const std::string& what) {
  OwnedFd out(::open(fd.proc_path().c_str(), flags | O_CLOEXEC | O_NOCTTY));
  if (!out.valid()) return Error::from_errno(what);
  return out;
}

Expected<std::pair<OwnedFd, OwnedFd>> make_pipe(const std::string& what) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) < 0) return Error::from_errno(what);
  return std::pair{OwnedFd(fds[0]), OwnedFd(fds[1])};
}

// A descriptor numbered at least `minimum` (the logging binary's sources must not collide with 0-5).
Status raise_fd(OwnedFd& fd, int minimum) {
  if (fd.get() >= minimum) return {};
  const int moved = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, minimum);
  if (moved < 0) return Error::from_errno("fcntl F_DUPFD_CLOEXEC");
  fd.reset(moved);
  return {};
}

// glibc 2.36's <sys/pidfd.h> lacks extern "C"; the system calls directly.
int open_pidfd(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }
void signal_pidfd(int pidfd, int sig) {
  if (::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0) < 0 && errno != ESRCH)
    spdlog::debug("stdio: pidfd_send_signal: {}", std::strerror(errno));
}

// Waits for a pidfd's process to exit; true when it did before `deadline`.
bool wait_exit(int pidfd, Clock::time_point deadline) {
  for (;;) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
    pollfd p{pidfd, POLLIN, 0};
    const int n = ::poll(&p, 1, static_cast<int>(std::max<long long>(0, std::min<long long>(left, 60000))));
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) return false;
    if (n == 0 && left <= 0) return false;
  }
}

void reap(int pidfd) {
  siginfo_t info{};
  // ECHILD: the shim's own reaper (waitpid(-1)) got it first; fine.
  while (::waitid(P_PIDFD, static_cast<id_t>(pidfd), &info, WEXITED | WNOHANG) < 0 && errno == EINTR) {
  }
}

}  // namespace

Expected<StdioUri> parse_stdio_uri(std::string_view uri) {
  StdioUri out;
  if (uri.empty()) return out;
  const auto sep = uri.find("://");
  if (uri.front() == '/' || sep == std::string_view::npos || !valid_scheme(uri.substr(0, sep))) {
    out.kind = StdioUri::Kind::path;
    out.path = std::string(uri);
    return out;
  }
  const std::string scheme = lower(uri.substr(0, sep));
  std::string_view rest = uri.substr(sep + 3);
  if (const auto hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);
  std::string_view query;
  if (const auto q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  // The authority (host) is ignored, as containerd uses only the URL's path.
  const auto slash = rest.find('/');
  rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
  auto path = unescape(rest, false, uri);
  if (!path) return std::move(path).error();
  out.path = std::move(path).value();

  if (scheme == "fifo") {
    out.kind = StdioUri::Kind::path;
  } else if (scheme == "file" || scheme == "binary") {
    out.kind = scheme == "file" ? StdioUri::Kind::file : StdioUri::Kind::binary;
  } else {
    return Error{EINVAL, "stdio URI " + std::string(uri) + ": unknown scheme " + scheme};
  }
  if (out.path.empty() || out.path.front() != '/')
    return Error{EINVAL, "stdio URI " + std::string(uri) + ": needs an absolute path (" + scheme + ":///abs/path)"};
  if (out.kind == StdioUri::Kind::binary) {
    std::vector<std::string> seen;
    while (!query.empty()) {
      const auto amp = query.find('&');
      const std::string_view item = query.substr(0, amp);
      query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
      if (item.empty()) continue;
      const auto eq = item.find('=');
      auto key = unescape(item.substr(0, eq), true, uri);
      if (!key) return std::move(key).error();
      auto value = unescape(eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1), true, uri);
      if (!value) return std::move(value).error();
      if (std::find(seen.begin(), seen.end(), key.value()) != seen.end()) continue;  // first value per key
      seen.push_back(key.value());
      out.args.push_back(std::move(key).value());
      out.args.push_back(std::move(value).value());
    }
  }
  return out;
}

// ---- the copier ----------------------------------------------------------------------------------------

namespace {

// One direction of copying: src -> buffer -> dst, all nonblocking, driven by the I/O thread.
struct Pump {
  enum class Kind { stdin_pipe, stdin_tty, output };
  Kind kind = Kind::output;
  int src = -1;
  int dst = -1;          // -1: discard what is read
  OwnedFd owned_src;     // closed when the pump ends (the stdin FIFO)
  OwnedFd owned_dst;     // closed when the pump ends (the stdin pipe's write end: the process's EOF)
  std::unique_ptr<char[]> buffer = std::make_unique<char[]>(kCopyBuffer);
  std::size_t off = 0;
  std::size_t len = 0;
  bool src_eof = false;
  bool draining = false;  // close_stdin: read until the source is empty, then end
  bool active = true;
  const char* name = "";

  void end() {
    active = false;
    owned_src.reset();
    owned_dst.reset();
  }

  // The source is exhausted and everything was written.
  void complete() {
    if (kind == Kind::stdin_tty) {
      termios t{};
      if (::tcgetattr(dst, &t) == 0 && (t.c_lflag & ICANON) != 0 && t.c_cc[VEOF] != _POSIX_VDISABLE) {
        const char eof = static_cast<char>(t.c_cc[VEOF]);
        if (::write(dst, &eof, 1) < 0) spdlog::debug("stdio: {}: writing VEOF: {}", name, std::strerror(errno));
      }
    }
    spdlog::debug("stdio: {}: done", name);
    end();
  }

  void dst_failed(int code) {
    spdlog::debug("stdio: {}: write: {}", name, std::strerror(code));
    if (kind == Kind::output) {
      dst = -1;  // keep reading so the process does not block on a full terminal; drop the output
      len = 0;
    } else {
      end();
    }
  }

  // Moves data until the source or the destination would block (bounded, so pumps take turns).
  void step() {
    for (int round = 0; round < 64 && active; ++round) {
      if (len == 0) {
        if (src_eof) {
          complete();
          return;
        }
        const ssize_t n = ::read(src, buffer.get(), kCopyBuffer);
        if (n > 0) {
          off = 0;
          len = static_cast<std::size_t>(n);
        } else if (n == 0) {
          src_eof = true;
          continue;
        } else if (errno == EINTR) {
          continue;
        } else if (errno == EAGAIN) {
          if (!draining) return;
          src_eof = true;
          continue;
        } else {
          // EIO from a pty master: every holder of the slave is gone.
          if (errno != EIO) spdlog::debug("stdio: {}: read: {}", name, std::strerror(errno));
          src_eof = true;
          continue;
        }
      }
      if (dst < 0) {
        len = 0;
        continue;
      }
      const ssize_t w = ::write(dst, buffer.get() + off, len);
      if (w > 0) {
        off += static_cast<std::size_t>(w);
        len -= static_cast<std::size_t>(w);
      } else if (w < 0 && errno == EAGAIN) {
        return;
      } else if (!(w < 0 && errno == EINTR)) {
        dst_failed(w < 0 ? errno : EIO);
      }
    }
  }
};

}  // namespace

// ---- ProcessIo -----------------------------------------------------------------------------------------

struct ProcessIo::Impl {
  bool terminal = false;
  ProcessIoOptions options;
  OwnedFd dev_null;

  // stdin
  OwnedFd stdin_src;     // the shim's end of the stdin FIFO (O_RDWR|O_NONBLOCK), or a regular file (terminal)
  OwnedFd stdin_child;   // what the process reads: the pipe's read end, or a regular file
  OwnedFd stdin_pipe_w;  // the pipe's write end (copier)
  // The stdin FIFO once the process exited, kept until this object goes (the exec's Delete), as runc's shim
  // keeps it: a client still writing (a terminal's keystrokes) gets no EPIPE, which CRI answers by closing
  // its stdout reader before it has read the process's last output.
  OwnedFd stdin_after_exit;  // guarded by mu

  // stdout / stderr
  OwnedFd out_shim, err_shim;    // FIFO readers kept until finish; with a terminal where master output goes
  OwnedFd out_child, err_child;  // what the process writes to (until attach)
  bool err_is_out = false;       // one descriptor for both (same FIFO, file:// or one file)

  // logging binary
  pid_t logger_pid = 0;
  OwnedFd logger_pidfd;
  std::string logger_path;

  OwnedFd wake;  // eventfd: control changes for the thread
  std::thread thread;

  mutable std::mutex mu;
  OwnedFd master;  // guarded by mu
  bool attached = false;
  bool close_stdin_requested = false;
  bool finishing = false;
  bool finished = false;
  Clock::time_point deadline{};

  void notify() const {  // with mu held (finish closes `wake`)
    const std::uint64_t one = 1;
    if (wake.valid() && ::write(wake.get(), &one, sizeof one) < 0 && errno != EAGAIN)
      spdlog::debug("stdio: eventfd write: {}", std::strerror(errno));
  }

  Status start_thread(std::vector<Pump> pumps) {
    wake.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!wake.valid()) return Error::from_errno("stdio: eventfd");
    // The copier takes no signals: SIGPIPE on a write to a pipe without reader becomes EPIPE, and a shim
    // that takes SIGCHLD through a signalfd keeps it blocked in every thread.
    sigset_t all, old;
    ::sigfillset(&all);
    ::pthread_sigmask(SIG_SETMASK, &all, &old);
    try {
      thread = std::thread([this, p = std::move(pumps)]() mutable { run(std::move(p)); });
    } catch (const std::system_error& e) {
      ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
      return Error{e.code().value(), std::string("stdio: start copy thread: ") + e.what()};
    }
    ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
    return {};
  }

  void run(std::vector<Pump> pumps) {
    std::vector<pollfd> fds;
    std::vector<int> stdin_reader_gone_slot(pumps.size(), -1);
    for (;;) {
      bool is_finishing = false;
      bool close_req = false;
      Clock::time_point until{};
      {
        std::lock_guard lock(mu);
        is_finishing = finishing;
        close_req = close_stdin_requested;
        until = deadline;
      }
      for (auto& p : pumps) {
        if (!p.active) continue;
        if (p.kind != Pump::Kind::output) {
          if (is_finishing) {  // the process is gone: nobody to deliver input to
            spdlog::debug("stdio: {}: process exited, {} byte(s) undelivered", p.name, p.len);
            std::lock_guard lock(mu);
            stdin_after_exit = std::move(p.owned_src);
            p.end();
            continue;
          }
          if (close_req) p.draining = true;
        }
        p.step();
      }
      const bool outputs_done = std::none_of(pumps.begin(), pumps.end(), [](const Pump& p) {
        return p.active && p.kind == Pump::Kind::output;
      });
      if (std::none_of(pumps.begin(), pumps.end(), [](const Pump& p) { return p.active; })) break;  // all done
      int timeout = -1;
      if (is_finishing) {
        if (outputs_done) break;
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(until - Clock::now()).count();
        if (left <= 0) {
          spdlog::debug("stdio: drain limit reached with terminal output still pending");
          break;
        }
        timeout = static_cast<int>(std::min<long long>(left, 60000));
      }

      fds.clear();
      fds.push_back({wake.get(), POLLIN, 0});
      for (std::size_t i = 0; i < pumps.size(); ++i) {
        Pump& p = pumps[i];
        stdin_reader_gone_slot[i] = -1;
        if (!p.active) continue;
        if (p.len == 0 && !p.src_eof) fds.push_back({p.src, POLLIN, 0});
        if (p.len > 0 && p.dst >= 0) fds.push_back({p.dst, POLLOUT, 0});
        if (p.kind == Pump::Kind::stdin_pipe && p.len == 0) {  // POLLERR: the process closed its stdin
          stdin_reader_gone_slot[i] = static_cast<int>(fds.size());
          fds.push_back({p.dst, 0, 0});
        }
      }
      const int n = ::poll(fds.data(), fds.size(), timeout);
      if (n < 0) {
        if (errno == EINTR) continue;
        spdlog::warn("stdio: poll: {}", std::strerror(errno));
        break;
      }
      if ((fds[0].revents & POLLIN) != 0) {
        std::uint64_t value = 0;
        if (::read(wake.get(), &value, sizeof value) < 0 && errno != EAGAIN)
          spdlog::debug("stdio: eventfd read: {}", std::strerror(errno));
      }
      for (std::size_t i = 0; i < pumps.size(); ++i) {
        const int slot = stdin_reader_gone_slot[i];
        if (slot >= 0 && pumps[i].active && (fds[static_cast<std::size_t>(slot)].revents & POLLERR) != 0) {
          spdlog::debug("stdio: {}: the process closed its stdin", pumps[i].name);
          pumps[i].end();
        }
      }
    }
    // Pumps (and the stdin FIFO and pipe they own) close here.
  }

  Status open_stdin(const std::string& path) {
    stdin_src.reset(::open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
    if (!stdin_src.valid()) {
      // A regular file the caller may only read.
      stdin_src.reset(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
      if (!stdin_src.valid()) return Error::from_errno("open stdin fifo " + path);
    }
    struct stat st{};
    if (::fstat(stdin_src.get(), &st) < 0) return Error::from_errno("stat stdin " + path);
    if (!S_ISFIFO(st.st_mode)) {
      auto file = reopen(stdin_src, O_RDONLY, "open stdin " + path);
      if (!file) return std::move(file).error();
      if (terminal) {
        stdin_src = std::move(file).value();  // copied to the master, then VEOF
      } else {
        stdin_child = std::move(file).value();
        stdin_src.reset();
      }
      return {};
    }
    if (terminal) return {};
    auto pipe = make_pipe("stdin pipe");
    if (!pipe) return std::move(pipe).error();
    stdin_child = std::move(pipe.value().first);
    stdin_pipe_w = std::move(pipe.value().second);
    return set_nonblocking(stdin_pipe_w.get(), true);
  }

  // A FIFO (or a file) named by a plain path.
  Status open_output_path(const std::string& path, const char* stream, OwnedFd& shim_fd, OwnedFd& child_fd) {
    OwnedFd fd(::open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
    if (!fd.valid()) return Error::from_errno(std::string("open ") + stream + " fifo " + path);
    struct stat st{};
    if (::fstat(fd.get(), &st) < 0) return Error::from_errno(std::string("stat ") + stream + " " + path);
    if (S_ISFIFO(st.st_mode)) {
      if (!terminal) {
        // The process's own, blocking descriptor of the FIFO; opening it cannot block: we are a reader.
        auto w = reopen(fd, O_WRONLY, std::string("open ") + stream + " fifo " + path + " for writing");
        if (!w) return std::move(w).error();
        child_fd = std::move(w).value();
      }
      shim_fd = std::move(fd);
      return {};
    }
    auto file = reopen(fd, O_WRONLY | O_APPEND, std::string("open ") + stream + " " + path);
    if (!file) return std::move(file).error();
    (terminal ? shim_fd : child_fd) = std::move(file).value();
    return {};
  }

  static bool same_file(const OwnedFd& a, const OwnedFd& b) {
    struct stat sa{}, sb{};
    return a.valid() && b.valid() && ::fstat(a.get(), &sa) == 0 && ::fstat(b.get(), &sb) == 0 &&
           sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
  }

  Status open_file_uri(const std::string& path) {
    std::error_code ec;
    const auto parent = std::filesystem::path(path).parent_path();
    std::filesystem::create_directories(parent, ec);
    if (ec) return Error{ec.value(), "create log directory " + parent.string() + ": " + ec.message()};
    OwnedFd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644));
    if (!fd.valid()) return Error::from_errno("open log file " + path);
    (terminal ? out_shim : out_child) = std::move(fd);
    err_is_out = true;
    return {};
  }

  Status start_logger(const StdioUri& uri, std::string_view container_id, std::string_view ns) {
    logger_path = uri.path;
    auto out = make_pipe("stdout pipe for logging binary");
    if (!out) return std::move(out).error();
    auto err = make_pipe("stderr pipe for logging binary");
    if (!err) return std::move(err).error();
    auto ready = make_pipe("ready pipe for logging binary");
    if (!ready) return std::move(ready).error();
    OwnedFd out_r = std::move(out.value().first), err_r = std::move(err.value().first);
    OwnedFd ready_r = std::move(ready.value().first), ready_w = std::move(ready.value().second);
    OwnedFd null_fd(::fcntl(dev_null.get(), F_DUPFD_CLOEXEC, 6));
    if (!null_fd.valid()) return Error::from_errno("fcntl F_DUPFD_CLOEXEC");
    for (OwnedFd* fd : {&out_r, &err_r, &ready_w}) {
      if (auto s = raise_fd(*fd, 6); !s) return std::move(s).error();
    }

    std::vector<std::string> arg_strings{uri.path};
    arg_strings.insert(arg_strings.end(), uri.args.begin(), uri.args.end());
    std::vector<std::string> env_strings{"CONTAINER_ID=" + std::string(container_id),
                                         "CONTAINER_NAMESPACE=" + std::string(ns)};
    std::vector<char*> argv, envp;
    for (auto& s : arg_strings) argv.push_back(s.data());
    argv.push_back(nullptr);
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    ::posix_spawn_file_actions_init(&actions);
    ::posix_spawnattr_init(&attr);
    int rc = 0;
    const std::pair<int, int> moves[] = {{null_fd.get(), 0}, {null_fd.get(), 1}, {null_fd.get(), 2},
                                         {out_r.get(), 3},   {err_r.get(), 4},   {ready_w.get(), 5}};
    for (auto [from, to] : moves) {
      if (rc == 0) rc = ::posix_spawn_file_actions_adddup2(&actions, from, to);
    }
    if (rc == 0) rc = ::posix_spawn_file_actions_addclosefrom_np(&actions, 6);
    sigset_t none, all;
    ::sigemptyset(&none);
    ::sigfillset(&all);
    if (rc == 0) rc = ::posix_spawnattr_setsigmask(&attr, &none);
    if (rc == 0) rc = ::posix_spawnattr_setsigdefault(&attr, &all);
    if (rc == 0) rc = ::posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    pid_t pid = 0;
    if (rc == 0) rc = ::posix_spawn(&pid, uri.path.c_str(), &actions, &attr, argv.data(), envp.data());
    ::posix_spawn_file_actions_destroy(&actions);
    ::posix_spawnattr_destroy(&attr);
    if (rc != 0) return Error::from_errno("start logging binary " + uri.path, rc);
    logger_pid = pid;
    logger_pidfd.reset(open_pidfd(pid));
    if (!logger_pidfd.valid()) {
      const int code = errno;
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      logger_pid = 0;
      return Error::from_errno("pidfd_open for logging binary " + uri.path, code);
    }
    spdlog::debug("stdio: started logging binary {} (pid {})", uri.path, pid);
    ready_w.reset();
    out_r.reset();
    err_r.reset();

    // Ready: a byte on fd 5 or its close (containerd accepts either).
    const auto until = Clock::now() + options.logger_ready_timeout;
    for (;;) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(until - Clock::now()).count();
      pollfd p{ready_r.get(), POLLIN, 0};
      const int n = ::poll(&p, 1, static_cast<int>(std::max<long long>(0, std::min<long long>(left, 60000))));
      if (n > 0) break;
      if (n < 0 && errno != EINTR) return Error::from_errno("wait for logging binary " + uri.path);
      if (n == 0 && left <= 0) {
        return Error{ETIMEDOUT, "logging binary " + uri.path + " did not signal ready (write to or close fd 5) within " +
                                    std::to_string(options.logger_ready_timeout.count()) + " ms"};
      }
    }
    char byte = 0;
    if (::read(ready_r.get(), &byte, 1) < 0) spdlog::debug("stdio: logging binary ready pipe: {}", std::strerror(errno));

    if (terminal) {
      out_shim = std::move(out.value().second);
      err_shim = std::move(err.value().second);
    } else {
      out_child = std::move(out.value().second);
      err_child = std::move(err.value().second);
    }
    return {};
  }

  void stop_logger(Clock::time_point natural_deadline) {
    if (!logger_pidfd.valid()) return;
    const int fd = logger_pidfd.get();
    if (!wait_exit(fd, natural_deadline)) {
      spdlog::debug("stdio: logging binary {} (pid {}) still running: SIGTERM", logger_path, logger_pid);
      signal_pidfd(fd, SIGTERM);
      if (!wait_exit(fd, Clock::now() + options.logger_term_grace)) {
        spdlog::debug("stdio: logging binary {} (pid {}) ignores SIGTERM: SIGKILL", logger_path, logger_pid);
        signal_pidfd(fd, SIGKILL);
        wait_exit(fd, Clock::now() + std::chrono::seconds(1));
      }
    }
    reap(fd);
    logger_pidfd.reset();
  }

  void close_child_ends() {
    stdin_child.reset();
    out_child.reset();
    err_child.reset();
    dev_null.reset();
  }
};

ProcessIo::ProcessIo(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Expected<std::unique_ptr<ProcessIo>> ProcessIo::open(const StdioPaths& paths, std::string_view container_id,
                                                     std::string_view ns, const ProcessIoOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->terminal = paths.terminal;
  impl->options = options;
  // From here on a failure destroys `io`, which closes what was opened and stops a started logging binary.
  std::unique_ptr<ProcessIo> io(new ProcessIo(std::move(impl)));
  Impl& m = *io->impl_;

  auto out_uri = parse_stdio_uri(paths.stdout_path);
  if (!out_uri) return std::move(out_uri).error().context("stdout");
  // A terminal has one output stream: containerd makes no stderr FIFO for it (nerdctl -t still names one),
  // and runc's shim never opens it either.
  auto err_uri = parse_stdio_uri(paths.terminal ? std::string_view() : std::string_view(paths.stderr_path));
  if (!err_uri) return std::move(err_uri).error().context("stderr");
  auto in_uri = parse_stdio_uri(paths.stdin_path);
  if (!in_uri) return std::move(in_uri).error().context("stdin");
  if (in_uri.value().kind == StdioUri::Kind::file || in_uri.value().kind == StdioUri::Kind::binary)
    return Error{EINVAL, "stdin " + paths.stdin_path + ": only a FIFO path is supported"};
  const auto out_kind = out_uri.value().kind;
  const auto err_kind = err_uri.value().kind;
  if (out_kind != StdioUri::Kind::file && out_kind != StdioUri::Kind::binary &&
      (err_kind == StdioUri::Kind::file || err_kind == StdioUri::Kind::binary))
    return Error{EINVAL, "stderr " + paths.stderr_path + ": file:// and binary:// are read from the stdout path"};

  m.dev_null.reset(::open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY));
  if (!m.dev_null.valid()) return Error::from_errno("open /dev/null");

  if (in_uri.value().kind == StdioUri::Kind::path) {
    if (auto s = m.open_stdin(in_uri.value().path); !s) return std::move(s).error();
  }
  switch (out_kind) {
    case StdioUri::Kind::none:
    case StdioUri::Kind::path:
      if (out_kind == StdioUri::Kind::path) {
        if (auto s = m.open_output_path(out_uri.value().path, "stdout", m.out_shim, m.out_child); !s)
          return std::move(s).error();
      }
      if (err_kind == StdioUri::Kind::path) {
        if (auto s = m.open_output_path(err_uri.value().path, "stderr", m.err_shim, m.err_child); !s)
          return std::move(s).error();
        const OwnedFd& out_any = m.out_shim.valid() ? m.out_shim : m.out_child;
        const OwnedFd& err_any = m.err_shim.valid() ? m.err_shim : m.err_child;
        if (Impl::same_file(out_any, err_any)) {  // one FIFO (or file) for both: one descriptor
          m.err_shim.reset();
          m.err_child.reset();
          m.err_is_out = true;
        }
      }
      break;
    case StdioUri::Kind::file:
      if (auto s = m.open_file_uri(out_uri.value().path); !s) return std::move(s).error();
      break;
    case StdioUri::Kind::binary:
      m.err_is_out = false;
      if (auto s = m.start_logger(out_uri.value(), container_id, ns); !s) return std::move(s).error();
      break;
  }

  if (!m.terminal && m.stdin_pipe_w.valid()) {
    Pump p;
    p.kind = Pump::Kind::stdin_pipe;
    p.name = "stdin";
    p.src = m.stdin_src.get();
    p.dst = m.stdin_pipe_w.get();
    p.owned_src = std::move(m.stdin_src);
    p.owned_dst = std::move(m.stdin_pipe_w);
    std::vector<Pump> pumps;
    pumps.push_back(std::move(p));
    if (auto s = m.start_thread(std::move(pumps)); !s) return std::move(s).error();
  }
  spdlog::debug("stdio: opened stdin={} stdout={} stderr={} terminal={}", paths.stdin_path, paths.stdout_path,
                paths.stderr_path, paths.terminal);
  return io;
}

ProcessIo::~ProcessIo() {
  if (impl_) finish(std::chrono::milliseconds(0));
}

ProcessStdio ProcessIo::process_stdio() const {
  const Impl& m = *impl_;
  const int null_fd = m.dev_null.get();
  ProcessStdio s;
  if (m.terminal) {
    s.stdio = {null_fd, null_fd, null_fd};
    return s;
  }
  const int in = m.stdin_child.valid() ? m.stdin_child.get() : null_fd;
  const int out = m.out_child.valid() ? m.out_child.get() : null_fd;
  const int err = m.err_is_out ? out : (m.err_child.valid() ? m.err_child.get() : null_fd);
  s.stdio = {in, out, err};
  return s;
}

void ProcessIo::attach(int console_master) {
  OwnedFd master(console_master);
  Impl& m = *impl_;
  std::lock_guard lock(m.mu);
  if (m.attached || m.finishing) {
    spdlog::warn("stdio attach: {}", m.attached ? "already attached" : "already finished");
    return;
  }
  m.attached = true;
  m.close_child_ends();
  if (!m.terminal) {
    if (master.valid()) spdlog::warn("stdio attach: a console master for a process without a terminal; closed");
    return;
  }
  if (!master.valid()) {
    spdlog::warn("stdio attach: the process has a terminal but no console master; its output is lost");
    return;
  }
  Status ready = set_nonblocking(master.get(), true);
  if (ready && m.out_shim.valid()) ready = set_nonblocking(m.out_shim.get(), true);
  if (!ready) {
    spdlog::warn("stdio attach: terminal: {}", ready.error().message);
    return;
  }

  std::vector<Pump> pumps;
  Pump out;
  out.kind = Pump::Kind::output;
  out.name = "terminal output";
  out.src = master.get();
  out.dst = m.out_shim.get();  // -1 without stdout: read and drop, so the process never blocks
  pumps.push_back(std::move(out));
  if (m.stdin_src.valid()) {
    Pump in;
    in.kind = Pump::Kind::stdin_tty;
    in.name = "terminal input";
    in.src = m.stdin_src.get();
    in.dst = master.get();
    in.owned_src = std::move(m.stdin_src);
    pumps.push_back(std::move(in));
  }
  m.master = std::move(master);
  if (auto started = m.start_thread(std::move(pumps)); !started)
    spdlog::warn("stdio attach: {}", started.error().message);
}

Status ProcessIo::resize(std::uint32_t width_columns, std::uint32_t height_rows) {
  Impl& m = *impl_;
  if (!m.terminal) return Error{EINVAL, "resize pty: the process has no terminal"};
  if (width_columns > 0xffff || height_rows > 0xffff)
    return Error{EINVAL, "resize pty: " + std::to_string(width_columns) + "x" + std::to_string(height_rows) +
                             " is out of range (at most 65535)"};
  std::lock_guard lock(m.mu);
  if (!m.master.valid()) return Error{EBADF, m.finished ? "resize pty: the process's I/O is closed"
                                                        : "resize pty: the terminal is not attached yet"};
  winsize ws{};
  ws.ws_col = static_cast<unsigned short>(width_columns);
  ws.ws_row = static_cast<unsigned short>(height_rows);
  if (::ioctl(m.master.get(), TIOCSWINSZ, &ws) < 0) return Error::from_errno("resize pty: TIOCSWINSZ");
  return {};
}

void ProcessIo::close_stdin() {
  Impl& m = *impl_;
  {
    std::lock_guard lock(m.mu);
    if (m.close_stdin_requested) return;
    m.close_stdin_requested = true;
    m.notify();
  }
  spdlog::debug("stdio: close stdin requested");
}

void ProcessIo::finish(std::chrono::milliseconds drain_limit) {
  Impl& m = *impl_;
  const auto deadline = Clock::now() + drain_limit;
  {
    std::lock_guard lock(m.mu);
    if (m.finishing) return;
    m.finishing = true;
    m.deadline = deadline;
    m.notify();
  }
  if (m.thread.joinable()) m.thread.join();
  {
    std::lock_guard lock(m.mu);
    m.close_child_ends();
    m.stdin_src.reset();
    m.stdin_pipe_w.reset();
    m.out_shim.reset();  // readers of the FIFOs see EOF once the process's descriptors are closed too
    m.err_shim.reset();
    m.master.reset();
    m.wake.reset();
  }
  m.stop_logger(Clock::now() + drain_limit);
  std::lock_guard lock(m.mu);
  m.finished = true;
  spdlog::debug("stdio: finished");
}

bool ProcessIo::terminal() const { return impl_->terminal; }

pid_t ProcessIo::logger_pid() const { return impl_->logger_pid; }

}  // namespace litebox::linux_host
