// The LiteBox core's seccomp filter (core/core_filter.hpp): the policy table, the core channel's message, the
// filter in a forked child served by a minimal notification loop here, and the runtime installing it in a
// container's init and in an exec'd process (CreateRequest / ExecRequest::core_channel).
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "busybox_rootfs.hpp"
#include "container_bundle.hpp"
#include "litebox/linux/container.hpp"
#include "litebox/linux/core/core_filter.hpp"
#include "litebox/linux/seccomp_filter.hpp"
#include "litebox/linux/unix_socket.hpp"

namespace lh = litebox::linux_host;
namespace core = litebox::linux_host::core;
namespace fs = std::filesystem;

namespace {

// ---- (a) the policy table

TEST(CorePolicy, EveryNameResolvesAndTheTableIsConsistent) {
  std::vector<std::string> unknown;
  for (const core::CoreSyscall& entry : core::core_syscall_policy()) {
    if (entry.action == core::CoreAction::deny) {
      EXPECT_TRUE(entry.error == EPERM || entry.error == ENOSYS || entry.error == EBUSY) << entry.name;
      EXPECT_FALSE(entry.why.empty()) << entry.name;
    } else {
      EXPECT_EQ(entry.error, 0) << entry.name;
    }
    const std::string name(entry.name);
    const int nr = seccomp_syscall_resolve_name(name.c_str());
    if (nr < 0) {
      unknown.push_back(name);
      continue;
    }
    EXPECT_EQ(core::core_policy_for(nr), &entry) << name;
  }
  // On x86_64 with libseccomp 2.5 every name is known; elsewhere they are skipped with a note.
  auto program = core::compile_core_filter(core::CoreFilterScope::opens_and_creation);
  ASSERT_TRUE(program.ok()) << program.error().message;
  EXPECT_EQ(program.value().notes.size(), unknown.size());
  for (const auto& note : program.value().notes) std::printf("note: %s\n", note.c_str());
}

TEST(CorePolicy, LookupByNumber) {
  const core::CoreSyscall* openat = core::core_policy_for(SYS_openat);
  ASSERT_NE(openat, nullptr);
  EXPECT_EQ(openat->name, "openat");
  EXPECT_EQ(openat->action, core::CoreAction::serve);

  const core::CoreSyscall* uring = core::core_policy_for(SYS_io_uring_setup);
  ASSERT_NE(uring, nullptr);
  EXPECT_EQ(uring->action, core::CoreAction::deny);
  EXPECT_EQ(uring->error, ENOSYS);

  // Created objects: stopped only under a descriptor budget.
  ASSERT_NE(core::core_policy_for(SYS_pipe2), nullptr);
  EXPECT_EQ(core::core_policy_for(SYS_pipe2)->action, core::CoreAction::create);
  EXPECT_EQ(core::core_policy_for(SYS_eventfd2)->action, core::CoreAction::create);
  // Run natively, never stopped: nothing of theirs can fail with EINTR under the core.
  for (int nr : {SYS_close, SYS_close_range, SYS_dup, SYS_dup2, SYS_dup3, SYS_fcntl, SYS_ioctl, SYS_execve,
                 SYS_execveat, SYS_unshare, SYS_clone, SYS_fork, SYS_socketpair, SYS_accept4}) {
    EXPECT_EQ(core::core_policy_for(nr), nullptr) << nr;
  }
  EXPECT_EQ(core::core_policy_for(SYS_bpf)->error, EPERM);
  EXPECT_EQ(core::core_policy_for(SYS_fsopen)->error, ENOSYS);
  EXPECT_EQ(core::core_policy_for(SYS_read), nullptr);
  EXPECT_EQ(core::core_policy_for(SYS_write), nullptr);
  EXPECT_EQ(core::core_policy_for(-1), nullptr);
  EXPECT_EQ(core::core_policy_for(0x40000000 | SYS_openat), nullptr);
}

TEST(CorePolicy, FilterShape) {
  for (auto scope : {core::CoreFilterScope::opens, core::CoreFilterScope::opens_and_creation}) {
    auto program = core::compile_core_filter(scope);
    ASSERT_TRUE(program.ok()) << program.error().message;
    EXPECT_TRUE(program.value().has_listener);
    // NEW_LISTENER, and WAIT_KILLABLE_RECV where the kernel has it (5.19+).
    EXPECT_EQ(program.value().load_flags & ~static_cast<unsigned>(SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV),
              static_cast<unsigned>(SECCOMP_FILTER_FLAG_NEW_LISTENER));
    EXPECT_FALSE(program.value().instructions.empty());
    EXPECT_LE(program.value().instructions.size(), static_cast<std::size_t>(BPF_MAXINSNS));
  }
}

// ---- (b) the channel message

TEST(CoreChannel, FormatAndParse) {
  EXPECT_EQ(core::core_channel_message(1234), "pid 1234\n");
  EXPECT_EQ(core::parse_core_channel_message("pid 1234\n"), 1234);
  EXPECT_EQ(core::parse_core_channel_message(core::core_channel_message(1)), 1);
  EXPECT_EQ(core::parse_core_channel_message(core::core_channel_message(2147483647)), 2147483647);
  for (std::string_view bad :
       {"", "pid", "pid ", "pid \n", "pid 12", "pid 12\n\n", "pid 12 \n", "pid -12\n", "pid +12\n", "pid 0\n",
        "pid 012\n", "pid 2147483648\n", "pid 99999999999999999999\n", "PID 12\n", "pid\t12\n", " pid 12\n",
        "pid 1x2\n", "pid 12\r\n", "tid 12\n"}) {
    EXPECT_EQ(core::parse_core_channel_message(bad), -1) << "\"" << bad << "\"";
  }
  const std::string with_nul("pid 1\0\n", 7);
  EXPECT_EQ(core::parse_core_channel_message(with_nul), -1);
  // Every byte string of a few characters from a small alphabet: never a crash, only -1 or a positive pid.
  const std::string alphabet = "pid 019\n-";
  std::string text;
  std::function<void(int)> all = [&](int depth) {
    const pid_t pid = core::parse_core_channel_message(text);
    EXPECT_TRUE(pid == -1 || pid > 0);
    if (pid > 0) {
      EXPECT_EQ(core::core_channel_message(pid), text);
    }
    if (depth == 0) return;
    for (char c : alphabet) {
      text.push_back(c);
      all(depth - 1);
      text.pop_back();
    }
  };
  all(5);
}

// ---- a minimal core: answers notifications from raw ioctls

struct Seen {
  int nr;
  std::uint64_t args[6];
  pid_t pid;
};

// Answers one pending notification: CONTINUE for serve and create (and anything outside the table, which must
// not happen), the entry's errno for deny. Returns false when the listener has nothing (the target is gone).
// `seen_lock`, when given, guards `seen`: the call is recorded before the answer lets the process go on.
bool answer_one(int listener, std::vector<Seen>& seen, std::mutex* seen_lock = nullptr) {
  seccomp_notif request;
  std::memset(&request, 0, sizeof request);
  if (::ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &request) != 0) return false;
  Seen s{request.data.nr, {}, static_cast<pid_t>(request.pid)};
  for (int i = 0; i < 6; ++i) s.args[i] = request.data.args[i];
  if (seen_lock != nullptr) {
    std::lock_guard lock(*seen_lock);
    seen.push_back(s);
  } else {
    seen.push_back(s);
  }
  seccomp_notif_resp response;
  std::memset(&response, 0, sizeof response);
  response.id = request.id;
  const core::CoreSyscall* entry = core::core_policy_for(request.data.nr);
  if (entry != nullptr && entry->action == core::CoreAction::deny) {
    response.error = -entry->error;
  } else {
    response.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
  }
  (void)::ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &response);  // ENOENT: the target was interrupted
  return true;
}

