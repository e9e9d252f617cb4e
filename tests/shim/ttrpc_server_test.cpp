// The ttrpc server and client over socketpairs and unix sockets: the bytes on the wire, concurrency and
// out-of-order replies, the Go server's answers to odd input, deadlines, lost connections, peer credentials and
// a shutdown that leaves no thread or fd behind.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <filesystem>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "rpc/service_registry.hpp"
#include "ttrpc.pb.h"
#include "ttrpc/client.hpp"
#include "ttrpc/codec.hpp"
#include "ttrpc/frame.hpp"
#include "ttrpc/server.hpp"

namespace tt = litebox::shim::ttrpc;
using litebox::shim::CallContext;
using litebox::shim::RpcStatus;
using litebox::shim::ServiceRegistry;
using litebox::shim::StatusCode;
using namespace std::chrono_literals;

namespace {

constexpr const char* kTask = "containerd.task.v2.Task";

// A gate the Block handler waits at.
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  int entered = 0;
  int left = 0;

  void release() {
    std::lock_guard lock(mu);
    open = true;
    cv.notify_all();
  }
  bool wait_entered(int n, std::chrono::milliseconds limit = 10s) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, limit, [&] { return entered >= n; });
  }
  bool wait_left(int n, std::chrono::milliseconds limit = 10s) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, limit, [&] { return left >= n; });
  }
};

int count_dir(const char* path) {
  int n = 0;
  DIR* d = ::opendir(path);
  if (d == nullptr) return -1;
  while (const dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(d);
  return n;
}

bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds limit = 5s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return pred();
}

class TtrpcServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_.add(kTask, "Echo", [](const CallContext&, std::string_view req, std::string& resp) {
      resp = std::string(req);
      return RpcStatus::success();
    });
    registry_.add(kTask, "Empty", [](const CallContext&, std::string_view, std::string&) {
      return RpcStatus::success();
    });
    registry_.add(kTask, "Fail", [](const CallContext&, std::string_view, std::string& resp) {
      resp = "dropped";
      return RpcStatus::error(StatusCode::not_found, "process does not exist nosuch: not found");
    });
    registry_.add(kTask, "Block", [this](const CallContext&, std::string_view req, std::string& resp) {
      std::unique_lock lock(gate_.mu);
      ++gate_.entered;
      gate_.cv.notify_all();
      gate_.cv.wait(lock, [this] { return gate_.open; });
      ++gate_.left;
      gate_.cv.notify_all();
      resp = "unblocked:" + std::string(req);
      return RpcStatus::success();
    });
    registry_.add(kTask, "Context", [](const CallContext& ctx, std::string_view, std::string& resp) {
      resp = ctx.service + "/" + ctx.method;
      for (const auto& [k, v] : ctx.metadata) resp += ";" + k + "=" + v;
      if (ctx.deadline) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(*ctx.deadline - std::chrono::steady_clock::now());
        resp += ";deadline_ms=" + std::to_string(left.count());
      }
      return RpcStatus::success();
    });
    registry_.add(kTask, "Throw", [](const CallContext&, std::string_view, std::string&) -> RpcStatus {
      throw std::runtime_error("boom");
    });
    registry_.add(kTask, "Big", [](const CallContext&, std::string_view, std::string& resp) {
      resp.assign(tt::kMaxPayload + 100, 'b');
      return RpcStatus::success();
    });
  }

  void TearDown() override {
    gate_.release();  // nothing may stay blocked on the fixture
  }

  // A server on one end of a socketpair; returns the other end.
  int serve_pair(tt::Server& server) {
    int sv[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    EXPECT_TRUE(server.serve_connection(sv[0]));
    return sv[1];
  }

  ServiceRegistry registry_;
  Gate gate_;
};

