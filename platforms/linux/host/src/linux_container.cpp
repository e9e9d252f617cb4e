// LinuxContainer and LinuxProcess: the Runtime library's operations on one container, its init and execs.
#include <signal.h>

#include <cerrno>

#include <spdlog/spdlog.h>

#include "host_internal.hpp"
#include "litebox/linux/host/cgroup_metrics.hpp"
#include "litebox/linux/host/rootfs_mounts.hpp"
#include "oci/config.hpp"
#include "oci/diagnostics.hpp"

namespace litebox::linux_host {

Status LinuxProcess::signal(int signal) {
  if (tracked_->init) {
    {
      std::lock_guard lock(host_->mutex);
      if (tracked_->exited) return Error{ESRCH, "process already finished"};
    }
    return host_->runtime.kill(tracked_->container_id, signal, false);
  }
  // Under the host's lock: the pid cannot have been reaped (and reused) while we hold it.
  std::lock_guard lock(host_->mutex);
  if (tracked_->exited) return Error{ESRCH, "process already finished"};
  if (::kill(tracked_->pid, signal) != 0) return Error::from_errno("kill pid " + std::to_string(tracked_->pid));
  return {};
}

Status LinuxProcess::resize_terminal(std::uint32_t columns, std::uint32_t rows) {
  if (!io_) return Error{EINVAL, "process has no terminal to resize"};
  return io_->resize(columns, rows);
}

void LinuxProcess::close_stdin() {
  if (io_) io_->close_stdin();
}

void LinuxProcess::finish_io(std::chrono::milliseconds limit) {
  if (io_) io_->finish(limit);
}

Status LinuxContainer::start() {
  std::shared_lock guard(host_->reaper.runtime_guard());
  return host_->runtime.start(setup_.id);
}

Expected<std::unique_ptr<platform::Process>> LinuxContainer::exec(platform::ExecParams params) {
  auto io = ProcessIo::open(params.stdio, setup_.id, host_->config.namespace_name);
  if (!io) return std::move(io).error();
  std::shared_lock guard(host_->reaper.runtime_guard());
  ExecRequest request;
  request.process = std::move(params.process);
  request.process.terminal = params.stdio.terminal;
  request.io = io.value()->process_stdio();
  std::optional<CoreChannel> core;
  if (setup_.core) {
    auto channel = CoreChannel::open(setup_.core_scope);
    if (!channel) return std::move(channel).error();
    core.emplace(std::move(channel.value()));
    request.core_channel = core->process_end();
    request.core_scope = core->scope();
    if (auto handed = core->hand_to(*host_->config.core, setup_.id); !handed) return std::move(handed).error();
  }
  auto started = host_->runtime.exec(setup_.id, request);
  if (!started) return std::move(started).error();
  auto tracked = host_->track(started.value().pid, setup_.id, false, std::move(params.on_exit));
  io.value()->attach(started.value().console_master);
  return std::unique_ptr<platform::Process>(new LinuxProcess(host_, std::move(tracked), std::move(io.value())));
}

Status LinuxContainer::signal_all(int signal) { return host_->runtime.kill(setup_.id, signal, true); }

Expected<std::vector<platform::ProcessInfo>> LinuxContainer::pids() {
  auto pids = host_->runtime.pids(setup_.id);
  if (!pids) return std::move(pids).error();
  std::vector<platform::ProcessInfo> out;
  out.reserve(pids.value().size());
  for (pid_t pid : pids.value()) out.push_back({static_cast<platform::ProcessId>(pid), {}});
  return out;
}

Status LinuxContainer::pause() { return host_->runtime.pause(setup_.id); }

Status LinuxContainer::resume() { return host_->runtime.resume(setup_.id); }

Status LinuxContainer::update(const std::string& resources_json) {
  auto resources = oci::parse_linux_resources(resources_json);
  if (!resources.ok()) {
    return Error{EINVAL, "update " + setup_.id + ": resources: " + oci::format_diagnostics(resources.errors)};
  }
  return host_->runtime.update(setup_.id, *resources.value);
}

Expected<platform::EncodedMetrics> LinuxContainer::stats() {
  auto stats = host_->runtime.stats(setup_.id);
  if (!stats) return std::move(stats).error();
  return encode_metrics(stats.value(), host_->cgroup_mode);
}

Status LinuxContainer::destroy() {
  // Created but never started, or stopped: the runtime removes what is left (the parked init, the cgroup,
  // its state) and runs the poststop hooks.
  if (host_->oom) host_->oom->forget(setup_.id);
  Status removed;
  {
    std::shared_lock guard(host_->reaper.runtime_guard());
    removed = host_->runtime.remove(setup_.id, true);
  }
  if (setup_.core) host_->config.core->remove_container(setup_.id);
  if (setup_.rootfs_mounted) {
    if (auto unmounted = unmount_rootfs(setup_.bundle / "rootfs"); !unmounted) {
      spdlog::warn("delete {}: {}", setup_.id, unmounted.error().message);
    }
    setup_.rootfs_mounted = false;
  }
  return removed;
}

}  // namespace litebox::linux_host
