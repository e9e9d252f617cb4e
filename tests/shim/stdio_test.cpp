// The shim's stdio (runtime_shim/src/stdio): real FIFOs made with mkfifo, real child processes (/bin/sh)
// started with the descriptors process_stdio() hands the runtime, and real ptys.
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "litebox/linux/host/process_io.hpp"

extern char** environ;

namespace {

using litebox::linux_host::ProcessIo;
using litebox::linux_host::ProcessIoOptions;
using litebox::linux_host::StdioPaths;
using litebox::linux_host::StdioUri;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string templ = (fs::temp_directory_path() / "litebox-stdio-XXXXXX").string();
    if (::mkdtemp(templ.data()) == nullptr) std::abort();
    path_ = templ;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string make_fifo(const TempDir& dir, const std::string& name) {
  const std::string path = dir / name;
  if (::mkfifo(path.c_str(), 0600) != 0) ADD_FAILURE() << "mkfifo " << path << ": " << std::strerror(errno);
  return path;
}

int fd_count() {
  int n = 0;
  DIR* d = ::opendir("/proc/self/fd");
  while (const dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(d);
  return n - 1;  // the directory's own descriptor
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// /bin/sh -c script with the given descriptors as 0, 1, 2 (as the runtime would), SIGPIPE at its default.
pid_t spawn_sh(const litebox::linux_host::ProcessStdio& io, const std::string& script) {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawnattr_init(&attr);
  for (int i = 0; i < 3; ++i) ::posix_spawn_file_actions_adddup2(&actions, io.stdio[static_cast<std::size_t>(i)], i);
  sigset_t none, pipe;
  ::sigemptyset(&none);
  ::sigemptyset(&pipe);
  ::sigaddset(&pipe, SIGPIPE);
  ::posix_spawnattr_setsigmask(&attr, &none);
  ::posix_spawnattr_setsigdefault(&attr, &pipe);
  ::posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::string sh = "/bin/sh", c = "-c", body = script;
  char* argv[] = {sh.data(), c.data(), body.data(), nullptr};
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, "/bin/sh", &actions, &attr, argv, environ);
  ::posix_spawn_file_actions_destroy(&actions);
  ::posix_spawnattr_destroy(&attr);
  EXPECT_EQ(rc, 0) << std::strerror(rc);
  return pid;
}

// The child's wait status; kills it and returns -1 after `limit`.
int wait_child(pid_t pid, std::chrono::milliseconds limit = 20s) {
  const auto until = std::chrono::steady_clock::now() + limit;
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0) return -1;
    if (std::chrono::steady_clock::now() > until) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      ADD_FAILURE() << "child " << pid << " did not exit in time";
      return -1;
    }
    std::this_thread::sleep_for(5ms);
  }
}

bool still_running(pid_t pid) {
  int status = 0;
  return ::waitpid(pid, &status, WNOHANG) == 0;
}

// A client reading a FIFO until EOF, like ctr's copy goroutine.
class FifoReader {
 public:
  explicit FifoReader(std::string path, std::chrono::milliseconds limit = 30s)
      : until_(std::chrono::steady_clock::now() + limit), thread_([this, p = std::move(path)] { run(p); }) {}
  ~FifoReader() { wait(); }

  std::string wait() {
    if (thread_.joinable()) thread_.join();
    std::lock_guard lock(mu_);
    return data_;
  }
  bool eof() const { return eof_; }
  std::size_t size() const {
    std::lock_guard lock(mu_);
    return data_.size();
  }

 private:
  void run(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);  // blocks until a writer (the shim) exists
    if (fd < 0) {
      ADD_FAILURE() << "open " << path << ": " << std::strerror(errno);
      return;
    }
    std::vector<char> buf(65536);
    while (std::chrono::steady_clock::now() < until_) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      const ssize_t n = ::read(fd, buf.data(), buf.size());
      if (n == 0) {
        eof_ = true;
        break;
      }
      if (n < 0) {
        if (errno == EINTR) continue;
        break;
      }
      std::lock_guard lock(mu_);
      data_.append(buf.data(), static_cast<std::size_t>(n));
    }
    ::close(fd);
  }

  std::chrono::steady_clock::time_point until_;
  mutable std::mutex mu_;
  std::string data_;
  std::atomic<bool> eof_{false};
  std::thread thread_;
};

