// A container: a job object, its init, the spec it was created from (its root folder, its defaults).
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "litebox/platform/host.hpp"
#include "litebox/windows/job.hpp"
#include "oci/spec.hpp"
#include "win_process.hpp"

namespace litebox::windows_host {

// Launches `process` in `job` (suspended: the caller resumes it) with its stdio opened into a fresh table.
platform::Expected<std::unique_ptr<WinProcess>> spawn_in_job(const oci::Process& process,
                                                             const std::filesystem::path& rootfs,
                                                             const platform::StdioPaths& stdio, const Job& job,
                                                             platform::ExitCallback on_exit);

class WinContainer final : public platform::Container {
 public:
  WinContainer(std::string id, Job job, std::filesystem::path rootfs, std::unique_ptr<WinProcess> init);
  ~WinContainer() override;

  const std::string& id() const override { return id_; }
  platform::Process& init() override { return *init_; }
  platform::Status start() override;
  platform::Expected<std::unique_ptr<platform::Process>> exec(platform::ExecParams params) override;
  platform::Status signal_all(int signal) override;
  platform::Expected<std::vector<platform::ProcessInfo>> pids() override;
  platform::Status pause() override;
  platform::Status resume() override;
  platform::Status update(const std::string& resources_json) override;
  platform::Expected<platform::EncodedMetrics> stats() override;
  platform::Status destroy() override;

 private:
  platform::Status usable() const;  // EINVAL after destroy()

  const std::string id_;
  std::filesystem::path rootfs_;
  mutable std::mutex mu_;  // job_ (its closing), started_, start_time_, destroyed_
  Job job_;
  std::unique_ptr<WinProcess> init_;
  bool started_ = false;
  bool destroyed_ = false;
  std::chrono::system_clock::time_point start_time_{};
  std::chrono::steady_clock::time_point start_steady_{};
};

}  // namespace litebox::windows_host
