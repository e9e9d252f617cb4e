// The gRPC transport module, loaded through GrpcTransport and called by a real grpc++ client (GenericStub on a
// unix: address) with the shim's task messages as payloads.
#include <gtest/gtest.h>

#include "grpc_transport.hpp"

#ifndef LITEBOX_SHIM_GRPC_MODULE

TEST(GrpcTransport, RequiresTheModule) {
  GTEST_SKIP() << "litebox-shim-grpc was not built (grpc++ not found by CMake): install libgrpc++-dev and reconfigure";
}

#else

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/byte_buffer.h>

#include "task.pb.h"

namespace {

using litebox::shim::CallContext;
using litebox::shim::GrpcTransport;
using litebox::shim::RpcStatus;
using litebox::shim::ServiceRegistry;
using litebox::shim::StatusCode;
namespace task = containerd::task::v3;
using namespace std::chrono_literals;

constexpr const char* kService = "containerd.task.v3.Task";

// Released once; handlers blocked on it return.
class Gate {
 public:
  void open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  void wait() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return open_; });
  }
  void entered() {
    std::lock_guard lock(mu_);
    ++entered_;
    cv_.notify_all();
  }
  bool wait_entered(int n, std::chrono::milliseconds limit) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, limit, [&] { return entered_ >= n; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
  int entered_ = 0;
};

struct Reply {
  grpc::Status status;
  std::string bytes;
};

class GrpcTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir_template[] = "/tmp/litebox-grpc-XXXXXX";
    ASSERT_NE(::mkdtemp(dir_template), nullptr);
    dir_ = dir_template;
    socket_ = dir_ + "/shim.sock";
    ::setenv(GrpcTransport::kModuleEnv, LITEBOX_SHIM_GRPC_MODULE, 1);

    registry_.add(kService, "State", [this](const CallContext& ctx, std::string_view request, std::string& response) {
      task::StateRequest in;
      if (!in.ParseFromArray(request.data(), static_cast<int>(request.size()))) {
        return RpcStatus::error(StatusCode::invalid_argument, "bad StateRequest");
      }
      task::StateResponse out;
      out.set_id(in.id());
      out.set_exec_id(in.exec_id());
      out.set_pid(42);
      for (const auto& [key, value] : ctx.metadata) {
        if (key == "containerd-namespace") out.set_bundle("/run/" + value + "/" + in.id());
      }
      out.set_stdout(ctx.service + "/" + ctx.method);
      ++state_calls_;
      out.SerializeToString(&response);
      return RpcStatus::success();
    });
    registry_.add(kService, "Kill", [](const CallContext&, std::string_view, std::string&) {
      return RpcStatus::error(StatusCode::not_found, "process abc: not found");
    });
    registry_.add(kService, "Shutdown", [](const CallContext&, std::string_view, std::string& response) {
      response.clear();  // google.protobuf.Empty
      return RpcStatus::success();
    });
    registry_.add(kService, "Stats", [](const CallContext&, std::string_view, std::string&) -> RpcStatus {
      throw std::runtime_error("stats exploded");
    });
    registry_.add(kService, "Update", [](const CallContext&, std::string_view, std::string&) {
      return RpcStatus::error(static_cast<StatusCode>(99), "odd code");
    });
    registry_.add(kService, "Pids", [this](const CallContext& ctx, std::string_view, std::string&) {
      std::lock_guard lock(mu_);
      seen_deadline_ = ctx.deadline;
      seen_deadline_at_ = std::chrono::steady_clock::now();
      return RpcStatus::success();
    });
    registry_.add(kService, "Wait", [this](const CallContext&, std::string_view, std::string& response) {
      gate_.entered();
      gate_.wait();
      task::WaitResponse out;
      out.set_exit_status(7);
      out.SerializeToString(&response);
      return RpcStatus::success();
    });
  }

  void TearDown() override {
    gate_.open();  // never leave a handler blocked
    transport_.reset();
    release_calls();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  GrpcTransport& serve() {
    auto loaded = GrpcTransport::load();
    EXPECT_TRUE(loaded.ok()) << (loaded.ok() ? "" : loaded.error().message);
    if (!loaded.ok()) throw std::runtime_error("load failed");
    transport_.emplace(std::move(loaded).value());
    auto served = transport_->serve(registry_, socket_);
    EXPECT_TRUE(served.ok()) << (served.ok() ? "" : served.error().message);
    if (!served.ok()) throw std::runtime_error("serve failed");
    return *transport_;
  }

  std::unique_ptr<grpc::GenericStub> stub() {
    auto channel = grpc::CreateChannel("unix:" + socket_, grpc::InsecureChannelCredentials());
    return std::make_unique<grpc::GenericStub>(channel);
  }

  // A unary call, answered through the future. The call's state (its ClientContext holds a reference to the
  // channel) is released here on the test's thread, never on gRPC's callback thread: dropping the last channel
  // reference there makes grpc 1.51 tear down its callback completion queue from one of that queue's own
  // threads (a double free under ASan).
  struct Call {
    std::shared_ptr<grpc::ClientContext> ctx;
    grpc::ByteBuffer request;
    grpc::ByteBuffer response;
    std::promise<Reply> reply;
    std::promise<void> finished;  // set last by the callback
  };

  std::future<Reply> call_async(grpc::GenericStub& stub, const std::string& method, const std::string& request,
                                std::optional<std::chrono::milliseconds> timeout = std::nullopt,
                                std::shared_ptr<grpc::ClientContext> ctx = nullptr) {
    auto c = std::make_shared<Call>();
    c->ctx = ctx ? std::move(ctx) : std::make_shared<grpc::ClientContext>();
    c->ctx->AddMetadata("containerd-namespace", "k8s.io");
    if (timeout) c->ctx->set_deadline(std::chrono::system_clock::now() + *timeout);
    grpc::Slice slice(request);
    c->request = grpc::ByteBuffer(&slice, 1);
    auto future = c->reply.get_future();
    {
      std::lock_guard lock(mu_);
      calls_.push_back({c, c->finished.get_future()});
    }
    Call* raw = c.get();
    stub.UnaryCall(raw->ctx.get(), method, grpc::StubOptions(), &raw->request, &raw->response,
                   [raw](grpc::Status status) {
                     Reply reply{std::move(status), {}};
                     std::vector<grpc::Slice> slices;
                     if (reply.status.ok() && raw->response.Valid() && raw->response.Dump(&slices).ok()) {
                       for (const auto& sl : slices) {
                         reply.bytes.append(reinterpret_cast<const char*>(sl.begin()), sl.size());
                       }
                     }
                     raw->reply.set_value(std::move(reply));
                     raw->finished.set_value();
                   });
    return future;
  }

  // Waits for every call's callback, then releases their state, on this thread.
  void release_calls() {
    std::vector<std::pair<std::shared_ptr<Call>, std::future<void>>> calls;
    {
      std::lock_guard lock(mu_);
      calls.swap(calls_);
    }
    for (auto& [call, finished] : calls) {
      if (finished.wait_for(30s) != std::future_status::ready) {
        ADD_FAILURE() << "a client call never completed";
        new std::shared_ptr<Call>(call);  // leak rather than free under gRPC's feet
      }
    }
  }

  Reply call(grpc::GenericStub& stub, const std::string& method, const std::string& request,
                    std::optional<std::chrono::milliseconds> timeout = 10s) {
    auto f = call_async(stub, method, request, timeout);
    EXPECT_EQ(f.wait_for(20s), std::future_status::ready) << method;
    return f.get();
  }

  static std::string state_request(const std::string& id) {
    task::StateRequest r;
    r.set_id(id);
    r.set_exec_id("exec-" + id);
    return r.SerializeAsString();
  }

  std::string dir_;
  std::string socket_;
  ServiceRegistry registry_;
  Gate gate_;
  std::atomic<int> state_calls_{0};
  std::mutex mu_;
  std::optional<std::chrono::steady_clock::time_point> seen_deadline_;
  std::chrono::steady_clock::time_point seen_deadline_at_;
  std::optional<GrpcTransport> transport_;
  std::vector<std::pair<std::shared_ptr<Call>, std::future<void>>> calls_;
};

