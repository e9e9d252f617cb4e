// The real containerd-shim-litebox-v1 binary serving containerd's task service over gRPC, end to end, the way
// containerd 2.x drives it: `start` with the runtime options {"transport":"grpc"} on stdin answers with the
// JSON version 3 address, then a grpc++ client (GenericStub on the unix socket) runs a busybox container through
// Connect, Create, State, Start || Wait, State, Delete and Shutdown, and the server goes away with its socket.
// Also `-info` and `-v`, which need no server.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>

#include "container_bundle.hpp"
#include "options.pb.h"
#include "shim_version.hpp"
#include "wire.pb.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// `-info`: containerd 2.x asks the runtime what it is before using it (a raw protobuf RuntimeInfo on stdout).
TEST(ShimBinary, InfoPrintsRuntimeInfo) {
  auto info = litebox::testing::run_command({LITEBOX_SHIM_BINARY, "-info"}, {}, 30);
  ASSERT_EQ(info.exit_code, 0) << info.err;
  litebox::shim::options::RuntimeInfo parsed;
  ASSERT_TRUE(parsed.ParseFromString(info.out)) << "not a RuntimeInfo: " << info.out.size() << " bytes";
  EXPECT_EQ(parsed.name(), "io.containerd.litebox.v1");
  EXPECT_EQ(parsed.version().version(), litebox::shim::shim_version());
  EXPECT_FALSE(parsed.version().revision().empty());
  EXPECT_EQ(parsed.features().type_url(), "types.containerd.io/opencontainers/runtime-spec/1/features/Features");
  boost::system::error_code ec;
  auto features = boost::json::parse(parsed.features().value(), ec);
  EXPECT_FALSE(ec) << parsed.features().value();
  EXPECT_TRUE(features.is_object()) << parsed.features().value();
}

TEST(ShimBinary, VersionFlagPrintsTheVersion) {
  auto version = litebox::testing::run_command({LITEBOX_SHIM_BINARY, "-v"}, {}, 30);
  ASSERT_EQ(version.exit_code, 0) << version.err;
  EXPECT_EQ(version.out.rfind("containerd-shim-litebox-v1:\n", 0), 0u) << version.out;
  EXPECT_NE(version.out.find(std::string("Version:  ") + litebox::shim::shim_version() + "\n"), std::string::npos)
      << version.out;
  EXPECT_NE(version.out.find("Revision: "), std::string::npos) << version.out;
}

}  // namespace

#ifndef LITEBOX_SHIM_GRPC_MODULE

TEST(GrpcShim, RequiresTheModule) {
  GTEST_SKIP() << "litebox-shim-grpc was not built (grpc++ not found by CMake): install libgrpc++-dev and reconfigure";
}

#else

#include <future>
#include <memory>
#include <mutex>
#include <optional>

#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/byte_buffer.h>

#include "busybox_rootfs.hpp"
#include "shim_config.hpp"
#include "shim_socket.hpp"
#include "task.pb.h"

