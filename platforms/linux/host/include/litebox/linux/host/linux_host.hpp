// The platform interface (litebox/platform/host.hpp) on Linux, for the shim: runc-style containers from the
// Runtime library, the shim as the child subreaper of their processes (Reaper), OOM kills from the memory
// cgroup (OomWatcher), stdio from containerd's FIFOs and URIs (ProcessIo), Create's rootfs mounts, and the
// LiteBox core for the containers its policy puts under it.
#pragma once

#include <memory>
#include <shared_mutex>
#include <string>

#include "litebox/linux/container.hpp"
#include "litebox/linux/core/core_service.hpp"
#include "litebox/linux/host/core_attachment.hpp"
#include "litebox/platform/host.hpp"

namespace litebox::linux_host {

struct LinuxHostConfig {
  RuntimeConfig runtime;
  std::string namespace_name = "default";  // containerd's, for the logging binaries
  // The LiteBox core (null: every container runs without it) and when it serves a container.
  core::CoreService* core = nullptr;
  CoreDefaults core_defaults;
  // The shim's socket, written next to each served container's runtime state (shim.address) for litebox-ctl.
  std::string shim_address;
};

class LinuxHost final : public platform::Host {
 public:
  // Makes the process the child subreaper of what it starts and begins reaping. Errors: errno of the set-up.
  static Expected<std::unique_ptr<LinuxHost>> start(LinuxHostConfig config);
  ~LinuxHost() override;  // stop_events()
  LinuxHost(const LinuxHost&) = delete;
  LinuxHost& operator=(const LinuxHost&) = delete;

  platform::HostFeatures features() const override;
  void on_oom(std::function<void(const std::string& container_id)> callback) override;
  Expected<std::unique_ptr<platform::Container>> create(platform::CreateParams params) override;
  void stop_events() override;

  // Whoever forks and waits for a child of its own (containerd's publish binary) holds this shared, so the
  // reaper does not take that child.
  std::shared_mutex& child_guard();

  struct Impl;

 private:
  explicit LinuxHost(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace litebox::linux_host