void send_bytes(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    ASSERT_GT(n, 0) << std::strerror(errno);
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

void send_request(int fd, std::uint32_t stream, std::string_view method, std::string_view payload,
                  std::int64_t timeout_nano = 0, std::uint8_t flags = 0) {
  const auto frame = tt::encode_frame(stream, tt::MessageType::request, flags,
                                      tt::encode_request(kTask, method, payload, timeout_nano, {}));
  ASSERT_TRUE(frame.has_value());
  send_bytes(fd, *frame);
}

// Reads exactly n bytes; nullopt on EOF, error or after `limit`.
std::optional<std::string> read_exact(int fd, std::size_t n, std::chrono::milliseconds limit = 5s) {
  std::string out;
  const auto end = std::chrono::steady_clock::now() + limit;
  while (out.size() < n) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return std::nullopt;
    char buf[65536];
    const ssize_t r = ::recv(fd, buf, std::min(sizeof(buf), n - out.size()), 0);
    if (r <= 0) return std::nullopt;
    out.append(buf, static_cast<std::size_t>(r));
  }
  return out;
}

struct RawReply {
  tt::FrameHeader header;
  std::string payload;
  RpcStatus status;
  std::string body;
};

std::optional<RawReply> read_reply(int fd, std::chrono::milliseconds limit = 5s) {
  const auto hdr = read_exact(fd, tt::kHeaderSize, limit);
  if (!hdr) return std::nullopt;
  RawReply r;
  r.header = tt::decode_header(hdr->data());
  const auto payload = read_exact(fd, r.header.length, limit);
  if (!payload) return std::nullopt;
  r.payload = *payload;
  if (!tt::decode_response(r.payload, r.status, r.body)) return std::nullopt;
  return r;
}

// True when the peer closes `fd` within `limit` (no more bytes).
bool sees_eof(int fd, std::chrono::milliseconds limit = 5s) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(limit.count())) <= 0) return false;
  char c;
  return ::recv(fd, &c, 1, 0) == 0;
}

std::string temp_dir() {
  char tmpl[] = "/tmp/ttrpc-test-XXXXXX";
  const char* d = ::mkdtemp(tmpl);
  EXPECT_NE(d, nullptr);
  return d != nullptr ? d : "/tmp";
}

int listen_unix(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  EXPECT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  EXPECT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)), 0) << std::strerror(errno);
  EXPECT_EQ(::listen(fd, 64), 0);
  return fd;
}

}  // namespace

TEST_F(TtrpcServerTest, EmptyReplyIsTheCapturedFrame) {
  tt::Server server(registry_);
  const int fd = serve_pair(server);
  send_request(fd, 0x11, "Empty", "");
  const auto got = read_exact(fd, 10);
  ASSERT_TRUE(got.has_value());
  const char want[] = {0, 0, 0, 0, 0, 0, 0, 0x11, 2, 0};
  EXPECT_EQ(*got, std::string(want, sizeof(want)));
  ::close(fd);
}

TEST_F(TtrpcServerTest, ErrorReplyIsTheCapturedFrame) {
  tt::Server server(registry_);
  const int fd = serve_pair(server);
  send_request(fd, 0x0b, "Fail", "");
  const auto got = read_exact(fd, 10 + 0x2e);
  ASSERT_TRUE(got.has_value());
  const char head[] = {0, 0, 0, 0x2e, 0, 0, 0, 0x0b, 2, 0, 0x0a, 0x2c, 0x08, 0x05, 0x12, 0x28};
  EXPECT_EQ(*got, std::string(head, sizeof(head)) + "process does not exist nosuch: not found");
  ::close(fd);
}