template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 10s) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

std::unique_ptr<ProcessIo> open_io(const StdioPaths& paths, const ProcessIoOptions& options = {}) {
  auto io = ProcessIo::open(paths, "ctr1", "default", options);
  EXPECT_TRUE(io.ok()) << io.error().message;
  return io.ok() ? std::move(io).value() : nullptr;
}

StdioPaths terminal_only() {
  StdioPaths p;
  p.terminal = true;
  return p;
}

std::size_t count_char(const std::string& s, char c) { return static_cast<std::size_t>(std::count(s.begin(), s.end(), c)); }

// ---- URIs ----------------------------------------------------------------------------------------------

TEST(StdioUri, Kinds) {
  auto none = litebox::linux_host::parse_stdio_uri("");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none.value().kind, StdioUri::Kind::none);

  auto fifo = litebox::linux_host::parse_stdio_uri("/run/containerd/fifo/123/c-stdout");
  ASSERT_TRUE(fifo.ok());
  EXPECT_EQ(fifo.value().kind, StdioUri::Kind::path);
  EXPECT_EQ(fifo.value().path, "/run/containerd/fifo/123/c-stdout");

  auto fifo_uri = litebox::linux_host::parse_stdio_uri("fifo:///run/x%20y");
  ASSERT_TRUE(fifo_uri.ok());
  EXPECT_EQ(fifo_uri.value().kind, StdioUri::Kind::path);
  EXPECT_EQ(fifo_uri.value().path, "/run/x y");

  auto file = litebox::linux_host::parse_stdio_uri("file:///var/log/c.log");
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file.value().kind, StdioUri::Kind::file);
  EXPECT_EQ(file.value().path, "/var/log/c.log");

  auto bin = litebox::linux_host::parse_stdio_uri("binary:///usr/bin/logger?b=2&a=x+y%2Fz&flag&b=3#frag");
  ASSERT_TRUE(bin.ok());
  EXPECT_EQ(bin.value().kind, StdioUri::Kind::binary);
  EXPECT_EQ(bin.value().path, "/usr/bin/logger");
  EXPECT_EQ(bin.value().args, (std::vector<std::string>{"b", "2", "a", "x y/z", "flag", ""}));

  auto bad = litebox::linux_host::parse_stdio_uri("tcp://host:1234/x");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("unknown scheme tcp"), std::string::npos) << bad.error().message;

  auto relative = litebox::linux_host::parse_stdio_uri("file://relative");
  ASSERT_FALSE(relative.ok());
  EXPECT_NE(relative.error().message.find("absolute path"), std::string::npos) << relative.error().message;
}

// ---- FIFOs ---------------------------------------------------------------------------------------------

TEST(ProcessIo, MissingFifoNamesStreamAndPath) {
  TempDir dir;
  auto io = ProcessIo::open({.stdin_path = "", .stdout_path = dir / "missing", .stderr_path = ""}, "c", "ns");
  ASSERT_FALSE(io.ok());
  EXPECT_EQ(io.error().message, "open stdout fifo " + (dir / "missing") + ": No such file or directory");
  EXPECT_EQ(io.error().code, ENOENT);
}

TEST(ProcessIo, EmptyPathsGiveDevNull) {
  auto io = open_io({});
  ASSERT_TRUE(io);
  const auto stdio = io->process_stdio();
  ASSERT_EQ(stdio.stdio.size(), 3u);
  for (int fd : stdio.stdio) {
    EXPECT_EQ(fs::read_symlink("/proc/self/fd/" + std::to_string(fd)), "/dev/null");
  }
  const pid_t pid = spawn_sh(stdio, "echo lost; echo lost >&2; cat");
  io->attach(-1);
  EXPECT_EQ(wait_child(pid), 0);  // cat reads /dev/null: EOF at once
  io->finish(1s);
}

