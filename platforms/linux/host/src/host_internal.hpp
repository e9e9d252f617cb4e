// Internal: what LinuxHost, its containers and their processes share.
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>

#include "litebox/linux/cgroups.hpp"
#include "litebox/linux/container.hpp"
#include "litebox/linux/host/core_attachment.hpp"
#include "litebox/linux/host/linux_host.hpp"
#include "litebox/linux/host/oom_watcher.hpp"
#include "litebox/linux/host/process_io.hpp"
#include "litebox/linux/host/reaper.hpp"
#include "litebox/platform/host.hpp"

namespace litebox::linux_host {

// A process the host started and still owes an exit report.
struct TrackedProcess {
  pid_t pid = 0;
  std::string container_id;
  bool init = false;
  platform::ExitCallback on_exit;
  bool exited = false;  // reaped (under Impl::mutex)
};

struct LinuxHost::Impl {
  explicit Impl(LinuxHostConfig c) : config(std::move(c)), runtime(config.runtime) {}

  // The reaper's callback (its thread, the child guard held exclusively).
  void on_child_exit(pid_t pid, int wait_status);
  // Registers a process created under the child guard (before the reaper can see it exit).
  std::shared_ptr<TrackedProcess> track(pid_t pid, const std::string& container_id, bool init,
                                        platform::ExitCallback on_exit);
  // The core channel for a new container's init when the core serves it (registered with the core), or
  // nullopt. Errors (EINVAL): the bundle's core annotations are malformed.
  Expected<std::optional<CoreChannel>> core_channel_for(const std::string& id, const std::filesystem::path& bundle);

  LinuxHostConfig config;
  Runtime runtime;
  Reaper reaper;
  CgroupMode cgroup_mode = CgroupMode::v1;
  std::mutex mutex;
  std::map<pid_t, std::shared_ptr<TrackedProcess>> by_pid;  // under mutex
  std::function<void(const std::string&)> on_oom;           // set before the first create
  std::unique_ptr<OomWatcher> oom;
  bool stopped = false;
};

// A container process: the init or one exec.
class LinuxProcess final : public platform::Process {
 public:
  LinuxProcess(std::shared_ptr<LinuxHost::Impl> host, std::shared_ptr<TrackedProcess> tracked,
               std::unique_ptr<ProcessIo> io)
      : host_(std::move(host)), tracked_(std::move(tracked)), io_(std::move(io)) {}

  platform::ProcessId pid() const override { return static_cast<platform::ProcessId>(tracked_->pid); }
  Status signal(int signal) override;
  Status resize_terminal(std::uint32_t columns, std::uint32_t rows) override;
  void close_stdin() override;
  void finish_io(std::chrono::milliseconds limit) override;

 private:
  std::shared_ptr<LinuxHost::Impl> host_;
  std::shared_ptr<TrackedProcess> tracked_;
  std::unique_ptr<ProcessIo> io_;
};

struct ContainerSetup {
  std::string id;
  std::filesystem::path bundle;
  bool rootfs_mounted = false;
  bool core = false;  // the LiteBox core serves its processes
  core::CoreFilterScope core_scope = core::CoreFilterScope::opens;
};

class LinuxContainer final : public platform::Container {
 public:
  LinuxContainer(std::shared_ptr<LinuxHost::Impl> host, ContainerSetup setup, std::unique_ptr<LinuxProcess> init)
      : host_(std::move(host)), setup_(std::move(setup)), init_(std::move(init)) {}
  ~LinuxContainer() override = default;

  const std::string& id() const override { return setup_.id; }
  platform::Process& init() override { return *init_; }
  Status start() override;
  Expected<std::unique_ptr<platform::Process>> exec(platform::ExecParams params) override;
  Status signal_all(int signal) override;
  Expected<std::vector<platform::ProcessInfo>> pids() override;
  Status pause() override;
  Status resume() override;
  Status update(const std::string& resources_json) override;
  Expected<platform::EncodedMetrics> stats() override;
  Status destroy() override;

 private:
  std::shared_ptr<LinuxHost::Impl> host_;
  ContainerSetup setup_;
  std::unique_ptr<LinuxProcess> init_;
};

// An exit status as containerd reports it: the exit code, or 128 + the signal that killed it.
std::uint32_t exit_code_of(int wait_status);

}  // namespace litebox::linux_host