TEST_F(TtrpcServerTest, ClientRoundTripOverUnixSocket) {
  const std::string dir = temp_dir();
  const std::string path = dir + "/s.sock";
  tt::Server server(registry_);
  ASSERT_TRUE(server.serve_listener(listen_unix(path)));
  RpcStatus err;
  auto client = tt::Client::connect("unix://" + path, &err);
  ASSERT_NE(client, nullptr) << err.message;
  std::string resp;
  RpcStatus st = client->call(kTask, "Echo", "hello", resp);
  EXPECT_TRUE(st.ok()) << st.message;
  EXPECT_EQ(resp, "hello");

  st = client->call(kTask, "Context", "", resp, {{"containerd-namespace-ttrpc", "k8s.io"}, {"a", "b"}}, 2s);
  EXPECT_TRUE(st.ok());
  EXPECT_EQ(resp.rfind("containerd.task.v2.Task/Context;containerd-namespace-ttrpc=k8s.io;a=b;deadline_ms=", 0), 0u)
      << resp;
  const long ms = std::stol(resp.substr(resp.rfind('=') + 1));
  EXPECT_GT(ms, 1000);
  EXPECT_LE(ms, 2000);

  st = client->call(kTask, "Context", "", resp);
  EXPECT_EQ(resp, "containerd.task.v2.Task/Context");

  st = client->call(kTask, "Fail", "", resp);
  EXPECT_EQ(st.code, StatusCode::not_found);
  EXPECT_EQ(st.message, "process does not exist nosuch: not found");
  EXPECT_TRUE(resp.empty());

  st = client->call(kTask, "Throw", "", resp);
  EXPECT_EQ(st.code, StatusCode::internal);

  st = client->call(kTask, "Big", "", resp);
  EXPECT_EQ(st.code, StatusCode::resource_exhausted) << st.message;

  st = client->call(kTask, "Echo", std::string(tt::kMaxPayload, 'x'), resp);
  EXPECT_EQ(st.code, StatusCode::resource_exhausted);
  st = client->call(kTask, "Echo", std::string(1 << 20, 'x'), resp);
  EXPECT_TRUE(st.ok());
  EXPECT_EQ(resp.size(), 1u << 20);

  client.reset();
  EXPECT_TRUE(server.shutdown());
  std::filesystem::remove_all(dir);
}

TEST_F(TtrpcServerTest, UnknownMethodIsUnimplemented) {
  tt::Server server(registry_);
  auto client = tt::Client::adopt(serve_pair(server));
  ASSERT_NE(client, nullptr);
  std::string resp;
  RpcStatus st = client->call(kTask, "Foo", "", resp);
  EXPECT_EQ(st.code, StatusCode::unimplemented);
  EXPECT_EQ(st.message, "service containerd.task.v2.Task: method Foo: not implemented");
  st = client->call("containerd.task.v3.Task", "Echo", "", resp);
  EXPECT_EQ(static_cast<int>(st.code), 12);
  // The connection is still good.
  EXPECT_TRUE(client->call(kTask, "Echo", "x", resp).ok());
}

TEST_F(TtrpcServerTest, FiftyConcurrentCallsOneBlocked) {
  tt::Server server(registry_);
  auto client = tt::Client::adopt(serve_pair(server));
  ASSERT_NE(client, nullptr);

  auto blocked = std::async(std::launch::async, [&] {
    std::string resp;
    RpcStatus st = client->call(kTask, "Block", "first", resp);
    return st.ok() ? resp : "error: " + st.message;
  });
  ASSERT_TRUE(gate_.wait_entered(1));

  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int i = 0; i < 49; ++i) {
    threads.emplace_back([&, i] {
      std::string resp;
      const std::string payload = "call-" + std::to_string(i);
      RpcStatus st = client->call(kTask, "Echo", payload, resp, {}, 10s);
      if (st.ok() && resp == payload) ++good;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(good.load(), 49);
  // The first call is still waiting: its reply comes after 49 later ones.
  EXPECT_EQ(blocked.wait_for(0ms), std::future_status::timeout);
  gate_.release();
  EXPECT_EQ(blocked.get(), "unblocked:first");
}

TEST_F(TtrpcServerTest, RepliesGoOutOfOrderOnTheWire) {
  tt::Server server(registry_);
  const int fd = serve_pair(server);
  send_request(fd, 1, "Block", "a");
  ASSERT_TRUE(gate_.wait_entered(1));
  send_request(fd, 3, "Echo", "b");
  auto r = read_reply(fd);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->header.stream_id, 3u);
  EXPECT_EQ(r->body, "b");
  // The same stream id again while the first runs: refused, as the Go server does.
  send_request(fd, 1, "Echo", "dup");
  r = read_reply(fd);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->header.stream_id, 1u);
  EXPECT_EQ(r->status.code, StatusCode::invalid_argument);
  EXPECT_EQ(r->status.message, "StreamID already in use");
  gate_.release();
  r = read_reply(fd);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->header.stream_id, 1u);
  EXPECT_EQ(r->body, "unblocked:a");
  ::close(fd);
}