TEST(ProcessIo, StdoutAndStderrIntactWithConcurrentReaders) {
  TempDir dir;
  const auto out_path = make_fifo(dir, "stdout");
  const auto err_path = make_fifo(dir, "stderr");
  // The client opens its ends first, as ctr does: the opens complete once the shim has its own.
  FifoReader out(out_path), err(err_path);
  auto io = open_io({.stdin_path = "", .stdout_path = out_path, .stderr_path = err_path});
  ASSERT_TRUE(io);
  const pid_t pid = spawn_sh(io->process_stdio(),
                             "yes 0123456789abcdef | head -c 10485760; yes error-line | head -c 1048576 >&2");
  io->attach(-1);
  EXPECT_EQ(wait_child(pid, 60s), 0);
  io->finish(5s);
  const std::string o = out.wait(), e = err.wait();
  EXPECT_TRUE(out.eof());
  EXPECT_TRUE(err.eof());
  ASSERT_EQ(o.size(), 10485760u);
  ASSERT_EQ(e.size(), 1048576u);
  std::string expected_out;
  while (expected_out.size() < o.size()) expected_out += "0123456789abcdef\n";
  expected_out.resize(o.size());
  EXPECT_TRUE(o == expected_out) << "stdout content differs";
  std::string expected_err;
  while (expected_err.size() < e.size()) expected_err += "error-line\n";
  expected_err.resize(e.size());
  EXPECT_TRUE(e == expected_err) << "stderr content differs";
}

TEST(ProcessIo, ProcessThatWritesAndExitsLosesNothing) {
  TempDir dir;
  const auto out_path = make_fifo(dir, "stdout");
  auto io = open_io({.stdin_path = "", .stdout_path = out_path, .stderr_path = ""});
  ASSERT_TRUE(io);
  const pid_t pid = spawn_sh(io->process_stdio(), "head -c 40000 /dev/zero | tr '\\0' z; echo end");
  io->attach(-1);
  EXPECT_EQ(wait_child(pid), 0);
  // The client opens the FIFO only after the process is gone: the data waits in the FIFO.
  FifoReader out(out_path);
  ASSERT_TRUE(eventually([&] { return out.size() == 40004u; }));
  io->finish(1s);
  const std::string o = out.wait();
  EXPECT_TRUE(out.eof());
  EXPECT_EQ(count_char(o, 'z'), 40000u);
  EXPECT_EQ(o.substr(o.size() - 4), "end\n");
}

TEST(ProcessIo, ReaderSeesEofOnlyAfterFinish) {
  TempDir dir;
  const auto out_path = make_fifo(dir, "stdout");
  auto io = open_io({.stdin_path = "", .stdout_path = out_path, .stderr_path = ""});
  ASSERT_TRUE(io);
  FifoReader out(out_path);
  const pid_t pid = spawn_sh(io->process_stdio(), "echo hi");
  io->attach(-1);
  EXPECT_EQ(wait_child(pid), 0);
  ASSERT_TRUE(eventually([&] { return out.size() == 3u; }));
  std::this_thread::sleep_for(200ms);
  EXPECT_FALSE(out.eof());  // the shim still holds the FIFO: an exec into it could still write
  io->finish(1s);
  EXPECT_EQ(out.wait(), "hi\n");
  EXPECT_TRUE(out.eof());
}

TEST(ProcessIo, SameFifoForStdoutAndStderr) {
  TempDir dir;
  const auto path = make_fifo(dir, "both");
  auto io = open_io({.stdin_path = "", .stdout_path = path, .stderr_path = path});
  ASSERT_TRUE(io);
  const auto stdio = io->process_stdio();
  EXPECT_EQ(stdio.stdio[1], stdio.stdio[2]);
  FifoReader reader(path);
  const pid_t pid = spawn_sh(stdio, "echo out; echo err >&2; echo out2");
  io->attach(-1);
  EXPECT_EQ(wait_child(pid), 0);
  io->finish(1s);
  EXPECT_EQ(reader.wait(), "out\nerr\nout2\n");
  EXPECT_TRUE(reader.eof());
}