namespace {

namespace task = containerd::task::v3;
namespace types = containerd::types;

constexpr const char* kNamespace = "lbxgrpctest";
constexpr const char* kService = "/containerd.task.v3.Task/";
constexpr std::int64_t kGoZeroTimeSeconds = -62135596800;  // "not exited", as runc reports it

// ---- processes -------------------------------------------------------------------------------------------

struct Ran {
  int exit_code = -1;  // -1: killed by a signal or never waited for
  bool timed_out = false;
  std::string out;  // stdout, plus stderr when merged
  std::string err;
};

// Runs `argv` with `env` in `cwd`, feeding `input`, until its output pipes reach EOF (not merely until it
// exits: a server it leaves behind holding them would keep them open) or `limit` passes.
Ran run_in(const std::vector<std::string>& argv, const std::vector<std::string>& env, const std::string& cwd,
           const std::string& input, bool merge_stderr, std::chrono::milliseconds limit) {
  Ran ran;
  int in[2], out[2], err[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
    ran.err = "pipe2: " + std::string(std::strerror(errno));
    return ran;
  }
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  const pid_t pid = ::fork();
  if (pid == 0) {
    if (::chdir(cwd.c_str()) != 0) ::_exit(126);
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::dup2(merge_stderr ? out[1] : err[1], 2);
    ::execve(args[0], args.data(), envp.data());
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  if (pid < 0) {
    ::close(in[1]);
    ::close(out[0]);
    ::close(err[0]);
    ran.err = "fork: " + std::string(std::strerror(errno));
    return ran;
  }
  ::signal(SIGPIPE, SIG_IGN);
  for (std::size_t done = 0; done < input.size();) {
    const ssize_t n = ::write(in[1], input.data() + done, input.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  ::close(in[1]);

  const auto deadline = std::chrono::steady_clock::now() + limit;
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  std::string* sinks[2] = {&ran.out, &ran.err};
  int open_count = 2;
  while (open_count > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left <= 0ms) {
      ran.timed_out = true;
      break;
    }
    const int ready = ::poll(fds, 2, static_cast<int>(std::min<std::chrono::milliseconds::rep>(left.count(), 200)));
    if (ready < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buffer[4096];
      const ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        sinks[i]->append(buffer, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_count;
      }
    }
  }
  for (auto& f : fds) {
    if (f.fd >= 0) ::close(f.fd);
  }
  if (ran.timed_out) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  ran.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return ran;
}

// The parent pid of `pid` (0 when it is gone).
pid_t parent_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto paren = text.rfind(')');
  if (paren == std::string::npos || paren + 4 >= text.size()) return 0;
  return static_cast<pid_t>(std::atol(text.c_str() + paren + 4));  // ") S <ppid> ..."
}

// Waits for `pid` (our child: we are the subreaper its `start` orphaned it to) to exit; its wait status.
std::optional<int> wait_gone(pid_t pid, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    const pid_t got = ::waitpid(pid, &status, WNOHANG);
    if (got == pid) return status;
    if (got < 0 && errno == ECHILD) {
      // Not ours after all: it is gone when /proc no longer has it (a zombie of someone else counts as gone).
      std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      const auto paren = text.rfind(')');
      if (!in || paren == std::string::npos || text.compare(paren, 3, ") Z") == 0) return 0;
    }
    std::this_thread::sleep_for(20ms);
  }
  return std::nullopt;
}

// Our children running the shim binary (servers orphaned to us).
std::vector<pid_t> shim_children() {
  std::vector<pid_t> found;
  std::error_code ec;
  const auto binary = fs::weakly_canonical(LITEBOX_SHIM_BINARY, ec);
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const auto pid = static_cast<pid_t>(std::stol(name));
    if (parent_of(pid) != ::getpid()) continue;
    std::error_code link_ec;
    if (fs::read_symlink(entry.path() / "exe", link_ec) == binary) found.push_back(pid);
  }
  return found;
}

// ---- FIFOs -------------------------------------------------------------------------------------------------

// Reads the non-blocking FIFO `fd` into `into` until it contains `needle` or `limit` passes.
bool read_fifo_until(int fd, const std::string& needle, std::string& into, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (into.find(needle) == std::string::npos) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    char buffer[4096];
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n > 0) {
      into.append(buffer, static_cast<std::size_t>(n));
    } else {
      std::this_thread::sleep_for(20ms);  // no writer (POLLHUP) or EAGAIN
    }
  }
  return true;
}

// containerd's <bundle>/log FIFO: the server dup2s it to its stderr. Drained on a thread, shown on failure.
class LogFifo {
 public:
  explicit LogFifo(const fs::path& path) {
    if (::mkfifo(path.c_str(), 0600) != 0) return;
    fd_ = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd_ >= 0) thread_ = std::thread([this] { drain(); });
  }
  ~LogFifo() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
  }
  LogFifo(const LogFifo&) = delete;
  LogFifo& operator=(const LogFifo&) = delete;
  std::string text() {
    std::lock_guard lock(mu_);
    return text_;
  }

 private:
  void drain() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char buffer[4096];
      const ssize_t n = ::read(fd_, buffer, sizeof buffer);
      if (n > 0) {
        std::lock_guard lock(mu_);
        text_.append(buffer, static_cast<std::size_t>(n));
      } else {
        std::this_thread::sleep_for(50ms);
      }
    }
  }
  int fd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::string text_;
};

// ---- the gRPC client ---------------------------------------------------------------------------------------

struct Reply {
  grpc::Status status;
  std::string bytes;
};