TEST_F(TtrpcServerTest, OversizedFrameIsResourceExhaustedAndConnectionLives) {
  tt::Server server(registry_);
  const int fd = serve_pair(server);
  const std::uint32_t len = tt::kMaxPayload + 1;
  char hdr[tt::kHeaderSize];
  tt::encode_header({len, 5, 1, 0}, hdr);
  std::thread writer([&] {
    send_bytes(fd, std::string_view(hdr, sizeof(hdr)));
    send_bytes(fd, std::string(len, 'z'));
    send_request(fd, 7, "Echo", "after");
  });
  auto r = read_reply(fd);
  writer.join();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->header.stream_id, 5u);
  EXPECT_EQ(r->header.type, 2);
  EXPECT_EQ(static_cast<int>(r->status.code), 8);
  EXPECT_EQ(r->status.message, "message length 4194305 exceed maximum message size of 4194304");
  r = read_reply(fd);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->header.stream_id, 7u);
  EXPECT_TRUE(r->status.ok());
  EXPECT_EQ(r->body, "after");
  ::close(fd);
}

TEST_F(TtrpcServerTest, OddInputGetsTheGoServersAnswers) {
  tt::Server server(registry_);
  const int fd = serve_pair(server);
  // Unparsable request payload: INVALID_ARGUMENT on that stream.
  const char junk[] = {0x0a, 0x7f, 0x01};
  send_bytes(fd, *tt::encode_frame(9, tt::MessageType::request, 0, std::string_view(junk, sizeof(junk))));
  auto r = read_reply(fd);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->header.stream_id, 9u);
  EXPECT_EQ(r->status.code, StatusCode::invalid_argument);
  // Even stream id: INVALID_ARGUMENT.
  send_request(fd, 4, "Echo", "x");
  r = read_reply(fd);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->header.stream_id, 4u);
  EXPECT_EQ(r->status.code, StatusCode::invalid_argument);
  EXPECT_EQ(r->status.message, "StreamID must be odd for client initiated streams");
  // Response, data and unknown frame types are ignored.
  send_bytes(fd, *tt::encode_frame(11, tt::MessageType::response, 0, "zz"));
  send_bytes(fd, *tt::encode_frame(13, tt::MessageType::data, 0, "zz"));
  send_bytes(fd, *tt::encode_frame(15, static_cast<tt::MessageType>(0x42), 0, ""));
  // Request flags are not looked at: still a unary call.
  send_request(fd, 17, "Echo", "flags", 0, 0x06);
  r = read_reply(fd);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->header.stream_id, 17u);
  EXPECT_EQ(r->body, "flags");
  // An expired deadline (negative timeout) reaches the handler as a deadline in the past.
  send_request(fd, 19, "Context", "", -1);
  r = read_reply(fd);
  ASSERT_TRUE(r.has_value());
  EXPECT_NE(r->body.find(";deadline_ms="), std::string::npos);
  // A truncated frame at end of stream: the connection is closed, nothing else happens.
  char hdr[tt::kHeaderSize];
  tt::encode_header({100, 21, 1, 0}, hdr);
  send_bytes(fd, std::string(hdr, sizeof(hdr)) + "abc");
  ::shutdown(fd, SHUT_WR);
  EXPECT_TRUE(sees_eof(fd));
  ::close(fd);
  EXPECT_TRUE(wait_until([&] { return server.connection_count() == 0; }));
}