TEST(ProcessIo, DetachedClientNeitherBlocksNorSigpipes) {
  TempDir dir;
  const auto in_path = make_fifo(dir, "stdin");
  const auto out_path = make_fifo(dir, "stdout");
  const auto err_path = make_fifo(dir, "stderr");
  // Nobody ever opens the other ends: open() must not block.
  auto io = open_io({.stdin_path = in_path, .stdout_path = out_path, .stderr_path = err_path});
  ASSERT_TRUE(io);
  // Up to the FIFO's capacity (64 KiB) the writes complete; SIGPIPE would kill the shell with 141.
  const pid_t pid = spawn_sh(io->process_stdio(), "head -c 65536 /dev/zero; echo e >&2; exit 7");
  io->attach(-1);
  const int status = wait_child(pid);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 7);
  io->finish(1s);
}

TEST(ProcessIo, StdinThroughCatWithLateWriterAndCloseIo) {
  TempDir dir;
  const auto in_path = make_fifo(dir, "stdin");
  const auto out_path = make_fifo(dir, "stdout");
  auto io = open_io({.stdin_path = in_path, .stdout_path = out_path, .stderr_path = ""});
  ASSERT_TRUE(io);
  FifoReader out(out_path);
  const pid_t pid = spawn_sh(io->process_stdio(), "cat");
  io->attach(-1);
  std::this_thread::sleep_for(100ms);
  ASSERT_TRUE(still_running(pid));  // no writer yet: no EOF either

  std::string input;
  for (int i = 0; input.size() < 1000000; ++i) input += "line " + std::to_string(i) + "\n";
  {
    const int w = ::open(in_path.c_str(), O_WRONLY | O_CLOEXEC);  // the client's late writer
    ASSERT_GE(w, 0) << std::strerror(errno);
    std::size_t off = 0;
    while (off < input.size()) {
      const ssize_t n = ::write(w, input.data() + off, input.size() - off);
      ASSERT_GT(n, 0) << std::strerror(errno);
      off += static_cast<std::size_t>(n);
    }
    ::close(w);
  }
  // The writer went away; the process must not see EOF before CloseIO.
  std::this_thread::sleep_for(200ms);
  ASSERT_TRUE(still_running(pid));
  io->close_stdin();
  EXPECT_EQ(wait_child(pid), 0);
  io->finish(1s);
  const std::string o = out.wait();
  EXPECT_TRUE(out.eof());
  EXPECT_EQ(o.size(), input.size());
  EXPECT_TRUE(o == input);
}

TEST(ProcessIo, CloseStdinDeliversBufferedInputFirst) {
  TempDir dir;
  const auto in_path = make_fifo(dir, "stdin");
  const auto out_path = make_fifo(dir, "stdout");
  auto io = open_io({.stdin_path = in_path, .stdout_path = out_path, .stderr_path = ""});
  ASSERT_TRUE(io);
  FifoReader out(out_path);
  const int w = ::open(in_path.c_str(), O_WRONLY | O_CLOEXEC);
  ASSERT_GE(w, 0);
  // Written and CloseIO'd before the process even exists.
  ASSERT_EQ(::write(w, "early\n", 6), 6);
  io->close_stdin();
  const pid_t pid = spawn_sh(io->process_stdio(), "cat; echo done");
  io->attach(-1);
  EXPECT_EQ(wait_child(pid), 0);
  ::close(w);
  io->finish(1s);
  EXPECT_EQ(out.wait(), "early\ndone\n");
}

TEST(ProcessIo, ProcessClosingItsStdinEndsTheCopyWithoutSigpipe) {
  TempDir dir;
  const auto in_path = make_fifo(dir, "stdin");
  auto io = open_io({.stdin_path = in_path, .stdout_path = "", .stderr_path = ""});
  ASSERT_TRUE(io);
  // The client's end is open before the process starts: the process may close its stdin, and the shim's copy
  // stop and close the FIFO, before a client opening later would find a reader.
  const int w = ::open(in_path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(w, 0) << std::strerror(errno);
  const pid_t pid = spawn_sh(io->process_stdio(), "exec 0<&-; sleep 1");
  io->attach(-1);
  // The client keeps writing; once the shim's copy finds no reader it stops and closes the FIFO, so the
  // client's writes fail with EPIPE (the client's SIGPIPE is blocked here; the shim's thread must not
  // take one either, or this test process dies).
  std::thread client([&] {
    sigset_t pipe;
    ::sigemptyset(&pipe);
    ::sigaddset(&pipe, SIGPIPE);
    ::pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
    const std::string chunk(4096, 'i');
    const auto until = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < until) {
      if (::write(w, chunk.data(), chunk.size()) < 0 && errno == EPIPE) break;
      std::this_thread::sleep_for(1ms);
    }
    EXPECT_LT(std::chrono::steady_clock::now(), until) << "the shim kept the stdin FIFO open";
    ::close(w);
    siginfo_t info;
    const timespec zero{0, 0};
    ::sigtimedwait(&pipe, &info, &zero);  // consume the pending SIGPIPE of this thread
  });
  client.join();
  EXPECT_EQ(wait_child(pid), 0);
  io->finish(1s);
}