// Receives "pid <n>\n" with the listener attached.
bool receive_listener(int socket, int& listener, pid_t& pid) {
  char buffer[64];
  const long n = lh::receive_with_descriptor(socket, buffer, sizeof buffer, listener);
  if (n <= 0 || listener < 0) return false;
  pid = core::parse_core_channel_message(std::string_view(buffer, static_cast<std::size_t>(n)));
  return pid > 0;
}

#define REQUIRE_ROOT_OR_NNP()                                                                     \
  do {                                                                                            \
    if (!lh::detail::kernel_accepts_seccomp_flags(SECCOMP_FILTER_FLAG_NEW_LISTENER)) {            \
      GTEST_SKIP() << "the kernel has no seccomp user notification";                              \
    }                                                                                             \
  } while (0)

// ---- (c) the filter in a forked child

void report(int fd, const std::string& key, long value) {
  const std::string line = key + "=" + std::to_string(value) + "\n";
  (void)!::write(fd, line.data(), line.size());
}

// What the child does under the filter; raw system calls only, results as "key=value" lines (errno or 0).
[[noreturn]] void child_under_filter(const lh::SeccompProgram& program, int channel, int out) {
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) ::_exit(10);
  auto listener = lh::load_seccomp_program(program);
  if (!listener) ::_exit(11);
  const std::string message = core::core_channel_message(::getpid());
  if (lh::send_with_descriptor(channel, message, listener.value()) != 0) ::_exit(12);
  report(out, "marker_sent", 0);
  ::close(listener.value());  // not stopped: closes run natively
  ::close(channel);

  auto result = [](long rc) -> long { return rc < 0 ? errno : 0; };
  const long fd = ::syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDONLY | O_CLOEXEC);
  report(out, "openat", result(fd));
  report(out, "getfl", result(::syscall(SYS_fcntl, fd, F_GETFL)));
  const long dup = ::syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 10);
  report(out, "dupfd", result(dup));
  // High bits the kernel ignores (cmd is an unsigned int) do not get past the filter.
  const long dup_high = ::syscall(SYS_fcntl, fd, (1UL << 32) | F_DUPFD, 20);
  report(out, "dupfd_high", result(dup_high));
  char byte = 'x';
  int pipe_fds[2];
  report(out, "pipe2", result(::syscall(SYS_pipe2, pipe_fds, O_CLOEXEC)));
  report(out, "write", result(::syscall(SYS_write, pipe_fds[1], &byte, 1)));
  report(out, "read", result(::syscall(SYS_read, pipe_fds[0], &byte, 1)));
  char params[120] = {};  // struct io_uring_params; never read: the core refuses first
  report(out, "io_uring_setup", result(::syscall(SYS_io_uring_setup, 4, params)));
  sock_filter allow[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
  sock_fprog prog{1, allow};
  report(out, "seccomp_listener",
          result(::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog)));
  report(out, "seccomp_plain", result(::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog)));
  report(out, "done", 0);
  ::_exit(0);
}