// Unary calls through a GenericStub, as containerd's generated client makes them. Every call's state (its
// ClientContext holds a reference to the channel) is released on the test's thread, never on gRPC's callback
// thread: dropping the last channel reference there makes grpc 1.51 tear down its callback completion queue from
// one of that queue's own threads.
class Client {
 public:
  explicit Client(const std::string& target)
      : channel_(grpc::CreateChannel(target, grpc::InsecureChannelCredentials())),
        stub_(std::make_unique<grpc::GenericStub>(channel_)) {}
  ~Client() {
    // Leaving early (a failed assertion): cancel what is still in flight (a Wait) rather than wait it out.
    for (auto& [state, finished] : calls_) {
      if (finished.wait_for(0s) != std::future_status::ready) state->ctx.TryCancel();
    }
    release();
    stub_.reset();
    channel_.reset();
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  std::future<Reply> call_async(const std::string& method, const std::string& request,
                                std::chrono::milliseconds timeout) {
    auto c = std::make_shared<Call>();
    c->ctx.AddMetadata("containerd-namespace", kNamespace);
    c->ctx.set_deadline(std::chrono::system_clock::now() + timeout);
    grpc::Slice slice(request);
    c->request = grpc::ByteBuffer(&slice, 1);
    auto future = c->reply.get_future();
    calls_.push_back({c, c->finished.get_future()});
    Call* raw = c.get();
    stub_->UnaryCall(&raw->ctx, method, grpc::StubOptions(), &raw->request, &raw->response,
                     [raw](grpc::Status status) {
                       Reply reply{std::move(status), {}};
                       std::vector<grpc::Slice> slices;
                       if (reply.status.ok() && raw->response.Valid() && raw->response.Dump(&slices).ok()) {
                         for (const auto& s : slices) {
                           reply.bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
                         }
                       }
                       raw->reply.set_value(std::move(reply));
                       raw->finished.set_value();  // last: the state may be released from here on
                     });
    return future;
  }

  Reply call(const std::string& method, const std::string& request, std::chrono::milliseconds timeout = 30s) {
    auto f = call_async(method, request, timeout);
    if (f.wait_for(timeout + 10s) != std::future_status::ready) {
      return {grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "the client never completed " + method), {}};
    }
    return f.get();
  }

  // Waits for every call's callback, then drops their state, here.
  void release() {
    for (auto& [state, finished] : calls_) {
      if (finished.wait_for(60s) != std::future_status::ready) {
        ADD_FAILURE() << "a gRPC call never completed";
        new std::shared_ptr<Call>(state);  // leak rather than free under gRPC's feet
      }
    }
    calls_.clear();
  }

 private:
  struct Call {
    grpc::ClientContext ctx;
    grpc::ByteBuffer request;
    grpc::ByteBuffer response;
    std::promise<Reply> reply;
    std::promise<void> finished;
  };
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<grpc::GenericStub> stub_;
  std::vector<std::pair<std::shared_ptr<Call>, std::future<void>>> calls_;
};

std::string describe(const grpc::Status& status) {
  return "gRPC status " + std::to_string(static_cast<int>(status.error_code())) + " \"" + status.error_message() + "\"";
}