// ---- file:// and binary:// -----------------------------------------------------------------------------

TEST(ProcessIo, FileUriAppendsBothStreams) {
  TempDir dir;
  const std::string log = dir / "logs/sub/c.log";  // the directories do not exist yet
  for (const char* word : {"one", "two"}) {
    auto io = open_io({.stdin_path = "", .stdout_path = "file://" + log, .stderr_path = "file://" + log});
    ASSERT_TRUE(io);
    const pid_t pid = spawn_sh(io->process_stdio(), std::string("echo out-") + word + "; echo err-" + word + " >&2");
    io->attach(-1);
    EXPECT_EQ(wait_child(pid), 0);
    io->finish(1s);
  }
  EXPECT_EQ(read_file(log), "out-one\nerr-one\nout-two\nerr-two\n");
  EXPECT_EQ(fs::status(log).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
}

std::string write_script(const TempDir& dir, const std::string& name, const std::string& body) {
  const std::string path = dir / name;
  std::ofstream(path) << "#!/bin/sh\n" << body;
  fs::permissions(path, fs::perms::owner_all);
  return path;
}

TEST(ProcessIo, BinaryUriRunsTheLoggingBinary) {
  TempDir dir;
  const std::string logger = write_script(dir, "logger.sh", R"(d="$2"
printf '%s\n' "$#" "$@" > "$d/meta"
tr '\0' '\n' < /proc/$$/environ > "$d/env"
ls /proc/$$/fd > "$d/fds"
cat <&3 > "$d/stdout" 5>&- &
cat <&4 > "$d/stderr" 5>&- &
printf r >&5
exec 5>&-
wait
)");
  const int before = fd_count();
  {
    auto io = ProcessIo::open({.stdin_path = "", .stdout_path = "binary://" + logger + "?dir=" + dir.path().string() +
                                                              "&tag=a%20b+c",
                               .stderr_path = "binary://" + logger},
                              "my-ctr", "k8s.io");
    ASSERT_TRUE(io.ok()) << io.error().message;
    auto& p = *io.value();
    EXPECT_GT(p.logger_pid(), 0);
    const pid_t pid = spawn_sh(p.process_stdio(), "echo to-stdout; echo to-stderr >&2");
    p.attach(-1);
    EXPECT_EQ(wait_child(pid), 0);
    const auto start = std::chrono::steady_clock::now();
    p.finish(5s);  // the logger sees EOF and exits by itself
    EXPECT_LT(std::chrono::steady_clock::now() - start, 4s);
    EXPECT_EQ(read_file(dir / "stdout"), "to-stdout\n");
    EXPECT_EQ(read_file(dir / "stderr"), "to-stderr\n");
    EXPECT_EQ(read_file(dir / "meta"), "4\ndir\n" + dir.path().string() + "\ntag\na b c\n");
    // Exactly containerd's environment, and descriptors 0-5 only (dash keeps its own at 10 and up).
    EXPECT_EQ(read_file(dir / "env"), "CONTAINER_ID=my-ctr\nCONTAINER_NAMESPACE=k8s.io\n");
    std::vector<int> fds;
    std::istringstream listing(read_file(dir / "fds"));
    for (int fd = 0; listing >> fd;) {
      if (fd < 10) fds.push_back(fd);
    }
    std::sort(fds.begin(), fds.end());
    EXPECT_EQ(fds, (std::vector<int>{0, 1, 2, 3, 4, 5}));
  }
  EXPECT_EQ(fd_count(), before);
}

TEST(ProcessIo, LoggingBinaryThatNeverGetsReadyFails) {
  TempDir dir;
  const std::string logger = write_script(dir, "stuck.sh", "exec sleep 30\n");
  const auto start = std::chrono::steady_clock::now();
  auto io = ProcessIo::open({.stdin_path = "", .stdout_path = "binary://" + logger, .stderr_path = ""}, "c", "ns",
                            {.logger_ready_timeout = 300ms, .logger_term_grace = 1000ms});
  ASSERT_FALSE(io.ok());
  EXPECT_EQ(io.error().code, ETIMEDOUT);
  EXPECT_NE(io.error().message.find("logging binary " + logger + " did not signal ready"), std::string::npos)
      << io.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);  // and the stuck logger was terminated and reaped
  int status = 0;
  EXPECT_EQ(::waitpid(-1, &status, WNOHANG), -1);  // nothing left to reap
}

