// The task service's lifecycle RPCs: Create, Start, Exec, Delete, State, Wait, and the exit path.
#include "task/task_service.hpp"

#include <thread>

#include <spdlog/spdlog.h>

#include "events.pb.h"
#include "oci/config.hpp"
#include "oci/diagnostics.hpp"
#include "task/host_status.hpp"
#include "task/timestamps.hpp"
#include "rpc/stdio_accessor_names.hpp"  // last

namespace litebox::shim {

namespace types = containerd::types;
namespace events = containerd::events;

namespace {

// When the process exited, or Go's zero time while it has not.
void set_exit_time(litebox::wire::Timestamp& out, const TaskProcess& process) {
  if (process.status == types::STOPPED) {
    set_timestamp(out, process.exited_at);
  } else {
    set_never(out);
  }
}

bool valid_id(const std::string& id) {
  return !id.empty() && id.size() <= 1024 && id.find('/') == std::string::npos && id != "." && id != "..";
}

}  // namespace

TaskService::TaskService(TaskServiceConfig config, platform::Host& host, EventPublisher& events)
    : config_(std::move(config)), host_(host), events_(events) {
  host_.on_oom([this](const std::string& id) {
    events::TaskOOM event;
    event.set_container_id(id);
    publish_event("/tasks/oom", event);
  });
}

TaskService::~TaskService() {
  {
    // A Wait for a process that can no longer exit (an exec never started) would block for good, and the
    // condition variable cannot be destroyed under a waiter.
    std::unique_lock lock(mutex_);
    closing_ = true;
    exited_.notify_all();
    exited_.wait_for(lock, std::chrono::seconds(5), [&] { return waiting_ == 0; });
  }
  // Exit threads hold a pointer to us: let them finish.
  for (int i = 0; i < 500 && finishing_.load() > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

std::size_t TaskService::container_count() const {
  std::lock_guard lock(mutex_);
  return containers_.size();
}

void TaskService::publish(const char* topic, const std::string& type_name, const std::string& bytes) {
  events_.publish(topic, type_name, bytes);
}

RpcStatus TaskService::find(const std::string& id, const std::string& exec_id,
                            std::shared_ptr<TaskContainer>& container, std::shared_ptr<TaskProcess>& process) const {
  auto it = containers_.find(id);
  if (it == containers_.end()) return RpcStatus::error(StatusCode::not_found, "container " + id + ": not found");
  container = it->second;
  if (exec_id.empty()) {
    process = container->init;
    return {};
  }
  auto e = container->execs.find(exec_id);
  if (e == container->execs.end()) {
    return RpcStatus::error(StatusCode::not_found, "process " + exec_id + " does not exist " + id + ": not found");
  }
  process = e->second;
  return {};
}

RpcStatus TaskService::create(const taskapi::CreateTaskRequest& request, taskapi::CreateTaskResponse& response) {
  const std::string& id = request.id();
  if (!valid_id(id)) return RpcStatus::error(StatusCode::invalid_argument, "invalid container id \"" + id + "\"");
  if (!request.checkpoint().empty() || !request.parent_checkpoint().empty()) {
    return RpcStatus::error(StatusCode::unimplemented, "restoring from a checkpoint is not supported by the litebox runtime");
  }
  std::filesystem::path bundle = request.bundle();
  if (bundle.empty() || !bundle.is_absolute()) {
    return RpcStatus::error(StatusCode::invalid_argument, "bundle must be an absolute path, got \"" + request.bundle() + "\"");
  }
  {
    std::lock_guard lock(mutex_);
    if (containers_.count(id) != 0) return RpcStatus::error(StatusCode::already_exists, "container " + id + ": already exists");
  }

  auto container = std::make_shared<TaskContainer>();
  container->id = id;
  container->bundle = bundle;
  auto init = std::make_shared<TaskProcess>();
  init->container_id = id;
  init->stdio = platform::StdioPaths{request.stdin(), request.stdout(), request.stderr(), request.terminal()};
  container->init = init;

  platform::CreateParams params;
  params.id = id;
  params.ns = config_.namespace_name;
  params.bundle = bundle;
  for (const auto& m : request.rootfs()) {
    params.rootfs.push_back({m.type(), m.source(), m.target(), {m.options().begin(), m.options().end()}});
  }
  params.stdio = init->stdio;
  params.on_init_exit = exit_callback(init);
  auto created = host_.create(std::move(params));
  if (!created) return host_error(created.error());
  container->handle = std::move(created.value());
  {
    std::lock_guard lock(mutex_);
    init->handle = &container->handle->init();
    init->pid = init->handle->pid();
    containers_[id] = container;
    register_process(init);
  }

  events::TaskCreate event;
  event.set_container_id(id);
  event.set_bundle(request.bundle());
  for (const auto& m : request.rootfs()) *event.add_rootfs() = m;
  auto* event_io = event.mutable_io();
  event_io->set_stdin(request.stdin());
  event_io->set_stdout(request.stdout());
  event_io->set_stderr(request.stderr());
  event_io->set_terminal(request.terminal());
  event.set_pid(init->pid);
  publish_event("/tasks/create", event);
  response.set_pid(init->pid);
  return {};
}

RpcStatus TaskService::start(const taskapi::StartRequest& request, taskapi::StartResponse& response) {
  std::shared_ptr<TaskContainer> container;
  std::shared_ptr<TaskProcess> process;
  {
    std::lock_guard lock(mutex_);
    if (auto found = find(request.id(), request.exec_id(), container, process); !found.ok()) return found;
    if (process->status != types::CREATED || process->has_exited() || (process->pid != 0 && !process->is_init())) {
      return RpcStatus::error(StatusCode::failed_precondition,
                              "process " + (process->is_init() ? request.id() : request.exec_id()) + " was already started");
    }
  }
  return process->is_init() ? start_init(container, response) : start_exec(container, process, response);
}

RpcStatus TaskService::start_init(const std::shared_ptr<TaskContainer>& container, taskapi::StartResponse& response) {
  if (auto started = container->handle->start(); !started) return host_error(started.error());
  const auto& init = container->init;
  {
    std::lock_guard lock(mutex_);
    if (!init->has_exited()) init->status = types::RUNNING;
    events::TaskStart event;
    event.set_container_id(container->id);
    event.set_pid(init->pid);
    // Published under the lock: a fast exit's /tasks/exit is published under it too, so it comes after.
    publish_event("/tasks/start", event);
  }
  response.set_pid(init->pid);
  return {};
}

void TaskService::never_started(TaskProcess& process) {
  // As runc's shim does: an exec that failed to start (or can no longer start) releases its Wait, which
  // nerdctl and CRI issue before Start; 255 as its status, since it never ran.
  if (process.status != types::CREATED) return;
  process.status = types::STOPPED;
  process.exit_status = 255;
  process.exited_at = std::chrono::system_clock::now();
  exited_.notify_all();
}

RpcStatus TaskService::start_exec(const std::shared_ptr<TaskContainer>& container,
                                  const std::shared_ptr<TaskProcess>& process, taskapi::StartResponse& response) {
  auto failed = [&](RpcStatus status) {
    std::lock_guard lock(mutex_);
    never_started(*process);
    return status;
  };
  {
    std::lock_guard lock(mutex_);
    if (container->init->has_exited()) {
      never_started(*process);
      return RpcStatus::error(StatusCode::failed_precondition, "container " + container->id + " is not running");
    }
  }
  platform::ExecParams params;
  params.exec_id = process->exec_id;
  params.process = process->exec_spec;
  params.stdio = process->stdio;
  params.on_exit = exit_callback(process);
  auto started = container->handle->exec(std::move(params));
  if (!started) return failed(host_error(started.error()));
  {
    std::lock_guard lock(mutex_);
    process->exec_handle = std::move(started.value());
    process->handle = process->exec_handle.get();
    if (process->stdin_closed) process->handle->close_stdin();
    process->pid = process->handle->pid();
    if (!process->reaped) process->status = types::RUNNING;
    events::TaskExecStarted event;
    event.set_container_id(container->id);
    event.set_exec_id(process->exec_id);
    event.set_pid(process->pid);
    // Before the exit's finishing starts: /tasks/exec-started precedes its /tasks/exit.
    publish_event("/tasks/exec-started", event);
    register_process(process);
  }
  response.set_pid(process->pid);
  return {};
}

RpcStatus TaskService::exec(const taskapi::ExecProcessRequest& request, litebox::wire::Empty&) {
  if (!valid_id(request.exec_id())) {
    return RpcStatus::error(StatusCode::invalid_argument, "invalid exec id \"" + request.exec_id() + "\"");
  }
  auto parsed = oci::parse_process(request.spec().value());
  if (!parsed.ok()) {
    return RpcStatus::error(StatusCode::invalid_argument, "exec " + request.exec_id() + ": process spec: " +
                                                              oci::format_diagnostics(parsed.errors));
  }
  if (parsed.value->args.empty()) {
    return RpcStatus::error(StatusCode::invalid_argument, "exec " + request.exec_id() + ": process spec has no args");
  }
  std::lock_guard lock(mutex_);
  auto it = containers_.find(request.id());
  if (it == containers_.end()) return RpcStatus::error(StatusCode::not_found, "container " + request.id() + ": not found");
  auto& container = it->second;
  if (container->init->has_exited()) {
    return RpcStatus::error(StatusCode::failed_precondition, "container " + request.id() + " is not running");
  }
  if (container->execs.count(request.exec_id()) != 0) {
    return RpcStatus::error(StatusCode::already_exists, "id " + request.exec_id() + ": already exists");
  }
  auto process = std::make_shared<TaskProcess>();
  process->container_id = request.id();
  process->exec_id = request.exec_id();
  process->stdio = platform::StdioPaths{request.stdin(), request.stdout(), request.stderr(), request.terminal()};
  process->exec_spec = std::move(*parsed.value);
  process->exec_spec.terminal = request.terminal();
  container->execs[request.exec_id()] = process;
  events::TaskExecAdded event;
  event.set_container_id(request.id());
  event.set_exec_id(request.exec_id());
  publish_event("/tasks/exec-added", event);
  return {};
}

RpcStatus TaskService::state(const taskapi::StateRequest& request, taskapi::StateResponse& response) {
  std::lock_guard lock(mutex_);
  std::shared_ptr<TaskContainer> container;
  std::shared_ptr<TaskProcess> process;
  if (auto found = find(request.id(), request.exec_id(), container, process); !found.ok()) return found;
  response.set_id(process->is_init() ? container->id : process->exec_id);
  response.set_bundle(container->bundle.string());
  response.set_pid(process->pid);
  auto status = process->status;
  if (status == types::RUNNING && container->paused) status = types::PAUSED;
  response.set_status(status);
  response.set_stdin(process->stdio.stdin_path);
  response.set_stdout(process->stdio.stdout_path);
  response.set_stderr(process->stdio.stderr_path);
  response.set_terminal(process->stdio.terminal);
  response.set_exit_status(process->exit_status);
  set_exit_time(*response.mutable_exited_at(), *process);
  response.set_exec_id(process->exec_id);
  return {};
}

RpcStatus TaskService::wait(const taskapi::WaitRequest& request, taskapi::WaitResponse& response) {
  std::unique_lock lock(mutex_);
  std::shared_ptr<TaskContainer> container;
  std::shared_ptr<TaskProcess> process;
  if (auto found = find(request.id(), request.exec_id(), container, process); !found.ok()) return found;
  ++waiting_;
  exited_.wait(lock, [&] { return process->status == types::STOPPED || closing_; });
  --waiting_;
  if (process->status != types::STOPPED) {
    exited_.notify_all();  // the destructor waits for the last waiter
    return RpcStatus::error(StatusCode::unavailable, "the shim is shutting down");
  }
  response.set_exit_status(process->exit_status);
  set_timestamp(*response.mutable_exited_at(), process->exited_at);
  return {};
}

RpcStatus TaskService::remove(const taskapi::DeleteRequest& request, taskapi::DeleteResponse& response) {
  std::shared_ptr<TaskContainer> container;
  std::shared_ptr<TaskProcess> process;
  {
    std::lock_guard lock(mutex_);
    if (auto found = find(request.id(), request.exec_id(), container, process); !found.ok()) return found;
    if (!process->is_init()) {
      if (process->status == types::RUNNING || (process->reaped && process->status != types::STOPPED)) {
        return RpcStatus::error(StatusCode::failed_precondition,
                                "cannot delete running process " + process->exec_id + " of " + container->id);
      }
      never_started(*process);
      container->execs.erase(process->exec_id);
      response.set_pid(process->pid);
      response.set_exit_status(process->exit_status);
      set_exit_time(*response.mutable_exited_at(), *process);
      return {};
    }
    if (process->status == types::RUNNING || (process->reaped && process->status != types::STOPPED)) {
      return RpcStatus::error(StatusCode::failed_precondition,
                              "cannot delete running task " + container->id + ": stop it first");
    }
  }
  // Created but never started, or stopped: the host removes what is left (a parked init, the cgroup or
  // job, its state, the rootfs mounts).
  if (auto removed = container->handle->destroy(); !removed) {
    spdlog::warn("delete {}: {}", container->id, removed.error().message);
  }
  {
    std::unique_lock lock(mutex_);
    // A created-but-never-started init was killed by the removal: its exit may still be in flight.
    if (process->pid != 0 && process->status != types::STOPPED) {
      exited_.wait_for(lock, std::chrono::seconds(2), [&] { return process->status == types::STOPPED; });
      if (process->status != types::STOPPED) {
        process->status = types::STOPPED;
        process->exit_status = 128 + platform::signals::kill;
        process->exited_at = std::chrono::system_clock::now();
      }
    }
    containers_.erase(container->id);
    events::TaskDelete event;
    event.set_container_id(container->id);
    event.set_pid(process->pid);
    event.set_exit_status(process->exit_status);
    set_timestamp(*event.mutable_exited_at(), process->exited_at);
    publish_event("/tasks/delete", event);
  }
  response.set_pid(process->pid);
  response.set_exit_status(process->exit_status);
  set_timestamp(*response.mutable_exited_at(), process->exited_at);
  return {};
}

platform::ExitCallback TaskService::exit_callback(const std::shared_ptr<TaskProcess>& process) {
  std::weak_ptr<TaskProcess> weak = process;
  return [this, weak](std::uint32_t exit_status) {
    auto p = weak.lock();
    if (!p) return;
    std::lock_guard lock(mutex_);
    if (p->reaped || p->status == types::STOPPED) return;
    p->reaped = true;
    p->exit_status = exit_status;
    p->exited_at = std::chrono::system_clock::now();
    spdlog::debug("process {} of {} (pid {}) exited with {}", p->is_init() ? "init" : p->exec_id, p->container_id,
                  p->pid, exit_status);
    if (p->registered) start_finishing(std::move(p));
  };
}

void TaskService::register_process(const std::shared_ptr<TaskProcess>& process) {
  process->registered = true;
  if (process->reaped) start_finishing(process);
}

void TaskService::start_finishing(std::shared_ptr<TaskProcess> process) {
  // Finishing an exit waits (for output to drain, for an init's exec'd processes to go first): not on the
  // host's thread.
  ++finishing_;
  std::thread([this, process = std::move(process)] {
    finish_exit(process);
    --finishing_;
  }).detach();
}

void TaskService::finish_exit(std::shared_ptr<TaskProcess> process) {
  std::shared_ptr<TaskContainer> container;
  {
    std::lock_guard lock(mutex_);
    auto it = containers_.find(process->container_id);
    if (it != containers_.end()) container = it->second;
  }
  if (process->is_init() && container) {
    // What the init leaves behind dies with it (a container sharing the host's pid namespace keeps its
    // processes otherwise), and their exits are published before the init's.
    if (auto killed = container->handle->signal_all(platform::signals::kill); !killed) {
      spdlog::debug("kill the rest of {}: {}", container->id, killed.error().message);
    }
    std::unique_lock lock(mutex_);
    exited_.wait_for(lock, std::chrono::seconds(10), [&] {
      for (auto& [exec_id, exec_process] : container->execs) {
        if (exec_process->status == types::RUNNING) return false;
      }
      return true;
    });
  }
  if (process->handle) process->handle->finish_io(config_.io_drain_limit);
  std::lock_guard lock(mutex_);
  process->status = types::STOPPED;
  events::TaskExit event;
  event.set_container_id(process->container_id);
  event.set_id(process->is_init() ? process->container_id : process->exec_id);
  event.set_pid(process->pid);
  event.set_exit_status(process->exit_status);
  set_timestamp(*event.mutable_exited_at(), process->exited_at);
  publish_event("/tasks/exit", event);
  exited_.notify_all();
}

}  // namespace litebox::shim
