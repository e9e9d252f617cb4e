#include <windows.h>

#include <process.h>

#include "litebox/windows/pseudo_console.hpp"

#include <cerrno>
#include <cstdio>
#include <functional>
#include <mutex>
#include <string>

#include "litebox/windows/stdio.hpp"
#include "litebox/windows/win_error.hpp"

namespace litebox::windows_host {
namespace {

constexpr DWORD kCopyBuffer = 16 * 1024;
// Once finish() stopped waiting for the output: how long a thread gets to end by itself before its blocking
// I/O is cancelled (each thread wakes on an event; this is for one stuck in a system call).
constexpr DWORD kStopGraceMs = 2000;
// Ctrl-Z Enter: the Windows console's end of input (a cooked-mode read returns the line, and the C runtime's
// text-mode reads and most console programs take ^Z as EOF), what a Linux terminal's VEOF is.
constexpr char kEndOfInput[] = "\x1a\r";

HANDLE to_handle(RawHandle raw) { return reinterpret_cast<HANDLE>(raw); }

void close_handle(HANDLE& h) {
  if (h != nullptr && h != INVALID_HANDLE_VALUE) CloseHandle(h);
  h = nullptr;
}

// E_INVALIDARG, E_OUTOFMEMORY and the like are Win32 errors in an HRESULT: mapped as GetLastError()'s are.
platform::Error hresult_error(const std::string& what, HRESULT hr) {
  if (HRESULT_FACILITY(hr) == FACILITY_WIN32) return win32_error(what, static_cast<unsigned long>(HRESULT_CODE(hr)));
  char hex[16];
  std::snprintf(hex, sizeof hex, "0x%08lx", static_cast<unsigned long>(hr));
  if (hr == E_NOTIMPL) return platform::Error{ENOSYS, what + ": not implemented by this system (HRESULT " + hex + ")"};
  return platform::Error{EIO, what + ": failed with HRESULT " + std::string(hex)};
}

platform::Status check_size(std::uint32_t columns, std::uint32_t rows, const std::string& what) {
  if (columns == 0 || rows == 0 || columns > kMaxConsoleDimension || rows > kMaxConsoleDimension) {
    return platform::Error{EINVAL, what + ": " + std::to_string(columns) + "x" + std::to_string(rows) +
                                       " (columns x rows): a pseudo console takes 1 to " +
                                       std::to_string(kMaxConsoleDimension) + " of each"};
  }
  return {};
}

// A thread with a Win32 HANDLE of its own (std::thread offers none portably): finish() waits for it with a
// timeout and can cancel its synchronous I/O (CancelSynchronousIo).
class Worker {
 public:
  Worker() = default;
  ~Worker() { detach(); }
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  platform::Status start(std::function<void()> body, const char* what) {
    auto* fn = new std::function<void()>(std::move(body));
    const std::uintptr_t h = _beginthreadex(nullptr, 0, &Worker::run, fn, 0, nullptr);
    if (h == 0) {
      const int err = errno;
      delete fn;
      return platform::Error::from_errno(std::string("terminal: start the ") + what + " thread", err);
    }
    thread_ = reinterpret_cast<HANDLE>(h);
    return {};
  }
  bool started() const noexcept { return thread_ != nullptr; }
  // True once the thread ended (or never ran); its handle is closed then.
  bool join(DWORD ms) {
    if (thread_ == nullptr) return true;
    if (WaitForSingleObject(thread_, ms) != WAIT_OBJECT_0) return false;
    close_handle(thread_);
    return true;
  }
  void cancel_io() {
    if (thread_ != nullptr) CancelSynchronousIo(thread_);
  }
  // A thread that would not end runs on by itself (it holds what it uses).
  void detach() { close_handle(thread_); }

