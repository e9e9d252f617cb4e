// A container process's terminal: a pseudo console (ConPTY) the process is attached to, and the shim's copier
// threads between it and containerd's stdio, as hcsshim does for a process with `terminal: true`.
//
// The console reads its input from, and writes its output (VT sequences) to, two anonymous pipes whose other
// ends the shim holds. Copiers move containerd's stdin (a named pipe or a file) into the input pipe and the
// output pipe into containerd's stdout. A console has one output stream: the process's stderr is the console
// too, so it arrives merged into stdout, as with a Linux terminal; a stderr path containerd names anyway is
// opened (a client waiting for the connection is not left waiting) and closed at finish() with nothing in it.
//
// End of input (containerd's stdin reaches EOF, or CloseIO): what was written so far is delivered, then the
// console's end-of-input, Ctrl-Z Enter, as a Linux terminal gets VEOF. The input pipe itself stays open: a
// console whose input pipe closes ends its session and every process attached to it.
//
// Exit: close_console() once the process exited (ClosePseudoConsole, on a thread of its own: it waits until the
// console's final frame was read from the output pipe, which the copier keeps doing), then finish() waits for
// the output to reach EOF, so nothing the process wrote is lost, and closes everything.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "litebox/platform/error.hpp"
#include "litebox/platform/host.hpp"
#include "litebox/windows/handle_table.hpp"

namespace litebox::windows_host {

// The size of a console whose spec has no process.consoleSize (what runc and hcsshim use too).
inline constexpr std::uint32_t kDefaultConsoleColumns = 80;
inline constexpr std::uint32_t kDefaultConsoleRows = 24;
// ConPTY takes a COORD: at most 32767 columns and rows.
inline constexpr std::uint32_t kMaxConsoleDimension = 32767;

class PseudoConsole {
 public:
  // Opens containerd's stdio, creates the console at columns x rows and starts the copiers. EINVAL for a size
  // ConPTY cannot take (0 or above kMaxConsoleDimension); the stdio paths' errors as open_stdio() reports them.
  static platform::Expected<std::unique_ptr<PseudoConsole>> open(const platform::StdioPaths& stdio,
                                                                 std::uint32_t columns, std::uint32_t rows);
  ~PseudoConsole();  // finish(0), then closes containerd's stdin too
  PseudoConsole(const PseudoConsole&) = delete;
  PseudoConsole& operator=(const PseudoConsole&) = delete;

  // The HPCON for PROC_THREAD_ATTRIBUTE_PSEUDOCONSOLE.
  RawHandle handle() const noexcept;
  // ResizePty. EINVAL for a size ConPTY cannot take; ESRCH once the console was closed (the process exited);
  // ENOSYS when the system does not implement ResizePseudoConsole.
  platform::Status resize(std::uint32_t columns, std::uint32_t rows);
  // CloseIO{stdin}: pending input is delivered, then the end of input. Idempotent.
  void close_stdin();
  // The attached process exited: closes the console while its output is still copied. Idempotent.
  void close_console();
  // Waits at most `limit` for the console's output to be copied to its end, drops what is left, stops the
  // copiers and closes the console's pipes and containerd's stdout/stderr. containerd's stdin stays open until
  // the destructor (a client still typing gets no broken pipe before the process is deleted). Idempotent.
  void finish(std::chrono::milliseconds limit);

 private:
  struct State;  // the handles and threads, shared with the copier threads (they may outlive a stuck finish)
  explicit PseudoConsole(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

}  // namespace litebox::windows_host
