#include "windows/log_pipe.hpp"

#include <windows.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include "commands/shim_log.hpp"
#include "litebox/windows/utf.hpp"

namespace litebox::shim {

namespace {

// Writes each formatted line to the pipe once containerd connected; before that (and after it went away)
// lines are dropped: a shim must never block on its log. A DETACHED_PROCESS has no usable stderr to fall back to.
class LogPipeSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit LogPipeSink(HANDLE pipe) : pipe_(pipe) {}
  ~LogPipeSink() override { CloseHandle(pipe_); }
  LogPipeSink(const LogPipeSink&) = delete;
  LogPipeSink& operator=(const LogPipeSink&) = delete;

  void set_connected() { connected_ = true; }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    if (!connected_) return;
    spdlog::memory_buf_t line;
    formatter_->format(msg, line);
    DWORD n = 0;
    if (!WriteFile(pipe_, line.data(), static_cast<DWORD>(line.size()), &n, nullptr)) connected_ = false;
  }
  void flush_() override {}

 private:
  const HANDLE pipe_;
  std::atomic<bool> connected_{false};
};

}  // namespace

void log_to_containerd_pipe(const std::string& address, const std::string& level, bool debug) {
  const std::wstring name = windows_host::widen(address);
  // Duplex although only we write: containerd (go-winio's DialPipe) opens it for reading and writing.
  const HANDLE pipe = CreateNamedPipeW(name.c_str(), PIPE_ACCESS_DUPLEX, PIPE_TYPE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS,
                                       1, 64 * 1024, 0, 0, nullptr);
  if (pipe == INVALID_HANDLE_VALUE) {
    log_to_stderr(level, debug);
    spdlog::warn("log pipe {}: CreateNamedPipe failed ({}): logging to stderr", address, GetLastError());
    return;
  }
  auto sink = std::make_shared<LogPipeSink>(pipe);
  log_to_sink(sink, level, debug);
  // Detached: it waits until containerd connects or the process ends.
  std::thread([sink, pipe, address] {
    if (!ConnectNamedPipe(pipe, nullptr) && GetLastError() != ERROR_PIPE_CONNECTED) {
      spdlog::warn("log pipe {}: ConnectNamedPipe failed ({})", address, GetLastError());
      return;
    }
    sink->set_connected();
    spdlog::debug("log pipe {}: containerd connected", address);
  }).detach();
}

}  // namespace litebox::shim