TEST_F(TtrpcServerTest, GarbageNeverCrashes) {
  tt::Server server(registry_);
  std::mt19937 rng(12345);
  for (int round = 0; round < 200; ++round) {
    const int fd = serve_pair(server);
    std::string data;
    const int pieces = 1 + static_cast<int>(rng() % 6);
    for (int p = 0; p < pieces; ++p) {
      switch (rng() % 4) {
        case 0: {  // raw noise
          const std::size_t n = rng() % 64;
          for (std::size_t i = 0; i < n; ++i) data.push_back(static_cast<char>(rng()));
          break;
        }
        case 1: {  // a plausible header with random fields and a short random payload
          std::string payload(rng() % 40, '\0');
          for (auto& c : payload) c = static_cast<char>(rng());
          char hdr[tt::kHeaderSize];
          tt::encode_header({static_cast<std::uint32_t>(payload.size()), static_cast<std::uint32_t>(rng()),
                             static_cast<std::uint8_t>(rng() % 4), static_cast<std::uint8_t>(rng())},
                            hdr);
          data += std::string(hdr, sizeof(hdr)) + payload;
          break;
        }
        case 2: {  // a valid request with a mutated byte
          std::string f = *tt::encode_frame(static_cast<std::uint32_t>(rng() | 1), tt::MessageType::request, 0,
                                            tt::encode_request(kTask, "Echo", "p", 0, {}));
          f[tt::kHeaderSize + rng() % (f.size() - tt::kHeaderSize)] = static_cast<char>(rng());
          data += f;
          break;
        }
        default:
          data += *tt::encode_frame(static_cast<std::uint32_t>(rng() | 1), tt::MessageType::request, 0,
                                    tt::encode_request(kTask, rng() % 2 ? "Echo" : "Nope", "p", 0, {}));
      }
    }
    std::thread drain([fd] {
      char buf[4096];
      while (::recv(fd, buf, sizeof(buf), 0) > 0) {
      }
    });
    send_bytes(fd, data);
    ::shutdown(fd, SHUT_WR);
    drain.join();  // the server closes once it has answered what it understood
    ::close(fd);
  }
  EXPECT_TRUE(wait_until([&] { return server.connection_count() == 0; }));
  EXPECT_TRUE(server.shutdown());
}

TEST_F(TtrpcServerTest, ClientDeadlineExceeded) {
  tt::Server server(registry_);
  auto client = tt::Client::adopt(serve_pair(server));
  ASSERT_NE(client, nullptr);
  std::string resp;
  const auto start = std::chrono::steady_clock::now();
  RpcStatus st = client->call(kTask, "Block", "late", resp, {}, 200ms);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(st.code, StatusCode::deadline_exceeded);
  EXPECT_GE(took, 200ms);
  EXPECT_LT(took, 3s);
  EXPECT_EQ(client->call(kTask, "Echo", "x", resp, {}, 0ns).code, StatusCode::deadline_exceeded);
  // The late reply is dropped; the connection keeps working.
  gate_.release();
  ASSERT_TRUE(gate_.wait_left(1));
  st = client->call(kTask, "Echo", "next", resp, {}, 5s);
  EXPECT_TRUE(st.ok());
  EXPECT_EQ(resp, "next");
  EXPECT_TRUE(client->is_open());
}

