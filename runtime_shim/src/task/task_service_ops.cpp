// The task service's RPCs on running tasks (Kill, Pids, Pause, Resume, ResizePty, CloseIO, Update, Stats,
// Connect, Shutdown, Checkpoint) and the registration of every method.
#include <spdlog/spdlog.h>

#include "events.pb.h"
#include "task/host_status.hpp"
#include "task/task_service.hpp"
#include "rpc/stdio_accessor_names.hpp"  // last

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
      if (auto killed = process->handle->signal(static_cast<int>(request.signal())); !killed) {
        return RpcStatus::error(killed.error().code == ESRCH ? StatusCode::not_found : StatusCode::unknown,
                                "kill process " + process->exec_id + ": " + killed.error().message);
      }
      return {};
    }
  }
  auto killed = request.all() ? container->handle->signal_all(static_cast<int>(request.signal()))
                              : process->handle->signal(static_cast<int>(request.signal()));
  if (!killed) {
    std::lock_guard lock(mutex_);
    if (process->has_exited()) return RpcStatus::error(StatusCode::not_found, "process already finished: not found");
    return RpcStatus::error(StatusCode::unknown, killed.error().message);
  }
  return {};
}

RpcStatus TaskService::require_container(const std::string& id, std::shared_ptr<TaskContainer>& container) const {
  std::lock_guard lock(mutex_);
  std::shared_ptr<TaskProcess> process;
  return find(id, "", container, process);
}

RpcStatus TaskService::pids(const taskapi::PidsRequest& request, taskapi::PidsResponse& response) {
  std::shared_ptr<TaskContainer> container;
  if (auto known = require_container(request.id(), container); !known.ok()) return known;
  auto pids = container->handle->pids();
  if (!pids) return host_error(pids.error());
  for (const auto& p : pids.value()) response.add_processes()->set_pid(p.pid);
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
  if (auto paused = container->handle->pause(); !paused) return host_error(paused.error());
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
  if (auto resumed = container->handle->resume(); !resumed) return host_error(resumed.error());
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
  if (!process->handle || !process->stdio.terminal) {
    return RpcStatus::error(StatusCode::failed_precondition, "process has no terminal to resize");
  }
  if (auto resized = process->handle->resize_terminal(request.width(), request.height()); !resized) {
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
    if (process->handle) process->handle->close_stdin();
  }
  return {};
}

RpcStatus TaskService::update(const taskapi::UpdateTaskRequest& request, litebox::wire::Empty&) {
  std::shared_ptr<TaskContainer> container;
  if (auto known = require_container(request.id(), container); !known.ok()) return known;
  if (auto updated = container->handle->update(request.resources().value()); !updated) return host_error(updated.error());
  return {};
}

RpcStatus TaskService::stats(const taskapi::StatsRequest& request, taskapi::StatsResponse& response) {
  std::shared_ptr<TaskContainer> container;
  if (auto known = require_container(request.id(), container); !known.ok()) return known;
  auto stats = container->handle->stats();
  if (!stats) return host_error(stats.error());
  response.mutable_stats()->set_type_url(stats.value().type_url);
  response.mutable_stats()->set_value(std::move(stats.value().value));
  return {};
}

RpcStatus TaskService::connect(const taskapi::ConnectRequest& request, taskapi::ConnectResponse& response) {
  std::lock_guard lock(mutex_);
  response.set_shim_pid(config_.shim_pid);
  auto it = containers_.find(request.id());
  if (it != containers_.end()) response.set_task_pid(it->second->init->pid);
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