TEST_F(GrpcTransportTest, LoadErrorsAreActionable) {
  auto missing = GrpcTransport::load_from(dir_ + "/nope.so");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find(dir_ + "/nope.so"), std::string::npos) << missing.error().message;
  EXPECT_NE(missing.error().message.find("LITEBOX_SHIM_GRPC_MODULE"), std::string::npos) << missing.error().message;

  ::setenv(GrpcTransport::kModuleEnv, (dir_ + "/absent.so").c_str(), 1);
  auto candidates = GrpcTransport::module_candidates();
  ASSERT_EQ(candidates.size(), 1u);
  auto absent = GrpcTransport::load();
  ASSERT_FALSE(absent.ok());
  EXPECT_NE(absent.error().message.find("not found"), std::string::npos) << absent.error().message;
  EXPECT_NE(absent.error().message.find(dir_ + "/absent.so"), std::string::npos) << absent.error().message;

  ::unsetenv(GrpcTransport::kModuleEnv);
  candidates = GrpcTransport::module_candidates();
  ASSERT_EQ(candidates.size(), 2u);
  EXPECT_NE(candidates[0].find("/litebox-shim-grpc.so"), std::string::npos);
  // ../<libdir>/containerd-shim-litebox-v1/ from the shim's folder: lib, or lib/<multiarch> with prefix /usr.
  EXPECT_NE(candidates[1].find("/../lib/"), std::string::npos) << candidates[1];
  EXPECT_TRUE(candidates[1].ends_with("/containerd-shim-litebox-v1/litebox-shim-grpc.so")) << candidates[1];

  auto not_module = GrpcTransport::load_from("libz.so.1");  // a shared object without the entry point
  ASSERT_FALSE(not_module.ok());
  EXPECT_NE(not_module.error().message.find("entry point"), std::string::npos) << not_module.error().message;

  auto good = GrpcTransport::load_from(LITEBOX_SHIM_GRPC_MODULE);
  ASSERT_TRUE(good.ok()) << good.error().message;
  EXPECT_EQ(good.value().grpc_version().rfind("1.", 0), 0u) << good.value().grpc_version();
}

TEST_F(GrpcTransportTest, SocketIsPrivateAndRefusedIfPresent) {
  serve();
  struct stat st {};
  ASSERT_EQ(::stat(socket_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u);

  auto second = GrpcTransport::load();
  ASSERT_TRUE(second.ok());
  auto again = second.value().serve(registry_, socket_);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message.find("Address already in use"), std::string::npos) << again.error().message;

  auto relative = second.value().serve(registry_, "shim.sock");
  ASSERT_FALSE(relative.ok());
  EXPECT_NE(relative.error().message.find("not absolute"), std::string::npos);
  auto too_long = second.value().serve(registry_, "/" + std::string(120, 'x'));
  ASSERT_FALSE(too_long.ok());
  EXPECT_NE(too_long.error().message.find("too long"), std::string::npos);
}

TEST_F(GrpcTransportTest, BytesRoundTrip) {
  serve();
  auto s = stub();
  Reply r = call(*s, "/containerd.task.v3.Task/State", state_request("c1"));
  ASSERT_TRUE(r.status.ok()) << r.status.error_code() << " " << r.status.error_message();
  task::StateResponse out;
  ASSERT_TRUE(out.ParseFromString(r.bytes));
  EXPECT_EQ(out.id(), "c1");
  EXPECT_EQ(out.exec_id(), "exec-c1");
  EXPECT_EQ(out.pid(), 42u);
  EXPECT_EQ(out.bundle(), "/run/k8s.io/c1");  // metadata reached the handler
  EXPECT_EQ(out.stdout(), "containerd.task.v3.Task/State");

  Reply empty = call(*s, "/containerd.task.v3.Task/Shutdown", "");
  ASSERT_TRUE(empty.status.ok()) << empty.status.error_message();
  EXPECT_TRUE(empty.bytes.empty());

  // A large message (1 MiB id) both ways.
  Reply big = call(*s, "/containerd.task.v3.Task/State", state_request(std::string(1 << 20, 'b')));
  ASSERT_TRUE(big.status.ok()) << big.status.error_message();
  ASSERT_TRUE(out.ParseFromString(big.bytes));
  EXPECT_EQ(out.id().size(), 1u << 20);
}

