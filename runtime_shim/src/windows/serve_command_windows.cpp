// `serve` on Windows: the long-lived shim. It serves the task service over ttrpc on the named pipe `start`
// printed, runs the containers as job objects (platforms/windows), logs to the log pipe containerd connects
// to, publishes events, and exits when Shutdown finds no task left. The job objects are KILL_ON_JOB_CLOSE:
// whatever runs in them ends with this process.
#include <windows.h>

#include <condition_variable>
#include <mutex>

#include <spdlog/spdlog.h>

#include "commands/bootstrap_common.hpp"
#include "commands/commands.hpp"
#include "litebox/windows/windows_host.hpp"
#include "task/event_forwarder.hpp"
#include "task/task_service.hpp"
#include "ttrpc/named_pipe_stream.hpp"
#include "ttrpc/server.hpp"
#include "windows/log_pipe.hpp"
#include "windows/shim_pipes.hpp"

namespace litebox::shim {

int serve_command(const ShimArgs& args) {
  log_to_containerd_pipe(shim_log_pipe_address(args.namespace_name, args.id), args.log_level, args.debug);
  spdlog::info("serving {} in namespace {} on {} ({})", args.id, args.namespace_name, args.socket_path,
               windows_host::kJobOnly);
  std::string error;
  // Exclusive: a second server for the same pipe name would split containerd's connections between two shims.
  auto listener = ttrpc::named_pipe_listener(args.socket_path, true, error);
  if (!listener) {
    spdlog::error("ttrpc: {}: {}", args.socket_path, error);
    return 1;
  }
  auto host = windows_host::make_host();

  EventForwarder events(event_forwarder_config(args));

  std::mutex exit_mutex;
  std::condition_variable exit_requested;
  bool exiting = false;
  TaskServiceConfig service_config;
  service_config.namespace_name = args.namespace_name;
  service_config.shim_pid = static_cast<std::uint32_t>(GetCurrentProcessId());
  service_config.request_exit = [&] {
    std::lock_guard lock(exit_mutex);
    exiting = true;
    exit_requested.notify_all();
  };
  TaskService service(service_config, *host, events);
  ServiceRegistry registry;
  service.register_methods(registry);

  ttrpc::Server server(registry);
  if (!server.serve_listener(std::move(listener))) {
    spdlog::error("ttrpc: cannot serve {}", args.socket_path);
    host->stop_events();
    return 1;
  }
  {
    std::unique_lock lock(exit_mutex);
    exit_requested.wait(lock, [&] { return exiting; });
  }
  // The Shutdown call that asked for this is still answering: the server lets requests in flight finish.
  server.shutdown();
  events.flush(std::chrono::seconds(2));
  host->stop_events();
  spdlog::info("shim for {} exits", args.id);
  return 0;
}

}  // namespace litebox::shim
