// The C ABI between the shim and its gRPC module (litebox-shim-grpc.so), shared by the module and the loader
// (grpc_transport.cpp). The shim dlopen()s the module only when the runtime options choose gRPC, so grpc++ costs
// nothing to the ttrpc shims. The module exports one symbol, kLiteboxGrpcEntryPoint, returning a table of
// function pointers; nothing throws across it.
//
// The registry crosses the boundary as a C++ object (std::map and std::function inside): module and shim are
// built from the same tree by the same compiler, and the table carries the sizes of the C++ types it shares so
// a module from another build is refused rather than misread. Change kLiteboxGrpcAbiVersion with any change
// to this file or to rpc/service_registry.hpp and rpc/rpc_status.hpp.
#pragma once

#include <cstddef>
#include <cstdint>

namespace litebox::shim {
class ServiceRegistry;
}

inline constexpr std::uint32_t kLiteboxGrpcAbiVersion = 1;
inline constexpr const char kLiteboxGrpcEntryPoint[] = "litebox_shim_grpc_transport_v1";

extern "C" {

// A running server; opaque to the shim.
struct LiteboxGrpcServer;

struct LiteboxGrpcServeOptions {
  std::size_t struct_size;  // sizeof(LiteboxGrpcServeOptions)
  // Serves every (service, method) it holds: "/containerd.task.v3.Task/Create" calls ("containerd.task.v3.Task",
  // "Create"). Must outlive the server and any handler still running after shutdown (see shutdown).
  const litebox::shim::ServiceRegistry* registry;
  // A listening unix socket (SOCK_STREAM) to adopt, e.g. the shim's fd 3 bound by `start`; the server owns it
  // from then on, on success and on failure. -1: bind socket_path instead.
  int listen_fd;
  // With listen_fd == -1: an absolute filesystem path (at most 107 bytes) to bind, mode 0600; refused if it
  // exists. Removed at shutdown. Ignored with a listen_fd.
  const char* socket_path;
  std::uint32_t max_concurrent_calls;  // handlers running at once, beyond: RESOURCE_EXHAUSTED. 0: 1024
  std::uint32_t max_message_bytes;     // request and response size limit. 0: 16 MiB
};

struct LiteboxGrpcTransportApi {
  std::uint32_t abi_version;  // kLiteboxGrpcAbiVersion
  std::uint32_t struct_size;  // sizeof(LiteboxGrpcTransportApi)
  // sizeof the C++ types shared across the boundary, as the module was built.
  std::uint32_t registry_size;      // litebox::shim::ServiceRegistry
  std::uint32_t call_context_size;  // litebox::shim::CallContext
  std::uint32_t rpc_status_size;    // litebox::shim::RpcStatus
  const char* grpc_version;         // grpc++ the module was built with, e.g. "1.51.1"

  // Starts serving. nullptr on failure, with a message in error[0..error_size) (NUL-terminated, truncated).
  LiteboxGrpcServer* (*start)(const LiteboxGrpcServeOptions* options, char* error, std::size_t error_size);
  // Blocks until the server stops: shutdown() completed, or the listener failed for good (then call shutdown).
  void (*wait)(LiteboxGrpcServer* server);
  // Stops accepting, lets calls in flight finish for grace_ms, then cancels the rest (their clients see
  // CANCELLED) and waits up to drain_ms (< 0: no limit) for the handlers to return, joining their threads. Returns how many
  // handlers are still running (0 = everything joined); those keep running detached and still use the
  // registry, so keep it alive (or exit the process). Idempotent; callable from a handler (it does not wait
  // for its own thread).
  std::uint32_t (*shutdown)(LiteboxGrpcServer* server, std::int64_t grace_ms, std::int64_t drain_ms);
  // Shuts down (grace 0, drain unbounded) if not done yet, waits for wait() callers to return, frees.
  void (*destroy)(LiteboxGrpcServer* server);
};

using LiteboxGrpcEntryPointFn = const LiteboxGrpcTransportApi* (*)();

}  // extern "C"