 private:
  static unsigned __stdcall run(void* arg) {
    std::unique_ptr<std::function<void()>> fn(static_cast<std::function<void()>*>(arg));
    try {
      (*fn)();
    } catch (...) {  // nothing may escape a thread; the copiers allocate nothing, this is for safety only
    }
    return 0;
  }
  HANDLE thread_ = nullptr;
};

// Cancels what `w` is blocked in until it ends; false if it would not (it is detached then).
bool stop(Worker& w) {
  if (w.join(kStopGraceMs)) return true;
  for (int i = 0; i < 100; ++i) {
    w.cancel_io();
    if (w.join(20)) return true;
  }
  w.detach();
  return false;
}

// One end the copiers read or write: a named pipe of containerd's is overlapped (its operations can be given
// up when an event fires); a file, NUL and the console's own pipes are synchronous.
struct Endpoint {
  HANDLE handle = nullptr;
  bool overlapped = false;
  bool pipe = false;
  HANDLE io_event = nullptr;  // an overlapped endpoint's completion event
};

enum class Io { done, eof, cancelled, failed };

Io result_of(BOOL ok, DWORD err, DWORD n, bool read, const Endpoint& e) {
  if (ok) return (read && n == 0 && !e.pipe) ? Io::eof : Io::done;  // 0 bytes from a pipe: an empty write
  switch (err) {
    case ERROR_BROKEN_PIPE:
    case ERROR_HANDLE_EOF:
    case ERROR_PIPE_NOT_CONNECTED:
    case ERROR_NO_DATA:
      return Io::eof;
    case ERROR_OPERATION_ABORTED:
      return Io::cancelled;
    default:
      return Io::failed;
  }
}

// One ReadFile or WriteFile. On an overlapped endpoint it is given up (CancelIoEx) when one of `cancel` is
// signaled; what completed before the cancellation still counts.
Io transfer(const Endpoint& e, bool read, char* buf, DWORD len, DWORD& n, const HANDLE* cancel, DWORD cancel_count) {
  n = 0;
  if (!e.overlapped) {
    const BOOL ok = read ? ReadFile(e.handle, buf, len, &n, nullptr) : WriteFile(e.handle, buf, len, &n, nullptr);
    return result_of(ok, ok ? 0 : GetLastError(), n, read, e);
  }
  OVERLAPPED ov{};
  ov.hEvent = e.io_event;
  BOOL ok = read ? ReadFile(e.handle, buf, len, nullptr, &ov) : WriteFile(e.handle, buf, len, nullptr, &ov);
  DWORD err = ok ? 0 : GetLastError();
  if (ok || err == ERROR_IO_PENDING) {
    if (!ok) {
      HANDLE waits[4] = {e.io_event, nullptr, nullptr, nullptr};
      const DWORD count = cancel_count < 3 ? cancel_count : 3;
      for (DWORD i = 0; i < count; ++i) waits[i + 1] = cancel[i];
      if (WaitForMultipleObjects(count + 1, waits, FALSE, INFINITE) != WAIT_OBJECT_0) CancelIoEx(e.handle, &ov);
    }
    ok = GetOverlappedResult(e.handle, &ov, &n, TRUE);
    err = ok ? 0 : GetLastError();
  }
  return result_of(ok, err, n, read, e);
}

Io write_all(const Endpoint& e, const char* buf, DWORD len, const HANDLE* cancel, DWORD cancel_count) {
  while (len > 0) {
    DWORD n = 0;
    const Io r = transfer(e, false, const_cast<char*>(buf), len, n, cancel, cancel_count);
    if (r != Io::done) return r;
    if (n == 0) return Io::failed;  // a write that moves nothing would spin
    buf += n;
    len -= n;
  }
  return Io::done;
}

bool signaled(HANDLE event) { return WaitForSingleObject(event, 0) == WAIT_OBJECT_0; }

}  // namespace

struct PseudoConsole::State {
  std::mutex mu;
  HPCON console = nullptr;  // guarded by mu; handed to the closer thread by close_console()
  bool closing = false;     // guarded by mu
  bool finished = false;    // guarded by mu

  Endpoint console_in;   // the shim's end of the console's input pipe: keystrokes go in here
  Endpoint console_out;  // the shim's end of its output pipe
  Endpoint client_in;    // containerd's stdin; no handle when it names none
  Endpoint client_out;   // containerd's stdout (NUL when it names none)
  HANDLE client_err = nullptr;  // containerd's stderr when it names one: held, never written

  HANDLE stop_input = nullptr;   // finish(): the input copier ends
  HANDLE end_input = nullptr;    // close_stdin(): what is pending is delivered, then the end of input
  HANDLE drop_output = nullptr;  // finish() stopped waiting: the output copier drops what is left
  HANDLE output_done = nullptr;  // the output copier read the console's output to its end

  Worker input_copier;
  Worker output_copier;
  Worker closer;  // runs ClosePseudoConsole, which waits until the console's final frame was read

