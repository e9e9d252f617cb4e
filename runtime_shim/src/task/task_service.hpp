// containerd's task service (containerd.task.v2.Task / v3.Task) over the platform interface
// (litebox/platform/host.hpp): containers and their processes, their exits and events, on any host.
// Transport-neutral: register_methods() puts every RPC into a ServiceRegistry that ttrpc and gRPC serve.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "litebox/platform/host.hpp"
#include "rpc/service_registry.hpp"
#include "task.pb.h"
#include "task/event_publisher.hpp"
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
  // The shim's own process id (Connect's shim_pid).
  std::uint32_t shim_pid = 0;
};

class TaskService {
 public:
  // The host's OOM callback is set here; its exit callbacks come through the processes this service makes.
  TaskService(TaskServiceConfig config, platform::Host& host, EventPublisher& events);
  TaskService(const TaskService&) = delete;
  TaskService& operator=(const TaskService&) = delete;
  ~TaskService();

  // Every RPC under both "containerd.task.v2.Task" and "containerd.task.v3.Task".
  void register_methods(ServiceRegistry& registry);

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
  // The container when it is known; NOT_FOUND otherwise.
  RpcStatus require_container(const std::string& id, std::shared_ptr<TaskContainer>& container) const;
  // The host's exit callback for `process` (any thread): records the exit and, once the process is
  // registered, finishes it on a thread of its own.
  platform::ExitCallback exit_callback(const std::shared_ptr<TaskProcess>& process);
  // Under mutex_: marks the process registered and finishes an exit that came before.
  void register_process(const std::shared_ptr<TaskProcess>& process);
  void start_finishing(std::shared_ptr<TaskProcess> process);
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
  platform::Host& host_;
  EventPublisher& events_;

  mutable std::mutex mutex_;
  std::condition_variable exited_;  // a process's status became STOPPED
  std::map<std::string, std::shared_ptr<TaskContainer>> containers_;
  std::atomic<int> finishing_{0};  // exit threads still running
  int waiting_ = 0;                 // Wait calls blocked on exited_ (under mutex_)
  bool closing_ = false;            // the service is being destroyed: blocked Waits return (under mutex_)
  bool exit_requested_ = false;
};

}  // namespace litebox::shim