TEST_F(TtrpcServerTest, ClientSeesUnavailableWhenTheServerGoesAway) {
  tt::ServerOptions opts;
  opts.shutdown_grace = 100ms;
  auto server = std::make_unique<tt::Server>(registry_, opts);
  auto client = tt::Client::adopt(serve_pair(*server));
  ASSERT_NE(client, nullptr);
  std::vector<std::future<RpcStatus>> calls;
  for (int i = 0; i < 3; ++i) {
    calls.push_back(std::async(std::launch::async, [&] {
      std::string resp;
      return client->call(kTask, "Block", "x", resp);
    }));
  }
  ASSERT_TRUE(gate_.wait_entered(3));
  // The handlers outlive the grace time: they are abandoned, the connection closed.
  EXPECT_FALSE(server->shutdown());
  for (auto& c : calls) EXPECT_EQ(c.get().code, StatusCode::unavailable);
  std::string resp;
  EXPECT_EQ(client->call(kTask, "Echo", "x", resp).code, StatusCode::unavailable);
  EXPECT_FALSE(client->is_open());
  server.reset();
  EXPECT_FALSE(tt::Server::wait_detached(10ms));
  gate_.release();
  EXPECT_TRUE(tt::Server::wait_detached(10s));  // the abandoned handlers finish on their own, harmlessly
  EXPECT_EQ(gate_.left, 3);
}

TEST_F(TtrpcServerTest, ClientSeesUnavailableWhenThePeerCloses) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  auto client = tt::Client::adopt(sv[1]);
  ASSERT_NE(client, nullptr);
  auto call = std::async(std::launch::async, [&] {
    std::string resp;
    return client->call(kTask, "Echo", "x", resp, {}, 10s);
  });
  const auto req = read_exact(sv[0], 10);
  ASSERT_TRUE(req.has_value());
  EXPECT_EQ(tt::decode_header(req->data()).stream_id, 1u);
  ::close(sv[0]);
  EXPECT_EQ(call.get().code, StatusCode::unavailable);
  EXPECT_FALSE(tt::Client::connect("/nonexistent/dir/sock"));
  RpcStatus err;
  EXPECT_FALSE(tt::Client::connect(std::string(200, 'a'), &err));
  EXPECT_EQ(err.code, StatusCode::invalid_argument);
}

TEST_F(TtrpcServerTest, ClientStreamIdsAreOddAndIncreasing) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  auto client = tt::Client::adopt(sv[1]);
  ASSERT_NE(client, nullptr);
  // A fake server answering in reverse order.
  std::thread fake([fd = sv[0]] {
    std::vector<std::uint32_t> ids;
    for (int i = 0; i < 3; ++i) {
      const auto h = read_exact(fd, tt::kHeaderSize);
      if (!h) return;
      const auto hdr = tt::decode_header(h->data());
      if (!read_exact(fd, hdr.length)) return;
      ids.push_back(hdr.stream_id);
    }
    for (auto it = ids.rbegin(); it != ids.rend(); ++it) {
      const auto f = tt::encode_frame(*it, tt::MessageType::response, 0,
                                      tt::encode_response(RpcStatus::success(), "id" + std::to_string(*it)));
      send_bytes(fd, *f);
    }
  });
  std::vector<std::future<std::string>> calls;
  for (int i = 0; i < 3; ++i) {
    calls.push_back(std::async(std::launch::async, [&] {
      std::string resp;
      const RpcStatus st = client->call(kTask, "Echo", "", resp, {}, 5s);
      return st.ok() ? resp : st.message;
    }));
  }
  std::set<std::string> got;
  for (auto& c : calls) got.insert(c.get());
  fake.join();
  EXPECT_EQ(got, (std::set<std::string>{"id1", "id3", "id5"}));
  ::close(sv[0]);
}

