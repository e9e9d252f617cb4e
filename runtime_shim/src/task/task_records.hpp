// What the task service keeps per container and per process.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "litebox/linux/core/core_filter.hpp"
#include "oci/process.hpp"
#include "stdio/process_io.hpp"
#include "types.pb.h"

namespace litebox::shim {

// The init (exec_id empty) or one exec'd process.
struct TaskProcess {
  std::string container_id;
  std::string exec_id;
  StdioPaths stdio;
  oci::Process exec_spec;  // exec'd processes only
  std::unique_ptr<ProcessIo> io;
  pid_t pid = 0;
  containerd::types::TaskStatus status = containerd::types::CREATED;
  bool stdin_closed = false;  // CloseIO{stdin} came (an exec's may come before its Start opened the I/O)
  bool reaped = false;  // waitpid reported it; its exit is being finished (I/O drained, event published)
  std::uint32_t exit_status = 0;
  std::chrono::system_clock::time_point exited_at{};

  bool is_init() const { return exec_id.empty(); }
  bool has_exited() const { return reaped || status == containerd::types::STOPPED; }
};

struct TaskContainer {
  std::string id;
  std::filesystem::path bundle;
  bool rootfs_mounted = false;  // Create mounted its rootfs mounts on <bundle>/rootfs
  bool paused = false;
  bool core = false;  // the LiteBox core serves its processes' path opens (and more: core_scope)
  linux_host::core::CoreFilterScope core_scope = linux_host::core::CoreFilterScope::opens;
  std::shared_ptr<TaskProcess> init;
  std::map<std::string, std::shared_ptr<TaskProcess>> execs;
};

}  // namespace litebox::shim
