// One process of a container: its handles, its descriptor table (the shim's copies of its stdio and other
// inherited handles) or, with a terminal, its pseudo console, and the thread that waits for its exit and
// reports it.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>

#include "litebox/platform/host.hpp"
#include "litebox/windows/handle_table.hpp"
#include "litebox/windows/process_launch.hpp"
#include "litebox/windows/pseudo_console.hpp"

namespace litebox::windows_host {

// 128 + signal for the terminations signal() and signal_all() stand in for (windows_host.hpp says why).
platform::Expected<std::uint32_t> termination_exit_code(int signal);

class WinProcess final : public platform::Process {
 public:
  // `console`: the pseudo console the process was launched on (a terminal), or null.
  WinProcess(LaunchedProcess launched, std::unique_ptr<HandleTable> table, std::unique_ptr<PseudoConsole> console,
             platform::ExitCallback on_exit);
  ~WinProcess() override;
  WinProcess(const WinProcess&) = delete;
  WinProcess& operator=(const WinProcess&) = delete;

  platform::ProcessId pid() const override { return pid_; }
  platform::Status signal(int signal) override;
  platform::Status resize_terminal(std::uint32_t columns, std::uint32_t rows) override;
  void close_stdin() override;
  void finish_io(std::chrono::milliseconds limit) override;

  // Lets the main thread run (it was created suspended). Once only.
  platform::Status resume();
  bool exited() const noexcept { return exited_.load(); }
  RawHandle process_handle() const noexcept { return process_; }

 private:
  void wait_for_exit();

  RawHandle process_ = 0;
  RawHandle thread_ = 0;
  platform::ProcessId pid_ = 0;
  std::mutex table_mu_;
  std::unique_ptr<HandleTable> table_;
  std::unique_ptr<PseudoConsole> console_;  // set before the waiter starts, dropped after it ended
  platform::ExitCallback on_exit_;
  std::atomic<bool> exited_{false};
  std::atomic<bool> resumed_{false};
  std::thread waiter_;
};

}  // namespace litebox::windows_host
