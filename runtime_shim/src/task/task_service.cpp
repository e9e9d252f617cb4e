// The task service's lifecycle RPCs: Create, Start, Exec, Delete, State, Wait, and the exit path.
#include "task/task_service.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <shared_mutex>
#include <thread>

#include <spdlog/spdlog.h>

#include "events.pb.h"
#include "oci/bundle.hpp"
#include "oci/config.hpp"
#include "oci/diagnostics.hpp"
#include "task/rootfs_mounts.hpp"
#include "task/timestamps.hpp"

namespace litebox::shim {

namespace types = containerd::types;
namespace events = containerd::events;

namespace {

RpcStatus runtime_error(const linux_host::Error& error, StatusCode code = StatusCode::unknown) {
  return RpcStatus::error(code, error.message);
}

std::uint32_t exit_code_of(int wait_status) {
  if (WIFEXITED(wait_status)) return static_cast<std::uint32_t>(WEXITSTATUS(wait_status));
  if (WIFSIGNALED(wait_status)) return 128u + static_cast<std::uint32_t>(WTERMSIG(wait_status));
  return 255;
}

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

TaskService::TaskService(TaskServiceConfig config, linux_host::Runtime& runtime, Reaper& reaper,
                         EventPublisher& events)
    : config_(std::move(config)), runtime_(runtime), reaper_(reaper), events_(events) {
  if (auto host = linux_host::CgroupHost::detect()) cgroup_mode_ = host.value().mode;
  oom_ = std::make_unique<OomWatcher>([this](const std::string& id) {
    events::TaskOOM event;
    event.set_container_id(id);
    spdlog::info("container {}: OOM kill", id);
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
  oom_.reset();
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

namespace {

// For litebox-ctl, which finds a container's shim by the container's id.
void write_shim_address(const std::filesystem::path& file, const std::string& address) {
  if (address.empty()) return;
  std::ofstream out(file, std::ios::trunc);
  out << address << "\n";
  if (!out) spdlog::debug("cannot write {}", file.string());
}

}  // namespace

linux_host::Expected<std::optional<CoreChannel>> TaskService::core_channel_for(const std::string& id,
                                                                             const std::filesystem::path& bundle) {
  if (config_.core == nullptr) return std::optional<CoreChannel>{};
  auto spec = oci::load_bundle(bundle);
  if (!spec.value) return std::optional<CoreChannel>{};  // the runtime reports what is wrong with the bundle
  auto policy = core_policy_for(config_.core_defaults, spec.value->annotations);
  if (!policy) return std::move(policy).error();
  if (!policy.value()) return std::optional<CoreChannel>{};
  auto channel = CoreChannel::open(filter_scope(*policy.value()));
  if (!channel) return std::move(channel).error();
  config_.core->add_container(id, *policy.value());
  return std::optional<CoreChannel>{std::move(channel.value())};
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
  init->stdio = StdioPaths{request.stdin(), request.stdout(), request.stderr(), request.terminal()};
  container->init = init;

  std::vector<RootfsMount> mounts;
  for (const auto& m : request.rootfs()) mounts.push_back({m.type(), m.source(), {m.options().begin(), m.options().end()}});
  const auto rootfs = bundle / "rootfs";
  if (!mounts.empty()) {
    auto mounted = mount_rootfs(mounts, rootfs);
    if (!mounted) return runtime_error(mounted.error());
    container->rootfs_mounted = true;
  }
  auto undo_mounts = [&] {
    if (container->rootfs_mounted) (void)unmount_rootfs(rootfs);
  };

  auto io = ProcessIo::open(init->stdio, id, config_.namespace_name);
  if (!io) {
    undo_mounts();
    return runtime_error(io.error());
  }
  init->io = std::move(io.value());

  linux_host::CreateRequest create_request;
  create_request.id = id;
  create_request.bundle = bundle;
  create_request.io = init->io->process_stdio();
  auto core = core_channel_for(id, bundle);
  if (!core) {
    init->io.reset();
    undo_mounts();
    return RpcStatus::error(StatusCode::invalid_argument, "create " + id + ": " + core.error().message);
  }
  if (core.value()) {
    create_request.core_channel = core.value()->process_end();
    create_request.core_scope = core.value()->scope();
    container->core = true;
    container->core_scope = core.value()->scope();
    if (auto handed = core.value()->hand_to(*config_.core, id); !handed) {
      init->io.reset();
      undo_mounts();
      config_.core->remove_container(id);
      return runtime_error(handed.error());
    }
  }
  {
    // The runtime forks and waits for its helpers: keep the reaper off them, and register the init's pid
    // before the reaper can see it exit.
    std::shared_lock guard(reaper_.runtime_guard());
    auto created = runtime_.create(create_request);
    if (!created) {
      init->io.reset();
      undo_mounts();
      if (core.value()) config_.core->remove_container(id);
      spdlog::warn("create {}: {}", id, created.error().message);
      return runtime_error(created.error());
    }
    init->pid = created.value().pid;
    init->io->attach(created.value().console_master);
    if (core.value()) write_shim_address(runtime_.config().root / id / "shim.address", config_.shim_address);
    std::lock_guard lock(mutex_);
    containers_[id] = container;
    by_pid_[init->pid] = init;
  }
  if (auto notifier = runtime_.oom_notifier(id)) {
    oom_->watch(id, std::move(notifier.value()));
  } else {
    spdlog::debug("create {}: no OOM notification: {}", id, notifier.error().message);
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
  event.set_pid(static_cast<std::uint32_t>(init->pid));
  publish_event("/tasks/create", event);
  response.set_pid(static_cast<std::uint32_t>(init->pid));
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
  {
    std::shared_lock guard(reaper_.runtime_guard());
    auto started = runtime_.start(container->id);
    if (!started) return runtime_error(started.error());
  }
  const auto& init = container->init;
  {
    std::lock_guard lock(mutex_);
    if (!init->has_exited()) init->status = types::RUNNING;
    events::TaskStart event;
    event.set_container_id(container->id);
    event.set_pid(static_cast<std::uint32_t>(init->pid));
    // Published under the lock: a fast exit's /tasks/exit is published under it too, so it comes after.
    publish_event("/tasks/start", event);
  }
  response.set_pid(static_cast<std::uint32_t>(init->pid));
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
  auto io = ProcessIo::open(process->stdio, container->id, config_.namespace_name);
  if (!io) return failed(runtime_error(io.error()));
  {
    std::shared_lock guard(reaper_.runtime_guard());
    linux_host::ExecRequest exec_request;
    exec_request.process = process->exec_spec;
    exec_request.io = io.value()->process_stdio();
    std::optional<CoreChannel> core;
    if (container->core) {
      auto channel = CoreChannel::open(container->core_scope);
      if (!channel) return failed(runtime_error(channel.error()));
      core.emplace(std::move(channel.value()));
      exec_request.core_channel = core->process_end();
      exec_request.core_scope = core->scope();
      if (auto handed = core->hand_to(*config_.core, container->id); !handed) {
        return failed(runtime_error(handed.error()));
      }
    }
    auto started = runtime_.exec(container->id, exec_request);
    if (!started) return failed(runtime_error(started.error()));

    io.value()->attach(started.value().console_master);
    std::lock_guard lock(mutex_);
    process->io = std::move(io.value());
    if (process->stdin_closed) process->io->close_stdin();
    process->pid = started.value().pid;
    process->status = types::RUNNING;
    by_pid_[process->pid] = process;
    events::TaskExecStarted event;
    event.set_container_id(container->id);
    event.set_exec_id(process->exec_id);
    event.set_pid(static_cast<std::uint32_t>(process->pid));
    publish_event("/tasks/exec-started", event);
  }
  response.set_pid(static_cast<std::uint32_t>(process->pid));
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
  process->stdio = StdioPaths{request.stdin(), request.stdout(), request.stderr(), request.terminal()};
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
  response.set_pid(static_cast<std::uint32_t>(process->pid));
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
      if (process->pid != 0) by_pid_.erase(process->pid);
      response.set_pid(static_cast<std::uint32_t>(process->pid));
      response.set_exit_status(process->exit_status);
      set_exit_time(*response.mutable_exited_at(), *process);
      return {};
    }
    if (process->status == types::RUNNING || (process->reaped && process->status != types::STOPPED)) {
      return RpcStatus::error(StatusCode::failed_precondition,
                              "cannot delete running task " + container->id + ": stop it first");
    }
  }
  // Created but never started, or stopped: the runtime removes what is left (the parked init, the cgroup,
  // its state) and runs the poststop hooks.
  oom_->forget(container->id);
  linux_host::Status removed;
  {
    std::shared_lock guard(reaper_.runtime_guard());
    removed = runtime_.remove(container->id, true);
  }
  if (!removed) spdlog::warn("delete {}: {}", container->id, removed.error().message);
  if (container->core) config_.core->remove_container(container->id);
  if (container->rootfs_mounted) {
    if (auto unmounted = unmount_rootfs(container->bundle / "rootfs"); !unmounted) {
      spdlog::warn("delete {}: {}", container->id, unmounted.error().message);
    }
  }
  {
    std::unique_lock lock(mutex_);
    // A created-but-never-started init was killed by the removal: its exit may still be in flight.
    if (process->pid != 0 && process->status != types::STOPPED) {
      exited_.wait_for(lock, std::chrono::seconds(2), [&] { return process->status == types::STOPPED; });
      if (process->status != types::STOPPED) {
        process->status = types::STOPPED;
        process->exit_status = 128 + SIGKILL;
        process->exited_at = std::chrono::system_clock::now();
      }
    }
    by_pid_.erase(process->pid);
    for (auto& [exec_id, exec_process] : container->execs) by_pid_.erase(exec_process->pid);
    containers_.erase(container->id);
    events::TaskDelete event;
    event.set_container_id(container->id);
    event.set_pid(static_cast<std::uint32_t>(process->pid));
    event.set_exit_status(process->exit_status);
    set_timestamp(*event.mutable_exited_at(), process->exited_at);
    publish_event("/tasks/delete", event);
  }
  response.set_pid(static_cast<std::uint32_t>(process->pid));
  response.set_exit_status(process->exit_status);
  set_timestamp(*response.mutable_exited_at(), process->exited_at);
  return {};
}

void TaskService::on_child_exit(pid_t pid, int wait_status) {
  std::shared_ptr<TaskProcess> process;
  {
    std::lock_guard lock(mutex_);
    auto it = by_pid_.find(pid);
    if (it == by_pid_.end()) {
      spdlog::debug("reaped pid {} (status {:#x}), not a task process", pid, wait_status);
      return;
    }
    process = it->second;
    if (process->reaped || process->status == types::STOPPED) return;
    process->reaped = true;
    process->exit_status = exit_code_of(wait_status);
    process->exited_at = std::chrono::system_clock::now();
  }
  spdlog::debug("process {} of {} (pid {}) exited with {}", process->is_init() ? "init" : process->exec_id,
                process->container_id, pid, process->exit_status);
  // Finishing an exit waits (for output to drain, for an init's exec'd processes to go first): not on the
  // reaper's thread.
  ++finishing_;
  std::thread([this, process] {
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
    if (auto killed = runtime_.kill(container->id, SIGKILL, true); !killed) {
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
  if (process->io) process->io->finish(config_.io_drain_limit);
  if (process->is_init()) oom_->collect(process->container_id);  // its /tasks/oom before its /tasks/exit
  std::lock_guard lock(mutex_);
  process->status = types::STOPPED;
  events::TaskExit event;
  event.set_container_id(process->container_id);
  event.set_id(process->is_init() ? process->container_id : process->exec_id);
  event.set_pid(static_cast<std::uint32_t>(process->pid));
  event.set_exit_status(process->exit_status);
  set_timestamp(*event.mutable_exited_at(), process->exited_at);
  publish_event("/tasks/exit", event);
  exited_.notify_all();
}

}  // namespace litebox::shim
