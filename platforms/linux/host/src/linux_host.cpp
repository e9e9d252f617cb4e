// LinuxHost: exits and OOM kills reported per process, and Create (rootfs mounts, stdio, the core's
// channel, the runtime's create) with everything undone on failure.
#include "litebox/linux/host/linux_host.hpp"

#include <sys/wait.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include <spdlog/spdlog.h>

#include "host_internal.hpp"
#include "litebox/linux/features.hpp"
#include "litebox/linux/host/rootfs_mounts.hpp"
#include "oci/bundle.hpp"

namespace litebox::linux_host {

std::uint32_t exit_code_of(int wait_status) {
  if (WIFEXITED(wait_status)) return static_cast<std::uint32_t>(WEXITSTATUS(wait_status));
  if (WIFSIGNALED(wait_status)) return 128u + static_cast<std::uint32_t>(WTERMSIG(wait_status));
  return 255;
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

void LinuxHost::Impl::on_child_exit(pid_t pid, int wait_status) {
  std::shared_ptr<TrackedProcess> process;
  {
    std::lock_guard lock(mutex);
    auto it = by_pid.find(pid);
    if (it == by_pid.end()) {
      spdlog::debug("reaped pid {} (status {:#x}), not a task process", pid, wait_status);
      return;
    }
    process = std::move(it->second);
    by_pid.erase(it);
    process->exited = true;
    if (stopped) return;
  }
  // An OOM kill and the init's exit race; its /tasks/oom must come first.
  if (process->init && oom) oom->collect(process->container_id);
  if (process->on_exit) process->on_exit(exit_code_of(wait_status));
}

std::shared_ptr<TrackedProcess> LinuxHost::Impl::track(pid_t pid, const std::string& container_id, bool init,
                                                       platform::ExitCallback on_exit) {
  auto process = std::make_shared<TrackedProcess>();
  process->pid = pid;
  process->container_id = container_id;
  process->init = init;
  process->on_exit = std::move(on_exit);
  std::lock_guard lock(mutex);
  by_pid[pid] = process;
  return process;
}

Expected<std::optional<CoreChannel>> LinuxHost::Impl::core_channel_for(const std::string& id,
                                                                       const std::filesystem::path& bundle) {
  if (config.core == nullptr) return std::optional<CoreChannel>{};
  auto spec = oci::load_bundle(bundle);
  if (!spec.value) return std::optional<CoreChannel>{};  // the runtime reports what is wrong with the bundle
  auto policy = core_policy_for(config.core_defaults, spec.value->annotations);
  if (!policy) return Error{EINVAL, policy.error().message};
  if (!policy.value()) return std::optional<CoreChannel>{};
  auto channel = CoreChannel::open(filter_scope(*policy.value()));
  if (!channel) return std::move(channel).error();
  config.core->add_container(id, *policy.value());
  return std::optional<CoreChannel>{std::move(channel.value())};
}

LinuxHost::LinuxHost(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

LinuxHost::~LinuxHost() { stop_events(); }

Expected<std::unique_ptr<LinuxHost>> LinuxHost::start(LinuxHostConfig config) {
  auto impl = std::make_shared<Impl>(std::move(config));
  if (auto cgroups = CgroupHost::detect()) impl->cgroup_mode = cgroups.value().mode;
  Impl* raw = impl.get();
  impl->oom = std::make_unique<OomWatcher>([raw](const std::string& id) {
    spdlog::info("container {}: OOM kill", id);
    if (raw->on_oom) raw->on_oom(id);
  });
  if (!impl->reaper.start([raw](pid_t pid, int status) { raw->on_child_exit(pid, status); })) {
    return Error::from_errno("cannot become the containers' reaper");
  }
  return std::unique_ptr<LinuxHost>(new LinuxHost(std::move(impl)));
}

void LinuxHost::stop_events() {
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->stopped) return;
    impl_->stopped = true;
  }
  impl_->reaper.stop();
  impl_->oom.reset();
}

std::shared_mutex& LinuxHost::child_guard() { return impl_->reaper.runtime_guard(); }

platform::HostFeatures LinuxHost::features() const {
  return platform::HostFeatures{"linux", true, true, true, impl_->config.core != nullptr};
}

void LinuxHost::on_oom(std::function<void(const std::string& container_id)> callback) {
  impl_->on_oom = std::move(callback);
}

Expected<std::unique_ptr<platform::Container>> LinuxHost::create(platform::CreateParams params) {
  Impl& host = *impl_;
  const std::string& id = params.id;
  ContainerSetup setup{id, params.bundle};
  const auto rootfs = params.bundle / "rootfs";
  if (!params.rootfs.empty()) {
    for (const auto& m : params.rootfs) {
      if (!m.target.empty()) return Error{EINVAL, "rootfs mount " + m.type + " " + m.source + ": a target is not supported"};
    }
    if (auto mounted = mount_rootfs(params.rootfs, rootfs); !mounted) return std::move(mounted).error();
    setup.rootfs_mounted = true;
  }
  auto undo_mounts = [&] {
    if (setup.rootfs_mounted) (void)unmount_rootfs(rootfs);
  };

  auto io = ProcessIo::open(params.stdio, id, host.config.namespace_name);
  if (!io) {
    undo_mounts();
    return std::move(io).error();
  }

  CreateRequest request;
  request.id = id;
  request.bundle = params.bundle;
  request.io = io.value()->process_stdio();
  auto core = host.core_channel_for(id, params.bundle);
  if (!core) {
    undo_mounts();
    Error error = std::move(core).error();
    return std::move(error.context("create " + id));
  }
  if (core.value()) {
    request.core_channel = core.value()->process_end();
    request.core_scope = core.value()->scope();
    setup.core = true;
    setup.core_scope = core.value()->scope();
    if (auto handed = core.value()->hand_to(*host.config.core, id); !handed) {
      undo_mounts();
      host.config.core->remove_container(id);
      return std::move(handed).error();
    }
  }
  std::shared_ptr<TrackedProcess> tracked;
  {
    // The runtime forks and waits for its helpers: keep the reaper off them, and register the init's pid
    // before the reaper can see it exit.
    std::shared_lock guard(host.reaper.runtime_guard());
    auto created = host.runtime.create(request);
    if (!created) {
      undo_mounts();
      if (setup.core) host.config.core->remove_container(id);
      spdlog::warn("create {}: {}", id, created.error().message);
      return std::move(created).error();
    }
    tracked = host.track(created.value().pid, id, true, std::move(params.on_init_exit));
    io.value()->attach(created.value().console_master);
    if (setup.core) write_shim_address(host.runtime.config().root / id / "shim.address", host.config.shim_address);
  }
  if (auto notifier = host.runtime.oom_notifier(id)) {
    host.oom->watch(id, std::move(notifier.value()));
  } else {
    spdlog::debug("create {}: no OOM notification: {}", id, notifier.error().message);
  }
  auto init = std::make_unique<LinuxProcess>(impl_, std::move(tracked), std::move(io.value()));
  return std::unique_ptr<platform::Container>(new LinuxContainer(impl_, std::move(setup), std::move(init)));
}

}  // namespace litebox::linux_host
