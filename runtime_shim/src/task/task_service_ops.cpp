// The task service's RPCs on running tasks (Kill, Pids, Pause, Resume, ResizePty, CloseIO, Update, Stats,
// Connect, Shutdown, Checkpoint) and the registration of every method.
#include <signal.h>
#include <unistd.h>

#include <cstring>

#include <spdlog/spdlog.h>

#include "events.pb.h"
#include "oci/config.hpp"
#include "oci/diagnostics.hpp"
#include "task/metrics.hpp"
#include "task/task_service.hpp"

namespace litebox::shim {

namespace types = containerd::types;
namespace events = containerd::events;

RpcStatus TaskService::kill(const taskapi::KillRequest& request, litebox::wire::Empty&) {
  std::shared_ptr<TaskContainer> container;
  std::shared_ptr<TaskProcess> process;
  {
    std::lock_guard lock(mutex_);
    if (auto found = find(request.id(), request.exec_id(), container, process); !found.ok()) return found;
    if (request.signal() == 0 || request.signal() >= 65) {
      return RpcStatus::error(StatusCode::invalid_argument, "invalid signal " + std::to_string(request.signal()));
    }
    if (process->has_exited() && !(process->is_init() && request.all())) {
      return RpcStatus::error(StatusCode::not_found, "process already finished: not found");
    }
    if (!process->is_init()) {
      if (process->pid == 0) {
        return RpcStatus::error(StatusCode::failed_precondition, "process " + process->exec_id + " was not started");
      }
      // Under the lock: the pid cannot have been reaped (and reused) while we hold it.
      if (::kill(process->pid, static_cast<int>(request.signal())) != 0) {
        return RpcStatus::error(errno == ESRCH ? StatusCode::not_found : StatusCode::unknown,
                                "kill process " + process->exec_id + ": " + std::strerror(errno));
      }
      return {};
    }
  }
  auto killed = runtime_.kill(container->id, static_cast<int>(request.signal()), request.all());
  if (!killed) {
    std::lock_guard lock(mutex_);
    if (process->has_exited()) return RpcStatus::error(StatusCode::not_found, "process already finished: not found");
    return RpcStatus::error(StatusCode::unknown, killed.error().message);
  }
  return {};
}

RpcStatus TaskService::require_container(const std::string& id) const {
  std::lock_guard lock(mutex_);
  std::shared_ptr<TaskContainer> container;
  std::shared_ptr<TaskProcess> process;
  return find(id, "", container, process);
}

RpcStatus TaskService::pids(const taskapi::PidsRequest& request, taskapi::PidsResponse& response) {
  if (auto known = require_container(request.id()); !known.ok()) return known;
  auto pids = runtime_.pids(request.id());
  if (!pids) return RpcStatus::error(StatusCode::unknown, pids.error().message);
  for (pid_t pid : pids.value()) response.add_processes()->set_pid(static_cast<std::uint32_t>(pid));
  return {};
}

RpcStatus TaskService::pause(const taskapi::PauseRequest& request, litebox::wire::Empty&) {
  std::shared_ptr<TaskContainer> container;
  std::shared_ptr<TaskProcess> process;
  {
    std::lock_guard lock(mutex_);
    if (auto found = find(request.id(), "", container, process); !found.ok()) return found;
    if (process->status != types::RUNNING || process->has_exited()) {
      return RpcStatus::error(StatusCode::failed_precondition, "container " + request.id() + " is not running");
    }
  }
  if (auto paused = runtime_.pause(request.id()); !paused) {
    return RpcStatus::error(StatusCode::unknown, paused.error().message);
  }
  std::lock_guard lock(mutex_);
  container->paused = true;
  events::TaskPaused event;
  event.set_container_id(request.id());
  publish_event("/tasks/paused", event);
  return {};
}

RpcStatus TaskService::resume(const taskapi::ResumeRequest& request, litebox::wire::Empty&) {
  std::shared_ptr<TaskContainer> container;
  std::shared_ptr<TaskProcess> process;
  {
    std::lock_guard lock(mutex_);
    if (auto found = find(request.id(), "", container, process); !found.ok()) return found;
    if (!container->paused) {
      return RpcStatus::error(StatusCode::failed_precondition, "container " + request.id() + " is not paused");
    }
  }
  if (auto resumed = runtime_.resume(request.id()); !resumed) {
    return RpcStatus::error(StatusCode::unknown, resumed.error().message);
  }
  std::lock_guard lock(mutex_);
  container->paused = false;
  events::TaskResumed event;
  event.set_container_id(request.id());
  publish_event("/tasks/resumed", event);
  return {};
}

RpcStatus TaskService::checkpoint(const taskapi::CheckpointTaskRequest& request, litebox::wire::Empty&) {
  return RpcStatus::error(StatusCode::unimplemented,
                          "checkpoint of " + request.id() + ": the litebox runtime does not support checkpoint/restore (CRIU) yet");
}

RpcStatus TaskService::resize_pty(const taskapi::ResizePtyRequest& request, litebox::wire::Empty&) {
  std::lock_guard lock(mutex_);
  std::shared_ptr<TaskContainer> container;
  std::shared_ptr<TaskProcess> process;
  if (auto found = find(request.id(), request.exec_id(), container, process); !found.ok()) return found;
  if (!process->io || !process->stdio.terminal) {
    return RpcStatus::error(StatusCode::failed_precondition, "process has no terminal to resize");
  }
  if (auto resized = process->io->resize(request.width(), request.height()); !resized) {
    return RpcStatus::error(StatusCode::unknown, resized.error().message);
  }
  return {};
}

RpcStatus TaskService::close_io(const taskapi::CloseIORequest& request, litebox::wire::Empty&) {
  std::lock_guard lock(mutex_);
  std::shared_ptr<TaskContainer> container;
  std::shared_ptr<TaskProcess> process;
  if (auto found = find(request.id(), request.exec_id(), container, process); !found.ok()) return found;
  if (request.stdin()) {
    process->stdin_closed = true;
    if (process->io) process->io->close_stdin();
  }
  return {};
}

RpcStatus TaskService::update(const taskapi::UpdateTaskRequest& request, litebox::wire::Empty&) {
  if (auto known = require_container(request.id()); !known.ok()) return known;
  auto resources = oci::parse_linux_resources(request.resources().value());
  if (!resources.ok()) {
    return RpcStatus::error(StatusCode::invalid_argument,
                            "update " + request.id() + ": resources: " + oci::format_diagnostics(resources.errors));
  }
  if (auto updated = runtime_.update(request.id(), *resources.value); !updated) {
    return RpcStatus::error(StatusCode::unknown, updated.error().message);
  }
  return {};
}

RpcStatus TaskService::stats(const taskapi::StatsRequest& request, taskapi::StatsResponse& response) {
  if (auto known = require_container(request.id()); !known.ok()) return known;
  auto stats = runtime_.stats(request.id());
  if (!stats) return RpcStatus::error(StatusCode::unknown, stats.error().message);
  *response.mutable_stats() = metrics_any(stats.value(), cgroup_mode_);
  return {};
}

RpcStatus TaskService::connect(const taskapi::ConnectRequest& request, taskapi::ConnectResponse& response) {
  std::lock_guard lock(mutex_);
  response.set_shim_pid(static_cast<std::uint32_t>(::getpid()));
  auto it = containers_.find(request.id());
  if (it != containers_.end()) response.set_task_pid(static_cast<std::uint32_t>(it->second->init->pid));
  return {};
}

RpcStatus TaskService::shutdown(const taskapi::ShutdownRequest& request, litebox::wire::Empty&) {
  std::lock_guard lock(mutex_);
  // Other tasks of this shim (a pod's containers share one) keep it alive, unless containerd says `now`.
  if ((!containers_.empty() && !request.now()) || exit_requested_) return {};
  exit_requested_ = true;
  spdlog::info("no task left: shutting down");
  if (config_.request_exit) config_.request_exit();
  return {};
}

namespace {

template <typename Request, typename Response>
UnaryHandler unary(TaskService* service, RpcStatus (TaskService::*method)(const Request&, Response&)) {
  return [service, method](const CallContext& context, std::string_view bytes, std::string& out) -> RpcStatus {
    Request request;
    if (!request.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      return RpcStatus::error(StatusCode::invalid_argument,
                              context.method + ": malformed " + request.GetTypeName() + " payload");
    }
    Response response;
    RpcStatus status = (service->*method)(request, response);
    spdlog::debug("rpc {}/{} id={} -> {}{}", context.service, context.method, request.id(), static_cast<int>(status.code),
                  status.ok() ? "" : ": " + status.message);
    if (status.ok()) response.SerializeToString(&out);
    return status;
  };
}

}  // namespace

void TaskService::register_methods(ServiceRegistry& registry) {
  for (const char* service : {"containerd.task.v2.Task", "containerd.task.v3.Task"}) {
    registry.add(service, "State", unary(this, &TaskService::state));
    registry.add(service, "Create", unary(this, &TaskService::create));
    registry.add(service, "Start", unary(this, &TaskService::start));
    registry.add(service, "Delete", unary(this, &TaskService::remove));
    registry.add(service, "Pids", unary(this, &TaskService::pids));
    registry.add(service, "Pause", unary(this, &TaskService::pause));
    registry.add(service, "Resume", unary(this, &TaskService::resume));
    registry.add(service, "Checkpoint", unary(this, &TaskService::checkpoint));
    registry.add(service, "Kill", unary(this, &TaskService::kill));
    registry.add(service, "Exec", unary(this, &TaskService::exec));
    registry.add(service, "ResizePty", unary(this, &TaskService::resize_pty));
    registry.add(service, "CloseIO", unary(this, &TaskService::close_io));
    registry.add(service, "Update", unary(this, &TaskService::update));
    registry.add(service, "Wait", unary(this, &TaskService::wait));
    registry.add(service, "Stats", unary(this, &TaskService::stats));
    registry.add(service, "Connect", unary(this, &TaskService::connect));
    registry.add(service, "Shutdown", unary(this, &TaskService::shutdown));
  }
}

}  // namespace litebox::shim
