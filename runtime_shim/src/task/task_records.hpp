// What the task service keeps per container and per process.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "litebox/platform/host.hpp"
#include "oci/process.hpp"
#include "types.pb.h"

namespace litebox::shim {

// The init (exec_id empty) or one exec'd process.
struct TaskProcess {
  std::string container_id;
  std::string exec_id;
  platform::StdioPaths stdio;
  oci::Process exec_spec;  // exec'd processes only
  // The host's process: the container's init, or an exec once started (owned by `exec_handle`).
  platform::Process* handle = nullptr;
  std::unique_ptr<platform::Process> exec_handle;
  platform::ProcessId pid = 0;
  containerd::types::TaskStatus status = containerd::types::CREATED;
  bool stdin_closed = false;  // CloseIO{stdin} came (an exec's may come before its Start made the process)
  bool registered = false;    // Create/Start recorded it: an exit reported before then is finished then
  bool reaped = false;        // the host reported its exit; it is being finished (I/O drained, event published)
  std::uint32_t exit_status = 0;
  std::chrono::system_clock::time_point exited_at{};

  bool is_init() const { return exec_id.empty(); }
  bool has_exited() const { return reaped || status == containerd::types::STOPPED; }
};

struct TaskContainer {
  std::string id;
  std::filesystem::path bundle;
  bool paused = false;
  std::unique_ptr<platform::Container> handle;
  std::shared_ptr<TaskProcess> init;
  std::map<std::string, std::shared_ptr<TaskProcess>> execs;
};

}  // namespace litebox::shim