  State() = default;
  State(const State&) = delete;
  State& operator=(const State&) = delete;
  ~State() {
    // Only once every copier let go. The console is normally the closer's by then (~PseudoConsole hands it
    // over); one that is not never had a process, so ClosePseudoConsole has no final frame to wait on.
    if (console != nullptr) ClosePseudoConsole(console);
    close_streams();
    close_handle(client_in.handle);
    for (HANDLE* h : {&client_in.io_event, &client_out.io_event, &stop_input, &end_input, &drop_output, &output_done}) {
      close_handle(*h);
    }
  }

  // Everything but containerd's stdin (kept until the process is deleted) and the events.
  void close_streams() {
    close_handle(console_in.handle);
    close_handle(console_out.handle);
    close_handle(client_out.handle);
    close_handle(client_err);
  }

  void copy_output();
  void copy_input();
};

void PseudoConsole::State::copy_output() {
  char buf[kCopyBuffer];
  bool dropping = false;
  for (;;) {
    DWORD n = 0;
    // EOF (broken pipe) once the console is gone and its last frame was read; aborted when finish() gave up.
    if (transfer(console_out, true, buf, sizeof buf, n, nullptr, 0) != Io::done) break;
    if (n == 0) continue;
    if (!dropping && signaled(drop_output)) dropping = true;
    if (dropping) continue;
    // The client went away or finish() gave up on it: keep reading, so that the console (and the process
    // writing to it) never blocks on a full pipe, and drop the rest.
    if (write_all(client_out, buf, n, &drop_output, 1) != Io::done) dropping = true;
  }
  SetEvent(output_done);
}

void PseudoConsole::State::copy_input() {
  char buf[kCopyBuffer];
  bool ending = false;  // close_stdin(): only what is already pending in containerd's pipe
  for (;;) {
    if (signaled(stop_input)) return;
    if (!ending && signaled(end_input)) ending = true;
    if (ending && client_in.pipe) {
      DWORD avail = 0;
      if (!PeekNamedPipe(client_in.handle, nullptr, 0, nullptr, &avail, nullptr) || avail == 0) break;
    }
    const HANDLE cancel[] = {stop_input, end_input};
    DWORD n = 0;
    const Io r = transfer(client_in, true, buf, sizeof buf, n, cancel, ending ? 1 : 2);
    if (r == Io::cancelled) continue;  // stop or end of input: decided above
    if (r != Io::done) break;          // EOF (the client closed its end) or a broken handle: the end of input
    // The console is gone (the process exited): nobody is left to deliver input to.
    if (n > 0 && write_all(console_in, buf, n, nullptr, 0) != Io::done) return;
  }
  if (!signaled(stop_input)) (void)write_all(console_in, kEndOfInput, sizeof kEndOfInput - 1, nullptr, 0);
}

PseudoConsole::PseudoConsole(std::shared_ptr<State> state) : state_(std::move(state)) {}

PseudoConsole::~PseudoConsole() { finish(std::chrono::milliseconds(0)); }

platform::Expected<std::unique_ptr<PseudoConsole>> PseudoConsole::open(const platform::StdioPaths& stdio,
                                                                       std::uint32_t columns, std::uint32_t rows) {
  if (auto s = check_size(columns, rows, "terminal: process.consoleSize"); !s) return std::move(s).error();
  auto state = std::make_shared<State>();
  State& s = *state;
  auto endpoint = [](const ShimStdioHandle& opened) {
    Endpoint e;
    e.handle = to_handle(opened.handle);
    e.overlapped = opened.overlapped;
    e.pipe = GetFileType(e.handle) == FILE_TYPE_PIPE;
    return e;
  };
  // containerd's ends first: a path that cannot be opened fails the create before there is a console.
  if (!stdio.stdin_path.empty()) {
    auto in = open_for_copying(stdio.stdin_path, StdioStream::in);
    if (!in) return std::move(in).error().context("terminal");
    s.client_in = endpoint(in.value());
  }
  auto out = open_for_copying(stdio.stdout_path, StdioStream::out);
  if (!out) return std::move(out).error().context("terminal");
  s.client_out = endpoint(out.value());
  if (!stdio.stderr_path.empty()) {
    auto err = open_for_copying(stdio.stderr_path, StdioStream::err);
    if (!err) return std::move(err).error().context("terminal");
    s.client_err = to_handle(err.value().handle);
  }
  for (HANDLE* h : {&s.stop_input, &s.end_input, &s.drop_output, &s.output_done}) {
    *h = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    if (*h == nullptr) return last_error("terminal: CreateEvent");
  }
  for (Endpoint* e : {&s.client_in, &s.client_out}) {
    if (!e->overlapped) continue;
    e->io_event = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    if (e->io_event == nullptr) return last_error("terminal: CreateEvent");
  }

  HANDLE console_reads = nullptr;
  HANDLE console_writes = nullptr;
  if (!CreatePipe(&console_reads, &s.console_in.handle, nullptr, 0)) return last_error("terminal: CreatePipe (input)");
  if (!CreatePipe(&s.console_out.handle, &console_writes, nullptr, 0)) {
    const DWORD err = GetLastError();
    close_handle(console_reads);
    return win32_error("terminal: CreatePipe (output)", err);
  }
  s.console_in.pipe = s.console_out.pipe = true;
  HPCON console = nullptr;
  const HRESULT hr = CreatePseudoConsole(COORD{static_cast<SHORT>(columns), static_cast<SHORT>(rows)}, console_reads,
                                         console_writes, 0, &console);
  // The console holds duplicates of its ends: the shim's copies would keep the output pipe open after the
  // console is gone, and the output copier would never see its EOF.
  close_handle(console_reads);
  close_handle(console_writes);
  if (FAILED(hr)) return hresult_error("terminal: CreatePseudoConsole", hr);
  s.console = console;

  // From here on the PseudoConsole's destructor undoes everything (it closes the console and stops the copiers).
  std::unique_ptr<PseudoConsole> made(new PseudoConsole(state));
  if (auto started = s.output_copier.start([state] { state->copy_output(); }, "terminal output"); !started) {
    return std::move(started).error();
  }
  if (s.client_in.handle != nullptr) {
    if (auto started = s.input_copier.start([state] { state->copy_input(); }, "terminal input"); !started) {
      return std::move(started).error();
    }
  }
  return made;
}

RawHandle PseudoConsole::handle() const noexcept {
  std::lock_guard lock(state_->mu);
  return reinterpret_cast<RawHandle>(state_->console);
}

platform::Status PseudoConsole::resize(std::uint32_t columns, std::uint32_t rows) {
  if (auto s = check_size(columns, rows, "resize"); !s) return s;
  State& s = *state_;
  // Under the lock: the closer cannot close the console while it is being resized.
  std::lock_guard lock(s.mu);
  if (s.closing || s.console == nullptr) {
    return platform::Error{ESRCH, "resize: the process has exited (its pseudo console is closed)"};
  }
  const HRESULT hr = ResizePseudoConsole(s.console, COORD{static_cast<SHORT>(columns), static_cast<SHORT>(rows)});
  if (FAILED(hr)) return hresult_error("resize: ResizePseudoConsole", hr);
  return {};
}

void PseudoConsole::close_stdin() { SetEvent(state_->end_input); }

void PseudoConsole::close_console() {
  State& s = *state_;
  std::lock_guard lock(s.mu);
  if (s.closing) return;
  s.closing = true;
  HPCON console = s.console;
  s.console = nullptr;
  if (console == nullptr) return;
  // The closer holds nothing of the state: if the console never lets go it is left behind, not waited for.
  if (auto started = s.closer.start([console] { ClosePseudoConsole(console); }, "terminal close"); !started) {
    ClosePseudoConsole(console);  // no thread to spare: here (the output copier keeps reading meanwhile)
  }
}

void PseudoConsole::finish(std::chrono::milliseconds limit) {
  State& s = *state_;
  {
    std::lock_guard lock(s.mu);
    if (s.finished) return;
    s.finished = true;
  }
  close_console();
  const auto wait_ms = limit.count() <= 0 ? 0 : (limit.count() >= INFINITE ? INFINITE - 1 : limit.count());
  if (s.output_copier.started()) WaitForSingleObject(s.output_done, static_cast<DWORD>(wait_ms));
  SetEvent(s.drop_output);
  SetEvent(s.stop_input);
  const bool output_stopped = stop(s.output_copier);
  const bool input_stopped = stop(s.input_copier);
  if (!s.closer.join(kStopGraceMs)) s.closer.detach();  // a console that never closes is not waited for forever
  // A copier that would not end still uses the streams: ~State closes them once it let go.
  if (output_stopped && input_stopped) s.close_streams();
}

}  // namespace litebox::windows_host