// A typed call of the task service: success with a parsed response, or a failure that says why.
template <typename Response>
::testing::AssertionResult rpc(Client& client, const std::string& method, const google::protobuf::MessageLite& request,
                               Response& response, std::chrono::milliseconds timeout = 30s) {
  Reply reply = client.call(kService + method, request.SerializeAsString(), timeout);
  if (!reply.status.ok()) return ::testing::AssertionFailure() << method << ": " << describe(reply.status);
  if (!response.ParseFromString(reply.bytes)) {
    return ::testing::AssertionFailure() << method << ": malformed " << response.GetTypeName() << " ("
                                         << reply.bytes.size() << " bytes)";
  }
  return ::testing::AssertionSuccess();
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The runtime options containerd passes on `start`'s stdin: Any{runtimeoptions.v1.Options{config_body}}.
std::string runtime_options(const std::string& config_body) {
  litebox::shim::options::RuntimeOptions options;
  options.set_type_url("runtimeoptions.v1.Options");
  options.set_config_body(config_body);
  litebox::wire::Any any;
  any.set_type_url("runtimeoptions.v1.Options");
  options.SerializeToString(any.mutable_value());
  return any.SerializeAsString();
}

// ---- the fixture ---------------------------------------------------------------------------------------------

class GrpcShim : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: the shim creates containers (namespaces, mounts, cgroups)";
    if (!litebox::testing::have_busybox()) GTEST_SKIP() << "needs Debian's busybox-static (/bin/busybox)";
    ::setenv("LITEBOX_TEST_TMPDIR", LITEBOX_TEST_SCRATCH, 1);
    // The server `start` leaves behind is orphaned to us, as it would be to containerd's init: we wait for it.
    ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1UL, 0UL, 0UL, 0UL), 0) << std::strerror(errno);

    id_ = "lbxgrpc-" + std::to_string(::getpid());
    containerd_address_ = "/run/lbx-grpc-test-" + std::to_string(::getpid()) + ".sock";
    bundle_ = std::make_unique<litebox::testing::Bundle>("grpc-shim-bundle");
    bundle_->write(litebox::testing::default_spec({"/bin/sh", "-c", "echo out-$((6*7)); exit 3"}));
    log_ = std::make_unique<LogFifo>(bundle_->dir() / "log");

    io_dir_ = litebox::testing::make_scratch_dir("grpc-shim-io");
    stdout_path_ = (io_dir_ / "stdout").string();
    ASSERT_EQ(::mkfifo(stdout_path_.c_str(), 0600), 0) << std::strerror(errno);
    stdout_fd_ = ::open(stdout_path_.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    ASSERT_GE(stdout_fd_, 0) << std::strerror(errno);
  }

  void TearDown() override {
    if (!bundle_) return;  // skipped
    if (shim_pid_ > 0) {
      ADD_FAILURE() << "the shim (pid " << shim_pid_ << ") was still running: killed";
      ::kill(shim_pid_, SIGKILL);
      (void)wait_gone(shim_pid_, 10s);
      shim_pid_ = 0;
    }
    for (pid_t pid : shim_children()) {  // a server we never learnt the pid of (start or Connect failed)
      ADD_FAILURE() << "a shim process (pid " << pid << ") was left behind: killed";
      ::kill(pid, SIGKILL);
      (void)wait_gone(pid, 10s);
    }
    if (started_ && !deleted_) {
      // containerd's clean-up for a shim that failed: must work with no server running.
      auto deleted = run_delete();
      EXPECT_EQ(deleted.exit_code, 0) << deleted.err;
      task::DeleteResponse response;
      EXPECT_TRUE(response.ParseFromString(deleted.out)) << "delete printed no DeleteResponse: " << deleted.out;
    }
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }  // what else was orphaned to us
    if (log_ && HasFailure()) std::cerr << "---- shim log ----\n" << log_->text() << "---- end of shim log ----\n";
    log_.reset();
    if (stdout_fd_ >= 0) ::close(stdout_fd_);
    std::error_code ignored;
    fs::remove_all(io_dir_, ignored);
    bundle_.reset();
    fs::remove(fs::path(litebox::shim::kDefaultRuntimeRoot) / kNamespace, ignored);  // only when empty
  }

  std::vector<std::string> shim_env() const {
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string_view entry(*e);
      if (entry.starts_with("TTRPC_ADDRESS=") || entry.starts_with("GRPC_ADDRESS=") ||
          entry.starts_with("LITEBOX_SHIM_GRPC_MODULE=")) {
        continue;
      }
      env.emplace_back(entry);
    }
    env.push_back(std::string("LITEBOX_SHIM_GRPC_MODULE=") + LITEBOX_SHIM_GRPC_MODULE);
    return env;
  }

  Ran run_start(const std::string& options) {
    started_ = true;
    return run_in({LITEBOX_SHIM_BINARY, "-namespace", kNamespace, "-address", containerd_address_, "-publish-binary",
                   "/bin/false", "-id", id_, "start"},
                  shim_env(), bundle_->dir().string(), options, /*merge_stderr=*/true, 30s);
  }

  Ran run_delete() {
    Ran ran = run_in({LITEBOX_SHIM_BINARY, "-namespace", kNamespace, "-address", containerd_address_, "-id", id_,
                      "-bundle", bundle_->dir().string(), "delete"},
                     shim_env(), bundle_->dir().string(), {}, /*merge_stderr=*/false, 30s);
    deleted_ = true;
    return ran;
  }

  std::string id_;
  std::string containerd_address_;
  std::unique_ptr<litebox::testing::Bundle> bundle_;
  std::unique_ptr<LogFifo> log_;
  fs::path io_dir_;
  std::string stdout_path_;
  int stdout_fd_ = -1;
  pid_t shim_pid_ = 0;
  bool started_ = false;
  bool deleted_ = false;
};