TEST(ProcessIo, MissingLoggingBinary) {
  auto io = ProcessIo::open({.stdin_path = "", .stdout_path = "binary:///nonexistent/logger", .stderr_path = ""}, "c",
                            "ns");
  ASSERT_FALSE(io.ok());
  EXPECT_EQ(io.error().message, "start logging binary /nonexistent/logger: No such file or directory");
}

// ---- terminals -----------------------------------------------------------------------------------------

struct Pty {
  int master = -1;
  std::string slave_path;
};

Pty open_pty() {
  Pty p;
  p.master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (p.master < 0 || ::grantpt(p.master) != 0 || ::unlockpt(p.master) != 0) {
    ADD_FAILURE() << "pty: " << std::strerror(errno);
    return p;
  }
  p.slave_path = ::ptsname(p.master);
  return p;
}

// A child on the pty's slave as its controlling terminal (what the runtime does for process.terminal).
// Without `controlling` the slave is only the child's 0-2: its exit does not hang the terminal up.
pid_t spawn_on_terminal(const std::string& slave_path, const std::string& script, bool controlling = true) {
  const int slave = ::open(slave_path.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) {
    ADD_FAILURE() << "open " << slave_path << ": " << std::strerror(errno);
    return -1;
  }
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setsid();
    if (controlling) ::ioctl(slave, TIOCSCTTY, 0);
    for (int i = 0; i < 3; ++i) ::dup2(slave, i);
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    ::execl("/bin/sh", "sh", "-c", script.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(slave);  // the shim holds no slave: EIO on the master once the process is gone
  return pid;
}

TEST(ProcessIo, TerminalCopiesBothWaysAndResizes) {
  TempDir dir;
  const auto in_path = make_fifo(dir, "stdin");
  const auto out_path = make_fifo(dir, "stdout");
  auto io = open_io({.stdin_path = in_path, .stdout_path = out_path, .stderr_path = "", .terminal = true});
  ASSERT_TRUE(io);
  EXPECT_TRUE(io->terminal());
  EXPECT_FALSE(io->resize(80, 24).ok());  // not attached yet
  FifoReader out(out_path);
  const Pty pty = open_pty();
  // Output written right before the exit must arrive: 200,000 'x' and then exit.
  const pid_t pid = spawn_on_terminal(
      pty.slave_path, "read line; echo \"got:$line\"; stty size; head -c 200000 /dev/zero | tr '\\0' x; exit 3");
  ASSERT_GT(pid, 0);
  io->attach(pty.master);

  ASSERT_TRUE(io->resize(100, 30).ok());
  {
    const int slave = ::open(pty.slave_path.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
    ASSERT_GE(slave, 0);
    winsize ws{};
    ASSERT_EQ(::ioctl(slave, TIOCGWINSZ, &ws), 0);
    EXPECT_EQ(ws.ws_col, 100);
    EXPECT_EQ(ws.ws_row, 30);
    ::close(slave);
  }
  const int w = ::open(in_path.c_str(), O_WRONLY | O_CLOEXEC);
  ASSERT_GE(w, 0);
  ASSERT_EQ(::write(w, "hello\n", 6), 6);
  const int status = wait_child(pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 3) << status;
  io->finish(5s);
  ::close(w);
  const std::string o = out.wait();
  EXPECT_TRUE(out.eof());
  EXPECT_NE(o.find("got:hello"), std::string::npos) << o.substr(0, 200);
  EXPECT_NE(o.find("30 100"), std::string::npos) << o.substr(0, 200);
  EXPECT_EQ(count_char(o, 'x'), 200000u);
  EXPECT_FALSE(io->resize(80, 24).ok());  // closed
}

TEST(ProcessIo, TerminalCloseStdinSendsEof) {
  TempDir dir;
  const auto in_path = make_fifo(dir, "stdin");
  const auto out_path = make_fifo(dir, "stdout");
  const auto err_path = make_fifo(dir, "stderr");
  auto io = open_io({.stdin_path = in_path, .stdout_path = out_path, .stderr_path = err_path, .terminal = true});
  ASSERT_TRUE(io);
  FifoReader out(out_path);
  const Pty pty = open_pty();
  const pid_t pid = spawn_on_terminal(pty.slave_path, "stty -echo; cat; echo after-eof");
  ASSERT_GT(pid, 0);
  io->attach(pty.master);
  const int w = ::open(in_path.c_str(), O_WRONLY | O_CLOEXEC);
  ASSERT_GE(w, 0);
  std::this_thread::sleep_for(100ms);  // stty -echo done
  ASSERT_EQ(::write(w, "abc\n", 4), 4);
  ::close(w);
  std::this_thread::sleep_for(100ms);
  ASSERT_TRUE(still_running(pid));
  io->close_stdin();
  EXPECT_EQ(wait_child(pid), 0);
  io->finish(5s);
  const std::string o = out.wait();
  EXPECT_NE(o.find("abc\r\n"), std::string::npos) << o;
  EXPECT_NE(o.find("after-eof"), std::string::npos) << o;
  // A terminal has one stream: the stderr FIFO never had a writer (a non-blocking read sees EOF at once).
  const int err_fd = ::open(err_path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(err_fd, 0);
  char byte;
  EXPECT_EQ(::read(err_fd, &byte, 1), 0);
  ::close(err_fd);
}

TEST(ProcessIo, TerminalIgnoresAStderrPathThatDoesNotExist) {
  // nerdctl run -t names a stderr FIFO that containerd never makes for a terminal.
  TempDir dir;
  const auto out_path = make_fifo(dir, "stdout");
  auto io = open_io({.stdin_path = "", .stdout_path = out_path, .stderr_path = (dir.path() / "no-such-fifo").string(),
                     .terminal = true});
  ASSERT_TRUE(io);
  FifoReader out(out_path);
  const Pty pty = open_pty();
  const pid_t pid = spawn_on_terminal(pty.slave_path, "echo on-the-terminal");
  ASSERT_GT(pid, 0);
  io->attach(pty.master);
  EXPECT_EQ(wait_child(pid), 0);
  io->finish(5s);
  EXPECT_NE(out.wait().find("on-the-terminal"), std::string::npos);
}

TEST(ProcessIo, TerminalWithoutStdoutStillDrainsTheMaster) {
  auto io = open_io(terminal_only());
  ASSERT_TRUE(io);
  const Pty pty = open_pty();
  // 1 MB into a pty nobody reads would block the process for good.
  const pid_t pid = spawn_on_terminal(pty.slave_path, "head -c 1000000 /dev/zero");
  io->attach(pty.master);
  EXPECT_EQ(wait_child(pid), 0);
  io->finish(1s);
}

TEST(ProcessIo, TerminalFinishIsBoundedWhenTheSlaveStaysOpen) {
  TempDir dir;
  const auto out_path = make_fifo(dir, "stdout");
  auto io = open_io({.stdin_path = "", .stdout_path = out_path, .stderr_path = "", .terminal = true});
  ASSERT_TRUE(io);
  FifoReader out(out_path);
  const Pty pty = open_pty();
  // A background child keeps the slave open after the process exits. (Were the slave the exiting session
  // leader's controlling terminal, the kernel would hang it up and the master would report EIO at once.)
  const pid_t pid = spawn_on_terminal(pty.slave_path, "sleep 2 & echo started", false);
  io->attach(pty.master);
  EXPECT_EQ(wait_child(pid), 0);
  ASSERT_TRUE(eventually([&] { return out.size() >= 8; }));
  const auto start = std::chrono::steady_clock::now();
  io->finish(300ms);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 1500ms);
  EXPECT_EQ(out.wait(), "started\r\n");
  EXPECT_TRUE(out.eof());
}

TEST(ProcessIo, AttachChecksTheMaster) {
  {
    auto io = open_io(terminal_only());
    ASSERT_TRUE(io);
    io->attach(-1);  // logged; nothing to copy
    EXPECT_FALSE(io->resize(80, 24).ok());
  }
  {
    auto io = open_io({});
    ASSERT_TRUE(io);
    const Pty pty = open_pty();
    const int before = fd_count();
    io->attach(pty.master);  // not a terminal process: refused, but the master is closed
    EXPECT_EQ(fd_count(), before - 1 - 1);  // the master and the /dev/null copies
    const auto r = io->resize(80, 24);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message, "resize pty: the process has no terminal");
  }
}

// ---- resources -----------------------------------------------------------------------------------------

TEST(ProcessIo, NoDescriptorLeaks) {
  TempDir dir;
  const auto in_path = make_fifo(dir, "stdin");
  const auto out_path = make_fifo(dir, "stdout");
  const auto err_path = make_fifo(dir, "stderr");
  const int before = fd_count();
  {  // full cycle, pipes
    auto io = open_io({.stdin_path = in_path, .stdout_path = out_path, .stderr_path = err_path});
    ASSERT_TRUE(io);
    const pid_t pid = spawn_sh(io->process_stdio(), "cat >/dev/null");
    io->attach(-1);
    io->close_stdin();
    EXPECT_EQ(wait_child(pid), 0);
    io->finish(1s);
  }
  EXPECT_EQ(fd_count(), before);
  {  // destroyed without attach or finish (process creation failed)
    auto io = open_io({.stdin_path = in_path, .stdout_path = out_path, .stderr_path = err_path});
    ASSERT_TRUE(io);
    EXPECT_GT(fd_count(), before);
  }
  EXPECT_EQ(fd_count(), before);
  {  // terminal, destroyed while the process still runs
    auto io = open_io({.stdin_path = in_path, .stdout_path = out_path, .stderr_path = err_path, .terminal = true});
    ASSERT_TRUE(io);
    const Pty pty = open_pty();
    const pid_t pid = spawn_on_terminal(pty.slave_path, "sleep 30");
    io->attach(pty.master);
    io.reset();
    ::kill(pid, SIGKILL);
    wait_child(pid);
  }
  EXPECT_EQ(fd_count(), before);
}

TEST(ProcessIo, TerminalStdinFifoStaysOpenAfterTheExitUntilDestroyed) {
  // As runc's shim: a client still writing after the process exited (keystrokes on a terminal) gets no
  // EPIPE until the exec is deleted. CRI answers EPIPE by closing its stdout reader, losing the last output.
  TempDir dir;
  const auto in_path = make_fifo(dir, "stdin");
  auto io = open_io({.stdin_path = in_path, .stdout_path = "", .stderr_path = "", .terminal = true});
  ASSERT_TRUE(io);
  const int w = ::open(in_path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(w, 0) << std::strerror(errno);
  const Pty pty = open_pty();
  const pid_t pid = spawn_on_terminal(pty.slave_path, "exit 0");
  ASSERT_GT(pid, 0);
  io->attach(pty.master);
  EXPECT_EQ(wait_child(pid), 0);
  io->finish(1s);
  sigset_t pipe;
  ::sigemptyset(&pipe);
  ::sigaddset(&pipe, SIGPIPE);
  sigset_t old;
  ::pthread_sigmask(SIG_BLOCK, &pipe, &old);
  EXPECT_EQ(::write(w, "x", 1), 1) << std::strerror(errno);
  io.reset();
  EXPECT_EQ(::write(w, "y", 1), -1);
  EXPECT_EQ(errno, EPIPE);
  siginfo_t info;
  const timespec zero{0, 0};
  ::sigtimedwait(&pipe, &info, &zero);  // consume the pending SIGPIPE
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  ::close(w);
}

}  // namespace
