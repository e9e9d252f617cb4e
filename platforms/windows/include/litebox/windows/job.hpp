// A container is a job object (as Kubernetes' HostProcess containers are): every process of the container is
// in it (children follow their parent in), it dies with the shim (KILL_ON_JOB_CLOSE), it carries the spec's
// windows.resources as limits, and its accounting is what Stats reports.
#pragma once

#include <cstdint>
#include <vector>

#include "litebox/platform/error.hpp"
#include "litebox/windows/handle_table.hpp"
#include "oci/windows.hpp"

namespace litebox::windows_host {

struct JobAccounting {
  std::uint64_t user_100ns = 0;    // total user time of every process the job ever had
  std::uint64_t kernel_100ns = 0;
  std::uint64_t read_operations = 0;
  std::uint64_t read_bytes = 0;
  std::uint64_t write_operations = 0;
  std::uint64_t write_bytes = 0;
  std::uint64_t peak_job_memory = 0;   // committed bytes, peak over the job's life
  std::uint64_t commit_bytes = 0;      // committed (private) bytes of the live processes
  std::uint64_t working_set_bytes = 0;  // working sets of the live processes
};

class Job {
 public:
  // An anonymous job with JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE.
  static platform::Expected<Job> create();
  Job() = default;
  ~Job();
  Job(Job&& other) noexcept;
  Job& operator=(Job&& other) noexcept;
  Job(const Job&) = delete;
  Job& operator=(const Job&) = delete;

  RawHandle handle() const noexcept { return handle_; }
  explicit operator bool() const noexcept { return handle_ != 0; }

  // memory.limit -> JOB_OBJECT_LIMIT_JOB_MEMORY; cpu.maximum, cpu.count (as a rate of the host's
  // processors, as hcsshim does for job containers) or cpu.shares (a weight 1..9) -> CPU rate control.
  // Only one of the cpu settings may be given (EINVAL otherwise, as hcsshim refuses). storage: EINVAL,
  // a job has no per-container storage (no sandbox volume, and I/O rate control needs HCS's volume).
  platform::Status apply(const oci::WindowsResources& resources);
  platform::Expected<std::vector<std::uint32_t>> pids() const;
  platform::Expected<JobAccounting> accounting() const;
  // TerminateJobObject: every process of the job ends with `exit_code`.
  platform::Status terminate(std::uint32_t exit_code);
  bool contains(RawHandle process) const;
  // Closes the job handle (KILL_ON_JOB_CLOSE ends whatever is left).
  void close() noexcept;

 private:
  explicit Job(RawHandle h) noexcept : handle_(h) {}
  RawHandle handle_ = 0;
};

// UpdateTask's resources as containerd encodes them for Windows: the runtime-spec's WindowsResources JSON.
// EINVAL naming the member for a malformed document.
platform::Expected<oci::WindowsResources> parse_windows_resources(const std::string& json);

}  // namespace litebox::windows_host
