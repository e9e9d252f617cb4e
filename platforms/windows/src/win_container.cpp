#include <windows.h>

#include "win_container.hpp"

#include <cerrno>

#include "litebox/windows/command_line.hpp"
#include "litebox/windows/pseudo_console.hpp"
#include "litebox/windows/stats_encoding.hpp"
#include "litebox/windows/stdio.hpp"
#include "litebox/windows/utf.hpp"
#include "litebox/windows/win_error.hpp"

namespace litebox::windows_host {
namespace {

std::string image_name(std::uint32_t pid) {
  HANDLE p = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid);
  if (p == nullptr) return {};
  wchar_t buf[MAX_PATH];
  DWORD n = MAX_PATH;
  std::string out;
  if (QueryFullProcessImageNameW(p, 0, buf, &n)) out = narrow(std::filesystem::path(std::wstring(buf, n)).filename().wstring());
  CloseHandle(p);
  return out;
}

std::int64_t unix_ns(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

// process.consoleSize, or 80x24 without one (a dimension of 0, which ConPTY cannot take, gets the default).
void console_size(const oci::Process& process, std::uint32_t& columns, std::uint32_t& rows) {
  columns = kDefaultConsoleColumns;
  rows = kDefaultConsoleRows;
  if (process.console_size) {
    if (process.console_size->width != 0) columns = process.console_size->width;
    if (process.console_size->height != 0) rows = process.console_size->height;
  }
}

}  // namespace

platform::Expected<std::unique_ptr<WinProcess>> spawn_in_job(const oci::Process& process,
                                                             const std::filesystem::path& rootfs,
                                                             const platform::StdioPaths& stdio, const Job& job,
                                                             platform::ExitCallback on_exit) {
  if (process.args.empty() && process.command_line.empty()) {
    return platform::Error{EINVAL, "process: args or commandLine must be set"};
  }
  LaunchRequest req;
  if (!process.command_line.empty()) {
    req.command_line = widen(process.command_line);
    if (!process.args.empty()) {
      auto program = find_program(process.args[0], rootfs, process.env);
      if (!program) return std::move(program).error();
      req.application = program.value().wstring();
    }
  } else {
    auto program = find_program(process.args[0], rootfs, process.env);
    if (!program) return std::move(program).error();
    req.application = program.value().wstring();
    req.command_line = quote_command_line(process.args);
  }
  req.environment = environment_block(process.env);
  const auto cwd = path_in_root(rootfs, process.cwd.empty() ? "\\" : process.cwd);
  std::error_code ec;
  if (!std::filesystem::is_directory(cwd, ec)) {
    return platform::Error{ENOENT, "process.cwd \"" + process.cwd + "\": no such directory under the root folder " +
                                       narrow(rootfs.wstring())};
  }
  req.cwd = cwd.wstring();
  auto table = std::make_unique<HandleTable>();
  std::unique_ptr<PseudoConsole> console;
  if (stdio.terminal || process.terminal) {
    // A terminal: the process's stdin, stdout and stderr are the console; the shim copies between it and
    // containerd's stdio, and the table starts empty.
    std::uint32_t columns = 0;
    std::uint32_t rows = 0;
    console_size(process, columns, rows);
    auto opened = PseudoConsole::open(stdio, columns, rows);
    if (!opened) return std::move(opened).error();
    console = std::move(opened).value();
    req.pseudo_console = console->handle();
  } else if (auto s = open_stdio(stdio, *table); !s) {
    return std::move(s).error();
  }
  req.table = table.get();
  req.job = job.handle();
  req.suspended = true;
  auto launched = launch_process(req);
  if (!launched) return std::move(launched).error();
  return std::make_unique<WinProcess>(launched.value(), std::move(table), std::move(console), std::move(on_exit));
}

WinContainer::WinContainer(std::string id, Job job, std::filesystem::path rootfs, std::unique_ptr<WinProcess> init)
    : id_(std::move(id)), rootfs_(std::move(rootfs)), job_(std::move(job)), init_(std::move(init)) {}

WinContainer::~WinContainer() { (void)destroy(); }

platform::Status WinContainer::usable() const {
  if (destroyed_) return platform::Error{EINVAL, "container " + id_ + " was deleted"};
  return {};
}

platform::Status WinContainer::start() {
  std::lock_guard lock(mu_);
  if (auto s = usable(); !s) return s;
  if (started_) return platform::Error{EINVAL, "start: container " + id_ + " was already started"};
  if (auto s = init_->resume(); !s) return s;
  started_ = true;
  start_time_ = std::chrono::system_clock::now();
  start_steady_ = std::chrono::steady_clock::now();
  return {};
}

platform::Expected<std::unique_ptr<platform::Process>> WinContainer::exec(platform::ExecParams params) {
  std::lock_guard lock(mu_);
  if (auto s = usable(); !s) return std::move(s).error();
  if (!started_) return platform::Error{EINVAL, "exec: container " + id_ + " is not running"};
  auto p = spawn_in_job(params.process, rootfs_, params.stdio, job_, std::move(params.on_exit));
  if (!p) return std::move(p).error().context("exec " + params.exec_id);
  if (auto s = p.value()->resume(); !s) return std::move(s).error();
  return std::unique_ptr<platform::Process>(std::move(p).value());
}

platform::Status WinContainer::signal_all(int signal) {
  std::lock_guard lock(mu_);
  if (auto s = usable(); !s) return s;
  if (signal == 0) return {};
  auto code = termination_exit_code(signal);
  if (!code) return std::move(code).error();
  return job_.terminate(code.value());
}

platform::Expected<std::vector<platform::ProcessInfo>> WinContainer::pids() {
  std::lock_guard lock(mu_);
  if (auto s = usable(); !s) return std::move(s).error();
  auto ids = job_.pids();
  if (!ids) return std::move(ids).error();
  std::vector<platform::ProcessInfo> out;
  for (std::uint32_t pid : ids.value()) out.push_back(platform::ProcessInfo{pid, image_name(pid)});
  return out;
}

platform::Status WinContainer::pause() {
  // Windows has no job-wide suspend: suspending each thread races with the threads the processes keep
  // creating, and NtSuspendProcess is undocumented. hcsshim pauses only Hyper-V containers.
  return platform::Error{ENOSYS, "pause: not supported for job-object containers (Windows has no job-wide suspend)"};
}

platform::Status WinContainer::resume() {
  return platform::Error{ENOSYS, "resume: not supported for job-object containers (Windows has no job-wide suspend)"};
}

platform::Status WinContainer::update(const std::string& resources_json) {
  auto resources = parse_windows_resources(resources_json);
  if (!resources) return std::move(resources).error();
  std::lock_guard lock(mu_);
  if (auto s = usable(); !s) return s;
  return job_.apply(resources.value());
}

platform::Expected<platform::EncodedMetrics> WinContainer::stats() {
  std::lock_guard lock(mu_);
  if (auto s = usable(); !s) return std::move(s).error();
  auto acct = job_.accounting();
  if (!acct) return std::move(acct).error();
  const auto& a = acct.value();
  WindowsStatistics s;
  s.timestamp_unix_ns = unix_ns(std::chrono::system_clock::now());
  if (started_) {
    s.start_time_unix_ns = unix_ns(start_time_);
    s.uptime_ns = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start_steady_).count());
  }
  s.runtime_user_ns = a.user_100ns * 100;
  s.runtime_kernel_ns = a.kernel_100ns * 100;
  s.total_runtime_ns = s.runtime_user_ns + s.runtime_kernel_ns;
  s.memory_commit_bytes = a.commit_bytes;
  s.memory_commit_peak_bytes = a.peak_job_memory;
  s.memory_private_working_set_bytes = a.working_set_bytes;
  s.read_count = a.read_operations;
  s.read_bytes = a.read_bytes;
  s.write_count = a.write_operations;
  s.write_bytes = a.write_bytes;
  return platform::EncodedMetrics{kStatisticsTypeUrl, encode_statistics(s)};
}

platform::Status WinContainer::destroy() {
  {
    std::lock_guard lock(mu_);
    if (destroyed_) return {};
    destroyed_ = true;
    if (job_) (void)job_.terminate(128 + 9);
  }
  // The init's exit is reported by its waiter (no lock of ours held); give it a moment, then drop its I/O.
  WaitForSingleObject(reinterpret_cast<HANDLE>(init_->process_handle()), 5000);
  init_->finish_io(std::chrono::milliseconds(0));
  std::lock_guard lock(mu_);
  job_.close();
  return {};
}

}  // namespace litebox::windows_host