TEST_F(TtrpcServerTest, PeerWithAnotherUidIsRejected) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to switch uid in a child";
  const std::string dir = temp_dir();
  ASSERT_EQ(::chmod(dir.c_str(), 0777), 0);
  const std::string path = dir + "/s.sock";
  tt::Server server(registry_);
  const int lfd = listen_unix(path);
  ASSERT_EQ(::chmod(path.c_str(), 0777), 0);
  ASSERT_TRUE(server.serve_listener(lfd));

  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (::setresgid(65534, 65534, 65534) != 0 || ::setresuid(65534, 65534, 65534) != 0) ::_exit(10);
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) ::_exit(11);
    const auto frame = tt::encode_frame(1, tt::MessageType::request, 0, tt::encode_request(kTask, "Echo", "x", 0, {}));
    (void)::send(fd, frame->data(), frame->size(), MSG_NOSIGNAL);
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) != 1) ::_exit(12);
    char c;
    ::_exit(::recv(fd, &c, 1, 0) <= 0 ? 0 : 13);  // closed without an answer
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);

  // Our own uid is still served.
  auto client = tt::Client::connect(path);
  ASSERT_NE(client, nullptr);
  std::string resp;
  EXPECT_TRUE(client->call(kTask, "Echo", "me", resp, {}, 5s).ok());
  client.reset();
  EXPECT_TRUE(server.shutdown());
  std::filesystem::remove_all(dir);
}

TEST_F(TtrpcServerTest, ShutdownJoinsEverythingAndLeavesNoFds) {
  const std::string dir = temp_dir();
  const std::string path = dir + "/s.sock";
  // Warm up what allocates lazily once per process (spdlog, protobuf), then count.
  {
    tt::Server warm(registry_);
    auto c = tt::Client::adopt(serve_pair(warm));
    std::string r;
    (void)c->call(kTask, "Echo", "", r);
  }
  // The warm-up's detached threads (the client's) may still be on their way out on a loaded machine: count
  // once the number has stopped falling (sanitizer runtimes may keep a thread of their own).
  int tasks_before = count_dir("/proc/self/task");
  for (int i = 0, stable = 0; i < 200 && stable < 5; ++i) {
    std::this_thread::sleep_for(10ms);
    const int now = count_dir("/proc/self/task");
    stable = now == tasks_before ? stable + 1 : 0;
    tasks_before = now;
  }
  const int fds_before = count_dir("/proc/self/fd");
  {
    tt::ServerOptions opts;
    opts.shutdown_grace = 5s;
    tt::Server server(registry_, opts);
    ASSERT_TRUE(server.serve_listener(listen_unix(path)));
    std::vector<std::unique_ptr<tt::Client>> clients;
    for (int i = 0; i < 4; ++i) {
      clients.push_back(tt::Client::connect(path));
      ASSERT_NE(clients.back(), nullptr);
      std::string r;
      EXPECT_TRUE(clients.back()->call(kTask, "Echo", "x", r, {}, 5s).ok());
    }
    clients.push_back(tt::Client::adopt(serve_pair(server)));
    // A request in flight: shutdown waits for it, and its reply still gets through.
    auto inflight = std::async(std::launch::async, [&] {
      std::string r;
      return clients[0]->call(kTask, "Block", "y", r, {}, 10s);
    });
    ASSERT_TRUE(gate_.wait_entered(1));
    EXPECT_EQ(server.connection_count(), 5u);
    std::thread releaser([&] {
      std::this_thread::sleep_for(200ms);
      gate_.release();
    });
    EXPECT_TRUE(server.shutdown());
    releaser.join();
    EXPECT_TRUE(inflight.get().ok());
    EXPECT_EQ(server.connection_count(), 0u);
    EXPECT_TRUE(server.shutdown());  // idempotent
    EXPECT_FALSE(server.serve_connection(::dup(0)));
    // Clients notice the server is gone.
    std::string r;
    EXPECT_EQ(clients[1]->call(kTask, "Echo", "x", r, {}, 5s).code, StatusCode::unavailable);
  }
  EXPECT_EQ(count_dir("/proc/self/fd"), fds_before);
  EXPECT_EQ(count_dir("/proc/self/task"), tasks_before);
  std::filesystem::remove_all(dir);
}
