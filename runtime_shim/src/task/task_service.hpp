// containerd's task service (containerd.task.v2.Task / v3.Task) over the Linux runtime: containers and
// their processes, their I/O, exits and events. Transport-neutral: register_methods() puts every RPC into
// a ServiceRegistry that ttrpc and gRPC serve.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "litebox/linux/cgroups.hpp"
#include "litebox/linux/container.hpp"
#include "rpc/service_registry.hpp"
#include "task.pb.h"
#include "task/core_attachment.hpp"
#include "task/event_publisher.hpp"
#include "task/oom_watcher.hpp"
#include "task/reaper.hpp"
#include "task/task_records.hpp"
#include "wire.pb.h"

namespace litebox::shim {

namespace taskapi = containerd::task::v3;

struct TaskServiceConfig {
  std::string namespace_name = "default";
  // Called (once) when Shutdown finds no task left: the shim should stop serving and exit.
  std::function<void()> request_exit;
  // How long an exited process's output may take to drain before its exit is published anyway.
  std::chrono::milliseconds io_drain_limit{2000};
  // The LiteBox core (null: every container runs without it) and when it serves a container.
  linux_host::core::CoreService* core = nullptr;
  CoreDefaults core_defaults;
  // The shim's socket, written next to each container's runtime state (shim.address) for litebox-ctl.
  std::string shim_address;
};

class TaskService {
 public:
  TaskService(TaskServiceConfig config, linux_host::Runtime& runtime, Reaper& reaper, EventPublisher& events);
  TaskService(const TaskService&) = delete;
  TaskService& operator=(const TaskService&) = delete;
  ~TaskService();

  // Every RPC under both "containerd.task.v2.Task" and "containerd.task.v3.Task".
  void register_methods(ServiceRegistry& registry);

  // The reaper's callback (its thread, its guard held): a child of the shim exited.
  void on_child_exit(pid_t pid, int wait_status);

  RpcStatus create(const taskapi::CreateTaskRequest& request, taskapi::CreateTaskResponse& response);
  RpcStatus start(const taskapi::StartRequest& request, taskapi::StartResponse& response);
  RpcStatus remove(const taskapi::DeleteRequest& request, taskapi::DeleteResponse& response);
  RpcStatus exec(const taskapi::ExecProcessRequest& request, litebox::wire::Empty& response);
  RpcStatus state(const taskapi::StateRequest& request, taskapi::StateResponse& response);
  RpcStatus wait(const taskapi::WaitRequest& request, taskapi::WaitResponse& response);
  RpcStatus kill(const taskapi::KillRequest& request, litebox::wire::Empty& response);
  RpcStatus pids(const taskapi::PidsRequest& request, taskapi::PidsResponse& response);
  RpcStatus pause(const taskapi::PauseRequest& request, litebox::wire::Empty& response);
  RpcStatus resume(const taskapi::ResumeRequest& request, litebox::wire::Empty& response);
  RpcStatus checkpoint(const taskapi::CheckpointTaskRequest& request, litebox::wire::Empty& response);
  RpcStatus resize_pty(const taskapi::ResizePtyRequest& request, litebox::wire::Empty& response);
  RpcStatus close_io(const taskapi::CloseIORequest& request, litebox::wire::Empty& response);
  RpcStatus update(const taskapi::UpdateTaskRequest& request, litebox::wire::Empty& response);
  RpcStatus stats(const taskapi::StatsRequest& request, taskapi::StatsResponse& response);
  RpcStatus connect(const taskapi::ConnectRequest& request, taskapi::ConnectResponse& response);
  RpcStatus shutdown(const taskapi::ShutdownRequest& request, litebox::wire::Empty& response);

  // Number of containers still known (tests, and the shim's exit decision).
  std::size_t container_count() const;

 private:
  // Looks up a container and one of its processes; NOT_FOUND statuses as containerd words them.
  RpcStatus find(const std::string& id, const std::string& exec_id, std::shared_ptr<TaskContainer>& container,
                 std::shared_ptr<TaskProcess>& process) const;
  // NOT_FOUND unless the container is known.
  RpcStatus require_container(const std::string& id) const;
  // The core channel for a new container's init when the core serves it (registered with the core), or
  // nullopt. Errors: the bundle's core annotations are malformed.
  linux_host::Expected<std::optional<CoreChannel>> core_channel_for(const std::string& id,
                                                                   const std::filesystem::path& bundle);
  RpcStatus start_init(const std::shared_ptr<TaskContainer>& container, taskapi::StartResponse& response);
  // Marks an exec that never started as STOPPED (status 255) and wakes its Waits. Under mutex_.
  void never_started(TaskProcess& process);
  RpcStatus start_exec(const std::shared_ptr<TaskContainer>& container, const std::shared_ptr<TaskProcess>& process,
                       taskapi::StartResponse& response);
  void finish_exit(std::shared_ptr<TaskProcess> process);
  void publish(const char* topic, const std::string& type_name, const std::string& bytes);
  template <typename Event>
  void publish_event(const char* topic, const Event& event) {
    std::string bytes;
    event.SerializeToString(&bytes);
    publish(topic, event.GetTypeName(), bytes);
  }

  TaskServiceConfig config_;
  linux_host::Runtime& runtime_;
  Reaper& reaper_;
  EventPublisher& events_;
  linux_host::CgroupMode cgroup_mode_ = linux_host::CgroupMode::v1;

  mutable std::mutex mutex_;
  std::condition_variable exited_;  // a process's status became STOPPED
  std::map<std::string, std::shared_ptr<TaskContainer>> containers_;
  std::map<pid_t, std::shared_ptr<TaskProcess>> by_pid_;
  std::atomic<int> finishing_{0};  // exit threads still running
  int waiting_ = 0;                 // Wait calls blocked on exited_ (under mutex_)
  bool closing_ = false;            // the service is being destroyed: blocked Waits return (under mutex_)
  bool exit_requested_ = false;

  std::unique_ptr<OomWatcher> oom_;
};

}  // namespace litebox::shim
