#include <windows.h>

#include "win_process.hpp"

#include <cerrno>

#include "litebox/windows/win_error.hpp"

namespace litebox::windows_host {
namespace {

HANDLE to_handle(RawHandle raw) { return reinterpret_cast<HANDLE>(raw); }

constexpr int kSigint = 2;
constexpr int kSigkill = 9;
constexpr int kSigterm = 15;

}  // namespace

platform::Expected<std::uint32_t> termination_exit_code(int signal) {
  if (signal == kSigkill || signal == kSigterm || signal == kSigint) return static_cast<std::uint32_t>(128 + signal);
  return platform::Error{EINVAL, "signal " + std::to_string(signal) +
                                     ": Windows has no signals; only SIGKILL, SIGTERM and SIGINT (termination) "
                                     "are supported"};
}

WinProcess::WinProcess(LaunchedProcess launched, std::unique_ptr<HandleTable> table,
                       std::unique_ptr<PseudoConsole> console, platform::ExitCallback on_exit)
    : process_(launched.process),
      thread_(launched.thread),
      pid_(launched.pid),
      table_(std::move(table)),
      console_(std::move(console)),
      on_exit_(std::move(on_exit)) {
  // The waiter holds no lock of ours when it calls back: the callback may call into the container.
  waiter_ = std::thread([this] { wait_for_exit(); });
}

WinProcess::~WinProcess() {
  // A Process owns its process: one dropped while it runs is ended (its exit is still reported).
  if (!exited_) TerminateProcess(to_handle(process_), 128 + kSigkill);
  if (waiter_.joinable()) {
    if (waiter_.get_id() == std::this_thread::get_id()) waiter_.detach();  // dropped from its own callback
    else waiter_.join();
  }
  console_.reset();  // the waiter is gone: nothing else uses it
  CloseHandle(to_handle(thread_));
  CloseHandle(to_handle(process_));
}

void WinProcess::wait_for_exit() {
  WaitForSingleObject(to_handle(process_), INFINITE);
  DWORD code = 0;
  if (!GetExitCodeProcess(to_handle(process_), &code)) code = 255;
  exited_ = true;
  // The console's final frame starts on its way out now; finish_io() waits for it before the exit is published.
  if (console_) console_->close_console();
  if (on_exit_) on_exit_(static_cast<std::uint32_t>(code));
}

platform::Status WinProcess::signal(int signal) {
  if (exited_) return platform::Error{ESRCH, "signal: process " + std::to_string(pid_) + " has exited"};
  if (signal == 0) return {};
  auto code = termination_exit_code(signal);
  if (!code) return std::move(code).error();
  if (!TerminateProcess(to_handle(process_), code.value())) {
    if (WaitForSingleObject(to_handle(process_), 0) == WAIT_OBJECT_0) {
      return platform::Error{ESRCH, "signal: process " + std::to_string(pid_) + " has exited"};
    }
    return last_error("TerminateProcess");
  }
  return {};
}

platform::Status WinProcess::resize_terminal(std::uint32_t columns, std::uint32_t rows) {
  if (!console_) return platform::Error{EINVAL, "resize: the process has no terminal"};
  if (auto s = console_->resize(columns, rows); !s) return std::move(s).error().context("process " + std::to_string(pid_));
  return {};
}

void WinProcess::close_stdin() {
  if (console_) console_->close_stdin();
  std::lock_guard lock(table_mu_);
  if (table_) (void)table_->close(0);  // EBADF when already closed: idempotent
}

void WinProcess::finish_io(std::chrono::milliseconds limit) {
  // With a terminal the console's output is copied until its end (at most `limit`). Without one there is no
  // copy thread: the child wrote into the client's pipes directly, so nothing is left to drain. Dropping the
  // shim's copies lets the client see EOF once the child's own handles are gone.
  if (console_) console_->finish(limit);
  std::lock_guard lock(table_mu_);
  if (table_) table_->clear();
}

platform::Status WinProcess::resume() {
  if (resumed_.exchange(true)) return platform::Error{EINVAL, "start: the process was already started"};
  if (ResumeThread(to_handle(thread_)) == static_cast<DWORD>(-1)) return last_error("ResumeThread");
  return {};
}

}  // namespace litebox::windows_host