class CoreFilterScopes : public ::testing::TestWithParam<core::CoreFilterScope> {};

TEST_P(CoreFilterScopes, NotifiesOnlyThePolicysCalls) {
  REQUIRE_ROOT_OR_NNP();
  const bool creation = GetParam() == core::CoreFilterScope::opens_and_creation;
  auto program = core::compile_core_filter(GetParam());
  ASSERT_TRUE(program.ok()) << program.error().message;
  int channel[2];
  int out[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, channel), 0);
  ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(channel[0]);
    ::close(out[0]);
    child_under_filter(program.value(), channel[1], out[1]);
  }
  ::close(channel[1]);
  ::close(out[1]);

  int listener = -1;
  pid_t announced = 0;
  ASSERT_TRUE(receive_listener(channel[0], listener, announced));
  ::close(channel[0]);
  EXPECT_EQ(announced, child);

  std::vector<Seen> seen;
  std::string lines;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd fds[2] = {{listener, POLLIN, 0}, {out[0], POLLIN, 0}};
    if (::poll(fds, 2, 1000) < 0 && errno != EINTR) break;
    if (fds[0].revents & POLLIN) answer_one(listener, seen);
    if (fds[1].revents & (POLLIN | POLLHUP)) {
      char buffer[512];
      const ssize_t n = ::read(out[0], buffer, sizeof buffer);
      if (n <= 0) break;
      lines.append(buffer, static_cast<std::size_t>(n));
    }
  }
  ::close(out[0]);
  ::close(listener);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << "signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0);

  std::map<std::string, long> results;
  for (std::size_t at = 0; at < lines.size();) {
    const std::size_t end = lines.find('\n', at);
    const std::string line = lines.substr(at, end - at);
    at = end == std::string::npos ? lines.size() : end + 1;
    const std::size_t eq = line.find('=');
    if (eq != std::string::npos) results[line.substr(0, eq)] = std::stol(line.substr(eq + 1));
  }
  EXPECT_EQ(results.count("done"), 1u) << lines;
  EXPECT_EQ(results["openat"], 0);
  EXPECT_EQ(results["getfl"], 0);
  EXPECT_EQ(results["dupfd"], 0);
  EXPECT_EQ(results["dupfd_high"], 0);
  EXPECT_EQ(results["read"], 0);
  EXPECT_EQ(results["write"], 0);
  EXPECT_EQ(results["io_uring_setup"], ENOSYS);
  EXPECT_EQ(results["seccomp_listener"], EBUSY);
  EXPECT_EQ(results["seccomp_plain"], 0);

  auto count = [&](int nr, auto&& match) {
    int n = 0;
    for (const Seen& s : seen) n += (s.nr == nr && match(s)) ? 1 : 0;
    return n;
  };
  auto any = [](const Seen&) { return true; };
  for (const Seen& s : seen) EXPECT_EQ(s.pid, child);
  EXPECT_EQ(count(SYS_close, any), 0);  // the listener's and the channel's ran natively
  EXPECT_EQ(count(SYS_openat, [](const Seen& s) { return s.args[2] == (O_RDONLY | O_CLOEXEC); }), 1);
  EXPECT_EQ(count(SYS_fcntl, any), 0);  // F_GETFL, F_DUPFD_CLOEXEC and the one with high bits: all native
  EXPECT_EQ(count(SYS_read, any), 0);
  EXPECT_EQ(count(SYS_write, any), 0);
  EXPECT_EQ(count(SYS_pipe2, any), creation ? 1 : 0);
  EXPECT_EQ(count(SYS_io_uring_setup, any), 1);
  EXPECT_EQ(count(SYS_seccomp, any), 1);  // only the one asking for a listener
}

