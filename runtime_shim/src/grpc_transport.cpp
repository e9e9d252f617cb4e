#include "grpc_transport.hpp"

#include <dlfcn.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <system_error>
#include <utility>

#include "grpc/grpc_module_api.hpp"

// Where `cmake --install` puts the module, relative to the shim's own directory (runtime_shim/CMakeLists.txt:
// ../<libdir>/containerd-shim-litebox-v1, e.g. ../lib/x86_64-linux-gnu/... for the .deb's /usr/bin).
#ifndef LITEBOX_SHIM_MODULE_DIR_FROM_BIN
#define LITEBOX_SHIM_MODULE_DIR_FROM_BIN "../lib/containerd-shim-litebox-v1"
#endif

namespace litebox::shim {

namespace {

using linux_host::Error;

Error transport_error(std::string message) { return Error{0, "gRPC transport: " + std::move(message)}; }

std::string exe_dir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  return exe.parent_path().string();
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace

std::vector<std::string> GrpcTransport::module_candidates() {
  if (const char* env = std::getenv(kModuleEnv); env != nullptr && *env != '\0') return {env};
  std::vector<std::string> candidates;
  if (auto dir = exe_dir(); !dir.empty()) {
    candidates.push_back(dir + "/" + kModuleName);
    candidates.push_back(dir + "/" LITEBOX_SHIM_MODULE_DIR_FROM_BIN "/" + kModuleName);
  }
  return candidates;
}

linux_host::Expected<GrpcTransport> GrpcTransport::load() {
  const auto candidates = module_candidates();
  std::string tried;
  for (const auto& path : candidates) {
    if (exists(path)) return load_from(path);
    tried += (tried.empty() ? "" : ", ") + path;
  }
  return transport_error("module " + std::string(kModuleName) + " not found (tried " +
                         (tried.empty() ? std::string("nothing: /proc/self/exe unreadable") : tried) +
                         "); install it next to the shim or set " + kModuleEnv +
                         " to its path, or choose the ttrpc transport");
}

linux_host::Expected<GrpcTransport> GrpcTransport::load_from(const std::string& module_path) {
  ::dlerror();
  // Never unloaded: handler threads detached by a bounded shutdown may still run its code.
  void* handle = ::dlopen(module_path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (handle == nullptr) {
    const char* why = ::dlerror();
    return transport_error("cannot load " + module_path + ": " + (why != nullptr ? why : "dlopen failed") +
                           " (is grpc++ (libgrpc++1.51) installed? set " + kModuleEnv +
                           " to the module built with this shim)");
  }
  void* symbol = ::dlsym(handle, kLiteboxGrpcEntryPoint);
  if (symbol == nullptr) {
    return transport_error(module_path + " has no entry point " + kLiteboxGrpcEntryPoint +
                           ": not a litebox gRPC module, or one of another ABI; use the module built with this shim");
  }
  auto entry = reinterpret_cast<LiteboxGrpcEntryPointFn>(symbol);
  const LiteboxGrpcTransportApi* api = entry();
  if (api == nullptr) return transport_error(module_path + ": the entry point returned no API table");
  const auto mismatch = [&](const std::string& what) {
    return transport_error(module_path + " was built for another shim (" + what +
                           "); install the module from the same build as the shim");
  };
  if (api->abi_version != kLiteboxGrpcAbiVersion) {
    return mismatch("ABI version " + std::to_string(api->abi_version) + ", this shim speaks " +
                    std::to_string(kLiteboxGrpcAbiVersion));
  }
  if (api->struct_size < sizeof(LiteboxGrpcTransportApi)) return mismatch("API table too small");
  if (api->registry_size != sizeof(ServiceRegistry) || api->call_context_size != sizeof(CallContext) ||
      api->rpc_status_size != sizeof(RpcStatus)) {
    return mismatch("layout of ServiceRegistry/CallContext/RpcStatus differs");
  }
  if (api->start == nullptr || api->wait == nullptr || api->shutdown == nullptr || api->destroy == nullptr) {
    return mismatch("API table incomplete");
  }
  return GrpcTransport(api, module_path);
}

GrpcTransport::GrpcTransport(GrpcTransport&& other) noexcept
    : api_(std::exchange(other.api_, nullptr)),
      server_(std::exchange(other.server_, nullptr)),
      module_path_(std::move(other.module_path_)) {}

GrpcTransport& GrpcTransport::operator=(GrpcTransport&& other) noexcept {
  if (this != &other) {
    release();
    api_ = std::exchange(other.api_, nullptr);
    server_ = std::exchange(other.server_, nullptr);
    module_path_ = std::move(other.module_path_);
  }
  return *this;
}

GrpcTransport::~GrpcTransport() { release(); }

void GrpcTransport::release() {
  if (server_ != nullptr) api_->destroy(std::exchange(server_, nullptr));
}

std::string GrpcTransport::grpc_version() const {
  return api_ != nullptr && api_->grpc_version != nullptr ? api_->grpc_version : "";
}

linux_host::Status GrpcTransport::serve(const ServiceRegistry& registry, const std::string& socket_path,
                                        GrpcServeLimits limits) {
  return start(registry, -1, socket_path, limits);
}

linux_host::Status GrpcTransport::serve_fd(const ServiceRegistry& registry, int listen_fd, GrpcServeLimits limits) {
  if (listen_fd < 0) return transport_error("serve_fd: invalid descriptor " + std::to_string(listen_fd));
  return start(registry, listen_fd, {}, limits);
}

linux_host::Status GrpcTransport::start(const ServiceRegistry& registry, int listen_fd, const std::string& socket_path,
                                        GrpcServeLimits limits) {
  if (api_ == nullptr) {
    if (listen_fd >= 0) ::close(listen_fd);
    return transport_error("not loaded");
  }
  if (server_ != nullptr) {
    if (listen_fd >= 0) ::close(listen_fd);
    return transport_error("already serving");
  }
  LiteboxGrpcServeOptions options{};
  options.struct_size = sizeof(options);
  options.registry = &registry;
  options.listen_fd = listen_fd;
  options.socket_path = socket_path.c_str();
  options.max_concurrent_calls = limits.max_concurrent_calls;
  options.max_message_bytes = limits.max_message_bytes;
  char error[512] = {};
  server_ = api_->start(&options, error, sizeof(error));
  if (server_ == nullptr) return Error{0, error[0] != '\0' ? std::string(error) : "gRPC transport: start failed"};
  return {};
}

void GrpcTransport::wait() {
  if (server_ != nullptr) api_->wait(server_);
}

std::uint32_t GrpcTransport::shutdown(std::chrono::milliseconds grace, std::optional<std::chrono::milliseconds> drain) {
  if (server_ == nullptr) return 0;
  const std::int64_t drain_ms = drain ? std::max<std::int64_t>(drain->count(), 0) : -1;
  return api_->shutdown(server_, static_cast<std::int64_t>(grace.count()), drain_ms);
}

}  // namespace litebox::shim