TEST_F(GrpcShim, ServesTheTaskServiceEndToEnd) {
  // --- start, as containerd runs it: stdout and stderr are one stream, read until EOF.
  const Ran started = run_start(runtime_options(R"({"transport":"grpc"})"));
  ASSERT_FALSE(started.timed_out) << "start's output never reached EOF: the server keeps containerd's pipe open? "
                                  << "output so far: " << started.out;
  ASSERT_EQ(started.exit_code, 0) << started.out;
  boost::system::error_code ec;
  const boost::json::value answer = boost::json::parse(started.out, ec);
  ASSERT_FALSE(ec) << "start's output is not JSON: \"" << started.out << "\"";
  ASSERT_TRUE(answer.is_object()) << started.out;
  const auto& fields = answer.as_object();
  EXPECT_EQ(fields.size(), 3u) << started.out;
  ASSERT_TRUE(fields.contains("version") && fields.at("version").is_int64()) << started.out;
  EXPECT_EQ(fields.at("version").as_int64(), 3) << started.out;
  ASSERT_TRUE(fields.contains("protocol") && fields.at("protocol").is_string()) << started.out;
  EXPECT_EQ(fields.at("protocol").as_string(), "grpc") << started.out;
  ASSERT_TRUE(fields.contains("address") && fields.at("address").is_string()) << started.out;
  // The bare path: containerd 2.x dials it with net.Dial("unix", ...) and adds unix:// for grpc itself.
  const std::string socket_path(fields.at("address").as_string());
  ASSERT_EQ(socket_path.rfind("/run/containerd/s/", 0), 0u) << socket_path;
  EXPECT_EQ(socket_path, litebox::shim::shim_socket_path(containerd_address_, kNamespace, id_));
  EXPECT_EQ(read_text(bundle_->dir() / "address"), started.out);  // containerd 1.7's restart re-reads it
  struct stat st {};
  ASSERT_EQ(::stat(socket_path.c_str(), &st), 0) << socket_path << ": " << std::strerror(errno);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u);

  Client client("unix:" + socket_path);

  // --- Connect: the server's pid, before any task.
  task::ConnectRequest connect;
  connect.set_id(id_);
  task::ConnectResponse connected;
  ASSERT_TRUE(rpc(client, "Connect", connect, connected));
  ASSERT_GT(connected.shim_pid(), 0u);
  shim_pid_ = static_cast<pid_t>(connected.shim_pid());
  EXPECT_EQ(connected.task_pid(), 0u);
  EXPECT_EQ(parent_of(shim_pid_), ::getpid()) << "the shim_pid Connect reported is not the server `start` left";

  // --- Create: the init parked, stdout the FIFO.
  task::CreateTaskRequest create;
  create.set_id(id_);
  create.set_bundle(bundle_->dir().string());
  create.set_stdout(stdout_path_);
  create.set_terminal(false);
  task::CreateTaskResponse created;
  ASSERT_TRUE(rpc(client, "Create", create, created, 60s));
  const std::uint32_t task_pid = created.pid();
  ASSERT_GT(task_pid, 0u);

  task::StateRequest state_request;
  state_request.set_id(id_);
  task::StateResponse state;
  ASSERT_TRUE(rpc(client, "State", state_request, state));
  EXPECT_EQ(state.id(), id_);
  EXPECT_EQ(state.status(), types::CREATED);
  EXPECT_EQ(state.pid(), task_pid);
  EXPECT_EQ(state.bundle(), bundle_->dir().string());
  EXPECT_EQ(state.stdout(), stdout_path_);
  EXPECT_FALSE(state.terminal());
  EXPECT_EQ(state.exited_at().seconds(), kGoZeroTimeSeconds);

  ASSERT_TRUE(rpc(client, "Connect", connect, connected));
  EXPECT_EQ(connected.task_pid(), task_pid);
  EXPECT_EQ(connected.shim_pid(), static_cast<std::uint32_t>(shim_pid_));

  // --- Start || Wait, as `ctr run` does: Wait is in flight while Start runs.
  task::WaitRequest wait_request;
  wait_request.set_id(id_);
  auto waiting = client.call_async(kService + std::string("Wait"), wait_request.SerializeAsString(), 120s);
  task::StartRequest start;
  start.set_id(id_);
  task::StartResponse start_response;
  ASSERT_TRUE(rpc(client, "Start", start, start_response, 60s));
  EXPECT_EQ(start_response.pid(), task_pid);

  ASSERT_EQ(waiting.wait_for(60s), std::future_status::ready) << "Wait did not return after the task exited";
  const Reply waited = waiting.get();
  ASSERT_TRUE(waited.status.ok()) << "Wait: " << describe(waited.status);
  task::WaitResponse wait_response;
  ASSERT_TRUE(wait_response.ParseFromString(waited.bytes));
  EXPECT_EQ(wait_response.exit_status(), 3u);
  EXPECT_GT(wait_response.exited_at().seconds(), 0);

  std::string output;
  EXPECT_TRUE(read_fifo_until(stdout_fd_, "out-42\n", output, 10s)) << "stdout FIFO gave \"" << output << "\"";
  EXPECT_EQ(output, "out-42\n");

  ASSERT_TRUE(rpc(client, "State", state_request, state));
  EXPECT_EQ(state.status(), types::STOPPED);
  EXPECT_EQ(state.exit_status(), 3u);
  EXPECT_EQ(state.pid(), task_pid);
  EXPECT_EQ(state.exited_at().seconds(), wait_response.exited_at().seconds());
  EXPECT_EQ(state.exited_at().nanos(), wait_response.exited_at().nanos());

  // --- Delete: the task's exit, and then it is gone.
  task::DeleteRequest delete_request;
  delete_request.set_id(id_);
  task::DeleteResponse delete_response;
  ASSERT_TRUE(rpc(client, "Delete", delete_request, delete_response, 60s));
  EXPECT_EQ(delete_response.exit_status(), 3u);
  EXPECT_EQ(delete_response.pid(), task_pid);
  EXPECT_EQ(delete_response.exited_at().seconds(), wait_response.exited_at().seconds());

  // --- Errors arrive as gRPC status codes.
  Reply unknown = client.call(kService + std::string("Frobnicate"), "");
  EXPECT_EQ(unknown.status.error_code(), grpc::StatusCode::UNIMPLEMENTED) << describe(unknown.status);
  Reply gone = client.call(kService + std::string("State"), state_request.SerializeAsString());
  EXPECT_EQ(gone.status.error_code(), grpc::StatusCode::NOT_FOUND) << describe(gone.status);
  task::StateRequest missing;
  missing.set_id("no-such-task");
  Reply not_found = client.call(kService + std::string("State"), missing.SerializeAsString());
  EXPECT_EQ(not_found.status.error_code(), grpc::StatusCode::NOT_FOUND) << describe(not_found.status);
  EXPECT_NE(not_found.status.error_message().find("no-such-task"), std::string::npos) << describe(not_found.status);

  // --- Shutdown: no task left, so the server exits and removes its socket.
  task::ShutdownRequest shutdown;
  shutdown.set_id(id_);
  litebox::wire::Empty empty;
  ASSERT_TRUE(rpc(client, "Shutdown", shutdown, empty));
  client.release();
  const auto exited = wait_gone(shim_pid_, 20s);
  ASSERT_TRUE(exited.has_value()) << "the shim (pid " << shim_pid_ << ") did not exit after Shutdown";
  shim_pid_ = 0;
  EXPECT_TRUE(WIFEXITED(*exited) && WEXITSTATUS(*exited) == 0) << "shim wait status " << *exited;
  EXPECT_FALSE(fs::exists(socket_path)) << socket_path << " outlived the server";

  // --- containerd runs `delete` after every teardown: with no server, nothing left, it still answers.
  const Ran deleted = run_delete();
  EXPECT_EQ(deleted.exit_code, 0) << deleted.err;
  task::DeleteResponse cleanup;
  ASSERT_TRUE(cleanup.ParseFromString(deleted.out)) << "delete printed no DeleteResponse: " << deleted.out;
  EXPECT_EQ(cleanup.pid(), 0u);  // the task was already deleted
  EXPECT_GT(cleanup.exited_at().seconds(), 0);
}

}  // namespace

#endif  // LITEBOX_SHIM_GRPC_MODULE