INSTANTIATE_TEST_SUITE_P(Scopes, CoreFilterScopes,
                         ::testing::Values(core::CoreFilterScope::opens, core::CoreFilterScope::opens_and_creation),
                         [](const ::testing::TestParamInfo<core::CoreFilterScope>& param_info) {
                           return param_info.param == core::CoreFilterScope::opens ? std::string("Opens")
                                                                                   : std::string("OpensAndCreation");
                         });

// Calls through another ABI would carry numbers the rules do not match: they kill the process; native calls
// of every kind keep working.
TEST(CoreFilter, OtherArchitecturesAreKilled) {
  REQUIRE_ROOT_OR_NNP();
  auto program = core::compile_core_filter(core::CoreFilterScope::opens);
  ASSERT_TRUE(program.ok()) << program.error().message;
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) ::_exit(10);
    auto listener = lh::load_seccomp_program(program.value());
    if (!listener) ::_exit(11);
    // The listener stays open and unanswered: only calls the filter allows outright may follow.
    if (::syscall(SYS_getpid) != ::getpid()) ::_exit(12);
    char byte = 0;
    if (::syscall(SYS_write, -1, &byte, 1) != -1 || errno != EBADF) ::_exit(13);
    ::syscall(0x40000000 | SYS_getpid);  // __X32_SYSCALL_BIT
    ::_exit(14);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "exit " << WEXITSTATUS(status);
  EXPECT_EQ(WTERMSIG(status), SIGSYS);
}

