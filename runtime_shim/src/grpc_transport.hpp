// The shim's side of the gRPC transport: loads the module litebox-shim-grpc.so (dlopen, only when the runtime
// options choose gRPC, so grpc++ costs nothing otherwise) and serves a ServiceRegistry with it.
//
//   auto transport = GrpcTransport::load();            // or load_from(path)
//   if (!transport) -> transport.error().message       // "gRPC transport: cannot load ...: set LITEBOX_SHIM_GRPC_MODULE ..."
//   transport.value().serve(registry, "/run/containerd/s/<hex>");   // or serve_fd(registry, 3)
//   transport.value().wait();                          // until shutdown() (from another thread)
//
// The registry must outlive the server; handlers run on threads of their own and may block.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "litebox/linux/error.hpp"
#include "rpc/service_registry.hpp"

struct LiteboxGrpcTransportApi;
struct LiteboxGrpcServer;

namespace litebox::shim {

struct GrpcServeLimits {
  std::uint32_t max_concurrent_calls = 0;  // handlers at once, then RESOURCE_EXHAUSTED; 0: module default (1024)
  std::uint32_t max_message_bytes = 0;     // 0: module default (16 MiB)
};

class GrpcTransport {
 public:
  static constexpr const char* kModuleEnv = "LITEBOX_SHIM_GRPC_MODULE";
  static constexpr const char* kModuleName = "litebox-shim-grpc.so";

  // Where load() looks, in order: $LITEBOX_SHIM_GRPC_MODULE (if set, the only candidate), then
  // <dir of /proc/self/exe>/litebox-shim-grpc.so, then <dir of exe>/../<libdir>/containerd-shim-litebox-v1/litebox-shim-grpc.so
  // (the install's own layout: /usr/lib/<multiarch>/... from /usr/bin on Debian, ../lib/... for other prefixes).
  static std::vector<std::string> module_candidates();
  // The first candidate that exists; errors name every path tried.
  static linux_host::Expected<GrpcTransport> load();
  // Exactly this module: dlopen, entry point, ABI version and layout checks.
  static linux_host::Expected<GrpcTransport> load_from(const std::string& module_path);

  GrpcTransport(GrpcTransport&& other) noexcept;
  GrpcTransport& operator=(GrpcTransport&& other) noexcept;
  GrpcTransport(const GrpcTransport&) = delete;
  GrpcTransport& operator=(const GrpcTransport&) = delete;
  ~GrpcTransport();  // shutdown(0 grace, unbounded drain) if serving

  const std::string& module_path() const { return module_path_; }
  std::string grpc_version() const;

  // Binds `socket_path` (absolute, mode 0600, must not exist; removed at shutdown) and serves on it.
  linux_host::Status serve(const ServiceRegistry& registry, const std::string& socket_path, GrpcServeLimits limits = {});
  // Serves on an already listening unix socket (e.g. fd 3 handed over by `start`); takes ownership of it.
  linux_host::Status serve_fd(const ServiceRegistry& registry, int listen_fd, GrpcServeLimits limits = {});
  bool serving() const { return server_ != nullptr; }

  // Blocks until shutdown() completed or the listener failed for good. Returns at once when not serving.
  void wait();
  // Stops accepting, gives calls in flight `grace`, cancels the rest (CANCELLED), then waits up to `drain`
  // (nullopt: unbounded) for their handlers to return. Returns how many handlers still run: they keep using
  // the registry, so with a non-zero count keep it alive or exit. Safe to call more than once and from
  // another thread than wait()'s; from a handler it cancels its own call after `grace`.
  std::uint32_t shutdown(std::chrono::milliseconds grace,
                         std::optional<std::chrono::milliseconds> drain = std::nullopt);

 private:
  GrpcTransport(const LiteboxGrpcTransportApi* api, std::string module_path)
      : api_(api), module_path_(std::move(module_path)) {}
  linux_host::Status start(const ServiceRegistry& registry, int listen_fd, const std::string& socket_path,
                           GrpcServeLimits limits);
  void release();

  const LiteboxGrpcTransportApi* api_ = nullptr;  // in a module never unloaded (RTLD_NODELETE)
  LiteboxGrpcServer* server_ = nullptr;
  std::string module_path_;
};

}  // namespace litebox::shim