TEST_F(GrpcTransportTest, StatusCodesAndMessagesArrive) {
  serve();
  auto s = stub();
  Reply nf = call(*s, "/containerd.task.v3.Task/Kill", "");
  EXPECT_EQ(nf.status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(nf.status.error_message(), "process abc: not found");

  Reply unknown_method = call(*s, "/containerd.task.v3.Task/Checkpoint", "");
  EXPECT_EQ(unknown_method.status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_NE(unknown_method.status.error_message().find("/containerd.task.v3.Task/Checkpoint"), std::string::npos);
  Reply unknown_service = call(*s, "/containerd.task.v2.Task/State", state_request("x"));
  EXPECT_EQ(unknown_service.status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  Reply malformed = call(*s, "/nonsense", "");
  EXPECT_EQ(malformed.status.error_code(), grpc::StatusCode::UNIMPLEMENTED);

  Reply bad_request = call(*s, "/containerd.task.v3.Task/State", std::string("\xff\xff\xff", 3));
  EXPECT_EQ(bad_request.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(bad_request.status.error_message(), "bad StateRequest");

  Reply threw = call(*s, "/containerd.task.v3.Task/Stats", "");
  EXPECT_EQ(threw.status.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_NE(threw.status.error_message().find("stats exploded"), std::string::npos);
  Reply odd = call(*s, "/containerd.task.v3.Task/Update", "");
  EXPECT_EQ(odd.status.error_code(), grpc::StatusCode::UNKNOWN);
  EXPECT_EQ(odd.status.error_message(), "odd code");
}

TEST_F(GrpcTransportTest, ABlockedCallDoesNotBlockOthers) {
  serve();
  auto s = stub();
  auto wait = call_async(*s, "/containerd.task.v3.Task/Wait", "", 60s);
  ASSERT_TRUE(gate_.wait_entered(1, 10s));
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::future<Reply>> calls;
  for (int i = 0; i < 20; ++i) {
    calls.push_back(call_async(*s, "/containerd.task.v3.Task/State", state_request("c" + std::to_string(i)), 30s));
  }
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(calls[i].wait_for(10s), std::future_status::ready) << i;
    Reply r = calls[i].get();
    ASSERT_TRUE(r.status.ok()) << r.status.error_message();
    task::StateResponse out;
    ASSERT_TRUE(out.ParseFromString(r.bytes));
    EXPECT_EQ(out.id(), "c" + std::to_string(i));
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_EQ(wait.wait_for(0s), std::future_status::timeout);  // still blocked
  gate_.open();
  ASSERT_EQ(wait.wait_for(10s), std::future_status::ready);
  Reply w = wait.get();
  ASSERT_TRUE(w.status.ok()) << w.status.error_message();
  task::WaitResponse out;
  ASSERT_TRUE(out.ParseFromString(w.bytes));
  EXPECT_EQ(out.exit_status(), 7u);
}

TEST_F(GrpcTransportTest, DeadlinePropagates) {
  serve();
  auto s = stub();
  Reply with = call(*s, "/containerd.task.v3.Task/Pids", "", 30s);
  ASSERT_TRUE(with.status.ok()) << with.status.error_message();
  {
    std::lock_guard lock(mu_);
    ASSERT_TRUE(seen_deadline_.has_value());
    const auto left = *seen_deadline_ - seen_deadline_at_;
    EXPECT_GT(left, 25s);
    EXPECT_LE(left, 31s);  // grpc-timeout travels rounded up
  }
  Reply without = call(*s, "/containerd.task.v3.Task/Pids", "", std::nullopt);
  ASSERT_TRUE(without.status.ok());
  {
    std::lock_guard lock(mu_);
    EXPECT_FALSE(seen_deadline_.has_value());
  }
  // A call past its deadline ends for the client even while its handler still blocks.
  const auto start = std::chrono::steady_clock::now();
  Reply late = call(*s, "/containerd.task.v3.Task/Wait", "", 300ms);
  EXPECT_EQ(late.status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  gate_.open();
  // The server is still fine.
  EXPECT_TRUE(call(*s, "/containerd.task.v3.Task/State", state_request("after")).status.ok());
}

TEST_F(GrpcTransportTest, ClientCancellationEndsTheCall) {
  serve();
  auto s = stub();
  auto ctx = std::make_shared<grpc::ClientContext>();
  auto wait = call_async(*s, "/containerd.task.v3.Task/Wait", "", std::nullopt, ctx);
  ASSERT_TRUE(gate_.wait_entered(1, 10s));
  ctx->TryCancel();
  ASSERT_EQ(wait.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(wait.get().status.error_code(), grpc::StatusCode::CANCELLED);
}

TEST_F(GrpcTransportTest, ShutdownIsClean) {
  GrpcTransport& t = serve();
  auto s = stub();
  ASSERT_TRUE(call(*s, "/containerd.task.v3.Task/State", state_request("c")).status.ok());
  auto waiter = std::async(std::launch::async, [&t] { t.wait(); });
  EXPECT_EQ(waiter.wait_for(100ms), std::future_status::timeout);

  auto blocked = call_async(*s, "/containerd.task.v3.Task/Wait", "", 60s);
  ASSERT_TRUE(gate_.wait_entered(1, 10s));
  // The handler returns a moment after shutdown begins: within the drain, so everything is joined.
  std::thread opener([this] {
    std::this_thread::sleep_for(500ms);
    gate_.open();
  });
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(t.shutdown(100ms, 10s), 0u);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  opener.join();
  ASSERT_EQ(blocked.wait_for(10s), std::future_status::ready);
  const auto code = blocked.get().status.error_code();
  EXPECT_TRUE(code == grpc::StatusCode::CANCELLED || code == grpc::StatusCode::UNAVAILABLE) << code;
  ASSERT_EQ(waiter.wait_for(5s), std::future_status::ready);

  struct stat st {};
  EXPECT_NE(::stat(socket_.c_str(), &st), 0);  // removed
  EXPECT_EQ(t.shutdown(0ms), 0u);              // idempotent
  Reply after = call(*s, "/containerd.task.v3.Task/State", state_request("c"), 2s);
  EXPECT_FALSE(after.status.ok());
}

TEST_F(GrpcTransportTest, BoundedDrainReportsStragglers) {
  GrpcTransport& t = serve();
  auto s = stub();
  auto blocked = call_async(*s, "/containerd.task.v3.Task/Wait", "", 60s);
  ASSERT_TRUE(gate_.wait_entered(1, 10s));
  EXPECT_EQ(t.shutdown(0ms, 200ms), 1u);  // the Wait handler still runs (detached); the registry stays alive
  ASSERT_EQ(blocked.wait_for(10s), std::future_status::ready);
  gate_.open();
  std::this_thread::sleep_for(100ms);  // let it finish before the fixture goes
}

TEST_F(GrpcTransportTest, ServesAnAdoptedListener) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  socket_.copy(addr.sun_path, sizeof(addr.sun_path) - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(fd, 16), 0);
  auto loaded = GrpcTransport::load();
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  transport_.emplace(std::move(loaded).value());
  auto served = transport_->serve_fd(registry_, fd);
  ASSERT_TRUE(served.ok()) << served.error().message;
  auto s = stub();
  EXPECT_TRUE(call(*s, "/containerd.task.v3.Task/State", state_request("fd3")).status.ok());
  transport_->shutdown(0ms);
  EXPECT_EQ(::fcntl(fd, F_GETFD), -1);  // closed by the transport

  auto refused = GrpcTransport::load().value().serve_fd(registry_, ::open("/dev/null", O_RDONLY | O_CLOEXEC));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("not a socket"), std::string::npos) << refused.error().message;
}

// Raw HTTP/2 from a child: 0 when the server hung up without a word (refused), 1 when it answered (SETTINGS).
int probe_as(uid_t uid, const std::string& path) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (uid != ::geteuid() && ::setresuid(uid, uid, uid) != 0) ::_exit(3);
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    path.copy(addr.sun_path, sizeof(addr.sun_path) - 1);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) ::_exit(4);
    static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0";
    if (::send(fd, preface, sizeof(preface) - 1, MSG_NOSIGNAL) < 0) ::_exit(errno == EPIPE || errno == ECONNRESET ? 0 : 6);
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    char buf[64];
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    ::_exit(n > 0 ? 1 : (n == 0 || errno == ECONNRESET) ? 0 : 5);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST_F(GrpcTransportTest, RefusesOtherUids) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to connect as another uid";
  serve();
  // Past the directory's and the socket's modes: SO_PEERCRED is what refuses.
  ASSERT_EQ(::chmod(dir_.c_str(), 0711), 0);
  ASSERT_EQ(::chmod(socket_.c_str(), 0666), 0);
  EXPECT_EQ(probe_as(::geteuid(), socket_), 1);
  EXPECT_EQ(probe_as(65534, socket_), 0);
  auto s = stub();
  EXPECT_TRUE(call(*s, "/containerd.task.v3.Task/State", state_request("still")).status.ok());
}

}  // namespace

#endif  // LITEBOX_SHIM_GRPC_MODULE