// ---- (d) the runtime installs it

// A core for one process: receives the listener and message, then answers every notification with CONTINUE,
// counting them by number.
class CoreServer {
 public:
  CoreServer() {
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds_) != 0) throw std::runtime_error("socketpair");
    thread_ = std::thread([this] { run(); });
  }
  ~CoreServer() {
    stop_ = true;
    thread_.join();
    for (int fd : fds_) {
      if (fd >= 0) ::close(fd);
    }
  }
  int channel() const { return fds_[1]; }
  // Drops the runtime side once the process has it (so that the receiver sees EOF if nothing comes).
  void close_channel() {
    ::close(fds_[1]);
    fds_[1] = -1;
  }
  pid_t announced() const { return announced_; }
  int count(int nr) {
    std::lock_guard lock(mutex_);
    int n = 0;
    for (const Seen& s : seen_) n += s.nr == nr ? 1 : 0;
    return n;
  }
  std::size_t total() {
    std::lock_guard lock(mutex_);
    return seen_.size();
  }

 private:
  void run() {
    int listener = -1;
    while (!stop_ && listener < 0) {
      pollfd p{fds_[0], POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      pid_t pid = 0;
      if (!receive_listener(fds_[0], listener, pid)) return;
      announced_ = pid;
    }
    while (!stop_ && listener >= 0) {
      pollfd p{listener, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      if (p.revents & POLLIN) {
        // Recorded before the answer lets the process go on: once it has exited, count() sees every call.
        answer_one(listener, seen_, &mutex_);
      } else if (p.revents & (POLLHUP | POLLERR)) {
        break;  // every process of the filter is gone
      }
    }
    if (listener >= 0) ::close(listener);
  }

  int fds_[2] = {-1, -1};
  std::atomic<bool> stop_{false};
  std::atomic<pid_t> announced_{0};
  std::mutex mutex_;
  std::vector<Seen> seen_;
  std::thread thread_;
};

class CoreRuntime : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: containers need namespaces, mounts and cgroups";
    if (!litebox::testing::have_busybox()) GTEST_SKIP() << "needs Debian's busybox-static (/bin/busybox)";
    REQUIRE_ROOT_OR_NNP();
    ::setenv("LITEBOX_TEST_TMPDIR", LITEBOX_TEST_SCRATCH, 1);
    bundle_ = std::make_unique<litebox::testing::Bundle>("core-bundle");
    root_ = litebox::testing::make_scratch_dir("core-state");
    runtime_ = std::make_unique<lh::Runtime>(lh::RuntimeConfig{root_});
    static std::atomic<int> counter{0};
    id_ = "core" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  }
  void TearDown() override {
    if (runtime_) (void)runtime_->remove(id_, true);
    std::error_code ignored;
    if (!root_.empty()) fs::remove_all(root_, ignored);
  }

  oci::Spec spec(std::vector<std::string> args) const {
    auto s = litebox::testing::default_spec(std::move(args));
    s.process->no_new_privileges = GetParam();
    return s;
  }

  // Stdout of a process: a pipe we read until EOF; stdin /dev/null, stderr to our own stderr.
  struct Output {
    int read_end = -1;
    int write_end = -1;
    int null = -1;
    Output() {
      int p[2];
      if (::pipe2(p, O_CLOEXEC) != 0) throw std::runtime_error("pipe2");
      read_end = p[0];
      write_end = p[1];
      null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    }
    ~Output() {
      for (int fd : {read_end, write_end, null}) {
        if (fd >= 0) ::close(fd);
      }
    }
    lh::ProcessStdio stdio() const { return lh::ProcessStdio{{null, write_end, 2}, {}}; }
    std::string drain() {
      ::close(write_end);
      write_end = -1;
      std::string text;
      char buffer[512];
      for (ssize_t n; (n = ::read(read_end, buffer, sizeof buffer)) > 0;) text.append(buffer, static_cast<std::size_t>(n));
      return text;
    }
  };

  // Creates the container of bundle_ with its stdout in `output` and `core_channel` (-1: none).
  auto create_with(Output& output, int core_channel) {
    lh::CreateRequest request;
    request.id = id_;
    request.bundle = bundle_->dir();
    request.io = output.stdio();
    request.core_channel = core_channel;
    return runtime_->create(request);
  }

  static int wait_exit(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
      if (errno != EINTR) return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  std::unique_ptr<litebox::testing::Bundle> bundle_;
  fs::path root_;
  std::unique_ptr<lh::Runtime> runtime_;
  std::string id_;
};

