// `serve`: the long-lived shim. It reaps the containers' processes, serves the task service on the
// listener `start` handed over as fd 3 (ttrpc, or gRPC through the module), publishes events, and exits when
// Shutdown finds no task left.
#include <malloc.h>
#include <signal.h>
#include <unistd.h>

#include <cstring>

#include <condition_variable>
#include <cstdlib>
#include <mutex>

#include <spdlog/spdlog.h>

#include "commands/bootstrap_common.hpp"
#include "commands/commands.hpp"
#include "commands/shim_log.hpp"
#include "grpc_transport.hpp"
#include "litebox/linux/host/linux_host.hpp"
#include "task/core_introspection.hpp"
#include "task/event_forwarder.hpp"
#include "task/task_service.hpp"
#include "ttrpc/server.hpp"

namespace litebox::shim {

namespace {
constexpr int kListenerFd = 3;
}

int serve_command(const ShimArgs& args) {
  ::signal(SIGPIPE, SIG_IGN);  // a client that went away must not kill the shim
  // One shim runs per container and allocates little: one malloc arena instead of one per thread.
  ::mallopt(M_ARENA_MAX, 1);
  log_to_containerd_fifo(args.log_level, args.debug);
  spdlog::info("serving {} in namespace {} on {} ({})", args.id, args.namespace_name, args.socket_path, args.transport);

  // The core's threads start before any container exists; it serves every container the options (or the
  // container's annotations) put under it.
  linux_host::core::CoreService core;
  linux_host::LinuxHostConfig host_config;
  host_config.runtime.root = std::filesystem::path(args.runtime_root) / args.namespace_name;
  host_config.namespace_name = args.namespace_name;
  host_config.core_defaults.enabled = args.core != "off";
  auto budget = linux_host::parse_descriptor_budget(args.core_budget, "-core-budget");
  if (!budget) {
    spdlog::error("{}", budget.error().message);
    return 1;
  }
  host_config.core_defaults.descriptor_budget = budget.value();
  host_config.core = &core;
  host_config.shim_address = args.socket_path;
  auto started_host = linux_host::LinuxHost::start(std::move(host_config));
  if (!started_host) {
    spdlog::error("{}", started_host.error().message);
    return 1;
  }
  linux_host::LinuxHost& host = *started_host.value();

  EventForwarderConfig event_config = event_forwarder_config(args);
  event_config.runtime_guard = &host.child_guard();
  EventForwarder events(event_config);

  std::mutex exit_mutex;
  std::condition_variable exit_requested;
  bool exiting = false;
  TaskServiceConfig service_config;
  service_config.namespace_name = args.namespace_name;
  service_config.shim_pid = static_cast<std::uint32_t>(::getpid());
  service_config.request_exit = [&] {
    std::lock_guard lock(exit_mutex);
    exiting = true;
    exit_requested.notify_all();
  };
  TaskService service(service_config, host, events);
  ServiceRegistry registry;
  service.register_methods(registry);
  register_core_methods(registry, core);

  std::optional<ttrpc::Server> ttrpc_server;
  std::optional<GrpcTransport> grpc_server;
  if (args.transport == "grpc") {
    auto loaded = GrpcTransport::load();
    if (!loaded) {
      spdlog::error("{}", loaded.error().message);
      host.stop_events();
      return 1;
    }
    grpc_server.emplace(std::move(loaded.value()));
    if (auto serving = grpc_server->serve_fd(registry, kListenerFd); !serving) {
      spdlog::error("gRPC: {}", serving.error().message);
      host.stop_events();
      return 1;
    }
  } else {
    ttrpc_server.emplace(registry);
    if (!ttrpc_server->serve_listener(kListenerFd)) {
      spdlog::error("ttrpc: cannot serve the listener on fd {}", kListenerFd);
      host.stop_events();
      return 1;
    }
  }

  {
    std::unique_lock lock(exit_mutex);
    exit_requested.wait(lock, [&] { return exiting; });
  }
  // The Shutdown call that asked for this is still answering: the servers let requests in flight finish.
  if (ttrpc_server) ttrpc_server->shutdown();
  if (grpc_server) grpc_server->shutdown(std::chrono::milliseconds(500), std::chrono::seconds(2));
  events.flush(std::chrono::seconds(2));
  ::unlink(args.socket_path.c_str());
  host.stop_events();
  spdlog::info("shim for {} exits", args.id);
  return 0;
}

}  // namespace litebox::shim