constexpr const char* kScript = "echo hi; ls /proc/self/fd";

TEST_P(CoreRuntime, InitInstallsTheFilterAndSendsItsListener) {
  bundle_->write(spec({"sh", "-c", kScript}));
  CoreServer server;
  Output output;
  auto created = create_with(output, server.channel());
  ASSERT_TRUE(created.ok()) << created.error().message;
  server.close_channel();
  const pid_t pid = created.value().pid;
  auto wait_announced = [&] {
    for (int i = 0; i < 500 && server.announced() == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return server.announced();
  };
  if (GetParam()) {
    // noNewPrivileges: loaded right before execve, after the exec FIFO: nothing yet.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_EQ(server.announced(), 0);
  } else {
    // Without: loaded while the init still has CAP_SYS_ADMIN, before `ready`, which create waited for.
    EXPECT_EQ(wait_announced(), pid);
  }

  ASSERT_TRUE(runtime_->start(id_).ok());
  EXPECT_EQ(wait_announced(), pid);
  const std::string out = output.drain();
  EXPECT_EQ(wait_exit(pid), 0);
  // The table is the spec's: stdio and ls's own directory; no channel or listener left behind.
  EXPECT_EQ(out, "hi\n0\n1\n2\n3\n");
  EXPECT_GE(server.count(SYS_openat), 1);  // ls opening /proc/self/fd
  EXPECT_EQ(server.count(SYS_execve), 0);  // execve and close run natively
  EXPECT_EQ(server.count(SYS_close), 0);
}

TEST_P(CoreRuntime, ExecInstallsTheFilterAndSendsItsListener) {
  bundle_->write(spec({"sleep", "100"}));
  Output init_output;
  auto created = create_with(init_output, -1);
  ASSERT_TRUE(created.ok()) << created.error().message;
  ASSERT_TRUE(runtime_->start(id_).ok());

  auto saved = runtime_->saved_config(id_);
  ASSERT_TRUE(saved.ok());
  lh::ExecRequest exec;
  exec.process = *saved.value().process;
  exec.process.args = {"sh", "-c", kScript};
  CoreServer server;
  Output output;
  exec.io = output.stdio();
  exec.core_channel = server.channel();
  auto started = runtime_->exec(id_, exec);
  ASSERT_TRUE(started.ok()) << started.error().message;
  server.close_channel();
  const std::string out = output.drain();
  EXPECT_EQ(wait_exit(started.value().pid), 0);
  EXPECT_EQ(server.announced(), started.value().pid);
  EXPECT_EQ(out, "hi\n0\n1\n2\n3\n");
  EXPECT_GE(server.count(SYS_openat), 1);
  EXPECT_EQ(server.count(SYS_execve), 0);

  ASSERT_TRUE(runtime_->kill(id_, SIGKILL, false).ok());
  EXPECT_EQ(wait_exit(created.value().pid), 128 + SIGKILL);
}

TEST_P(CoreRuntime, ChannelThatIsNotASocketIsRefused) {
  bundle_->write(spec({"true"}));
  Output output;
  auto created = create_with(output, output.null);
  ASSERT_FALSE(created.ok());
  EXPECT_NE(created.error().message.find("not a unix socket"), std::string::npos) << created.error().message;
}

// The spec's profile still applies under the core's (the stricter action wins).
TEST_P(CoreRuntime, StacksWithTheSpecsProfile) {
  auto s = spec({"sh", "-c", "if mkdir /made; then echo made; else echo refused; fi; ls /proc/self/fd"});
  oci::Seccomp profile;
  profile.default_action = "SCMP_ACT_ALLOW";
  profile.syscalls = {{{"mkdir", "mkdirat"}, "SCMP_ACT_ERRNO", EACCES, {}}};
  s.linux_config->seccomp = profile;
  bundle_->write(s);
  CoreServer server;
  Output output;
  auto created = create_with(output, server.channel());
  ASSERT_TRUE(created.ok()) << created.error().message;
  server.close_channel();
  ASSERT_TRUE(runtime_->start(id_).ok());
  const std::string out = output.drain();
  EXPECT_EQ(wait_exit(created.value().pid), 0);
  EXPECT_EQ(out, "refused\n0\n1\n2\n3\n");
  EXPECT_GE(server.count(SYS_openat), 1);
}

// A spec's profile that forbids seccomp(2) makes loading the core's filter fail: without noNewPrivileges
// create reports it (over the sync channel); with it, the init is past `ready` and exits 1 at start.
TEST_P(CoreRuntime, LoadFailureFailsTheProcess) {
  auto s = spec({"sh", "-c", "echo should not run"});
  oci::Seccomp profile;
  profile.default_action = "SCMP_ACT_ALLOW";
  profile.syscalls = {{{"seccomp"}, "SCMP_ACT_ERRNO", EPERM, {}}};
  s.linux_config->seccomp = profile;
  bundle_->write(s);
  CoreServer server;
  Output output;
  auto created = create_with(output, server.channel());
  if (!GetParam()) {
    ASSERT_FALSE(created.ok());
    EXPECT_NE(created.error().message.find("load the LiteBox core's seccomp filter"), std::string::npos)
        << created.error().message;
    return;
  }
  ASSERT_TRUE(created.ok()) << created.error().message;
  server.close_channel();
  ASSERT_TRUE(runtime_->start(id_).ok());
  EXPECT_EQ(output.drain(), "");
  EXPECT_EQ(wait_exit(created.value().pid), 1);
  EXPECT_EQ(server.announced(), 0);
}

// The kernel gives a process one listener: a spec's SCMP_ACT_NOTIFY and the core's filter cannot stack.
TEST_P(CoreRuntime, SpecListenerIsRefused) {
  auto s = spec({"true"});
  oci::Seccomp profile;
  profile.default_action = "SCMP_ACT_ALLOW";
  profile.listener_path = "/run/nobody-listens.sock";
  profile.syscalls = {{{"mkdir"}, "SCMP_ACT_NOTIFY", {}, {}}};
  s.linux_config->seccomp = profile;
  bundle_->write(s);
  CoreServer server;
  Output output;
  auto created = create_with(output, server.channel());
  ASSERT_FALSE(created.ok());
  EXPECT_NE(created.error().message.find("SCMP_ACT_NOTIFY"), std::string::npos) << created.error().message;
}

INSTANTIATE_TEST_SUITE_P(NoNewPrivileges, CoreRuntime, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& param_info) {
                           return param_info.param ? std::string("NoNewPrivs") : std::string("Privileged");
                         });

}  // namespace
