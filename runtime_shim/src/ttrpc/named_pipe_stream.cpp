#include "ttrpc/named_pipe_stream.hpp"

#include <windows.h>
#include <sddl.h>

#include <atomic>
#include <chrono>
#include <climits>
#include <thread>

#include <spdlog/spdlog.h>

namespace litebox::shim::ttrpc {

namespace {

using Clock = std::chrono::steady_clock;

constexpr DWORD kPipeBuffer = 64 * 1024;

std::string win_error_text(DWORD code) {
  char* text = nullptr;
  const DWORD n = FormatMessageA(FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
                                 nullptr, code, 0, reinterpret_cast<char*>(&text), 0, nullptr);
  std::string out = n != 0 && text != nullptr ? std::string(text, n) : std::string();
  if (text != nullptr) LocalFree(text);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r' || out.back() == ' ' || out.back() == '.')) out.pop_back();
  return (out.empty() ? std::string("Windows error") : out) + " (" + std::to_string(code) + ")";
}

std::wstring widen(std::string_view utf8) {
  if (utf8.empty() || utf8.size() > INT_MAX) return {};
  const int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8.data(), static_cast<int>(utf8.size()), nullptr, 0);
  if (n <= 0) return {};
  std::wstring out(static_cast<std::size_t>(n), L'\0');
  MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8.data(), static_cast<int>(utf8.size()), out.data(), n);
  return out;
}

// `\\.\pipe\name` (or `npipe://...` with either slash) as the wide name CreateFile and CreateNamedPipe take;
// empty when it is not a local pipe name.
std::wstring pipe_name(std::string_view address) {
  if (address.substr(0, 8) == "npipe://") address.remove_prefix(8);
  std::string name(address);
  for (char& c : name)
    if (c == '/') c = '\\';
  constexpr std::string_view prefix = "\\\\.\\pipe\\";
  if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0 || name.size() > 256) return {};
  return widen(name);
}

class Event {
 public:
  Event() : h_(CreateEventW(nullptr, TRUE, FALSE, nullptr)) {}
  ~Event() {
    if (h_ != nullptr) CloseHandle(h_);
  }
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  HANDLE get() const { return h_; }
  bool valid() const { return h_ != nullptr; }

 private:
  HANDLE h_;
};

// Waits for an overlapped operation on `h` or for `give_up`, at most `ms`: true with `done` bytes when the
// operation completed; false when it was cancelled (given up, timed out) or failed, with `err` set.
bool finish_overlapped(HANDLE h, OVERLAPPED& ov, HANDLE give_up, DWORD ms, DWORD& done, DWORD& err) {
  const HANDLE waits[2] = {ov.hEvent, give_up};
  const DWORD r = WaitForMultipleObjects(2, waits, FALSE, ms);
  if (r != WAIT_OBJECT_0) {
    CancelIoEx(h, &ov);
    // The operation may have completed anyway: its bytes count (a write's partial frame).
    if (GetOverlappedResult(h, &ov, &done, TRUE)) {
      err = r == WAIT_TIMEOUT ? WAIT_TIMEOUT : ERROR_OPERATION_ABORTED;
      return false;
    }
    err = r == WAIT_TIMEOUT ? WAIT_TIMEOUT : GetLastError();
    return false;
  }
  if (GetOverlappedResult(h, &ov, &done, FALSE)) return true;
  err = GetLastError();
  return false;
}

class NamedPipeStream final : public Stream {
 public:
  explicit NamedPipeStream(HANDLE h) : h_(h) {}
  ~NamedPipeStream() override { CloseHandle(h_); }
  NamedPipeStream(const NamedPipeStream&) = delete;
  NamedPipeStream& operator=(const NamedPipeStream&) = delete;

  bool valid() const { return stop_read_.valid() && shutdown_.valid() && read_done_.valid() && write_done_.valid(); }

  std::ptrdiff_t read_some(char* buf, std::size_t size, std::string& error) override {
    if (stopped_) return 0;
    OVERLAPPED ov{};
    ov.hEvent = read_done_.get();
    ResetEvent(ov.hEvent);
    const DWORD want = size > kPipeBuffer ? kPipeBuffer : static_cast<DWORD>(size);
    DWORD done = 0;
    DWORD err = ERROR_SUCCESS;
    if (!ReadFile(h_, buf, want, nullptr, &ov) && (err = GetLastError()) != ERROR_IO_PENDING) {
      return end_or_error(err, error);
    }
    if (!finish_overlapped(h_, ov, stop_read_.get(), INFINITE, done, err)) {
      if (stopped_) return 0;
      return end_or_error(err, error);
    }
    return static_cast<std::ptrdiff_t>(done);
  }

  WriteResult write_all(std::string_view data, std::size_t& written, std::optional<Clock::time_point> deadline,
                        std::string& error) override {
    written = 0;
    while (written < data.size()) {
      DWORD ms = INFINITE;
      if (deadline) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - Clock::now()).count();
        if (left <= 0) return WriteResult::timed_out;
        ms = left >= static_cast<long long>(INFINITE) ? INFINITE - 1 : static_cast<DWORD>(left);
      }
      OVERLAPPED ov{};
      ov.hEvent = write_done_.get();
      ResetEvent(ov.hEvent);
      const std::size_t left_bytes = data.size() - written;
      const DWORD chunk = left_bytes > kPipeBuffer ? kPipeBuffer : static_cast<DWORD>(left_bytes);
      DWORD done = 0;
      DWORD err = ERROR_SUCCESS;
      if (!WriteFile(h_, data.data() + written, chunk, nullptr, &ov) && (err = GetLastError()) != ERROR_IO_PENDING) {
        error = win_error_text(err);
        return WriteResult::failed;
      }
      const bool ok = finish_overlapped(h_, ov, shutdown_.get(), ms, done, err);
      written += done;
      if (!ok) {
        if (err == WAIT_TIMEOUT) return WriteResult::timed_out;
        error = err == ERROR_OPERATION_ABORTED ? std::string("the stream was shut down") : win_error_text(err);
        return WriteResult::failed;
      }
    }
    return WriteResult::ok;
  }

  void stop_reading() override {
    stopped_ = true;
    SetEvent(stop_read_.get());
  }

  void shut_down() override {
    stop_reading();
    SetEvent(shutdown_.get());
  }

  std::optional<std::string> peer_refusal() const override { return std::nullopt; }

 private:
  static std::ptrdiff_t end_or_error(DWORD err, std::string& error) {
    if (err == ERROR_BROKEN_PIPE || err == ERROR_PIPE_NOT_CONNECTED || err == ERROR_HANDLE_EOF || err == ERROR_NO_DATA) {
      return 0;
    }
    error = win_error_text(err);
    return -1;
  }

  const HANDLE h_;
  Event stop_read_;
  Event shutdown_;
  Event read_done_;
  Event write_done_;
  std::atomic<bool> stopped_{false};
};

std::unique_ptr<Stream> wrap(HANDLE h, std::string& error) {
  auto stream = std::make_unique<NamedPipeStream>(h);
  if (!stream->valid()) {
    error = "CreateEvent: " + win_error_text(GetLastError());
    return nullptr;
  }
  return stream;
}

// SYSTEM, Administrators and the user we run as: who may connect (runhcs admits the first two; our own user
// lets a shim started by a non-administrator's containerd be reached).
std::wstring pipe_sddl() {
  std::wstring sddl = L"D:P(A;;GA;;;SY)(A;;GA;;;BA)";
  HANDLE token = nullptr;
  if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token)) return sddl;
  alignas(TOKEN_USER) unsigned char buf[256];
  DWORD len = 0;
  if (GetTokenInformation(token, TokenUser, buf, sizeof(buf), &len)) {
    wchar_t* sid = nullptr;
    if (ConvertSidToStringSidW(reinterpret_cast<TOKEN_USER*>(buf)->User.Sid, &sid)) {
      sddl += L"(A;;GA;;;" + std::wstring(sid) + L")";
      LocalFree(sid);
    }
  }
  CloseHandle(token);
  return sddl;
}

class NamedPipeListener final : public Listener {
 public:
  NamedPipeListener(std::wstring name, PSECURITY_DESCRIPTOR sd) : name_(std::move(name)), sd_(sd) {}
  ~NamedPipeListener() override {
    if (next_ != INVALID_HANDLE_VALUE) CloseHandle(next_);
    if (sd_ != nullptr) LocalFree(sd_);
  }
  NamedPipeListener(const NamedPipeListener&) = delete;
  NamedPipeListener& operator=(const NamedPipeListener&) = delete;

  // The next instance clients connect to.
  bool create_instance(bool first, bool exclusive, std::string& error) {
    SECURITY_ATTRIBUTES sa{sizeof(sa), sd_, FALSE};
    const DWORD open_mode = PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED | (first && exclusive ? FILE_FLAG_FIRST_PIPE_INSTANCE : 0);
    next_ = CreateNamedPipeW(name_.c_str(), open_mode, PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS,
                             PIPE_UNLIMITED_INSTANCES, kPipeBuffer, kPipeBuffer, 0, &sa);
    if (next_ == INVALID_HANDLE_VALUE) {
      error = "CreateNamedPipe: " + win_error_text(GetLastError());
      return false;
    }
    return true;
  }

  bool valid() const { return stop_.valid() && connected_.valid(); }

  std::unique_ptr<Stream> accept() override {
    int backoff_ms = 0;
    for (;;) {
      if (stopped_) return nullptr;
      std::string error;
      if (next_ == INVALID_HANDLE_VALUE && !create_instance(false, false, error)) {
        // Out of handles or memory: wait and retry, as the unix listener does on EMFILE.
        backoff_ms = backoff_ms == 0 ? 1 : (backoff_ms * 2 > 1000 ? 1000 : backoff_ms * 2);
        spdlog::error("ttrpc: {}; backoff {} ms", error, backoff_ms);
        if (WaitForSingleObject(stop_.get(), static_cast<DWORD>(backoff_ms)) == WAIT_OBJECT_0) return nullptr;
        continue;
      }
      backoff_ms = 0;
      OVERLAPPED ov{};
      ov.hEvent = connected_.get();
      ResetEvent(ov.hEvent);
      bool connected = ConnectNamedPipe(next_, &ov) != FALSE;
      DWORD err = connected ? ERROR_SUCCESS : GetLastError();
      if (err == ERROR_PIPE_CONNECTED) {
        connected = true;
      } else if (err == ERROR_IO_PENDING) {
        DWORD ignored = 0;
        connected = finish_overlapped(next_, ov, stop_.get(), INFINITE, ignored, err);
        if (!connected && stopped_) return nullptr;
      }
      if (!connected) {
        // A client that came and went (ERROR_NO_DATA) or a broken instance: start over with a new one.
        spdlog::debug("ttrpc: ConnectNamedPipe: {}", win_error_text(err));
        CloseHandle(next_);
        next_ = INVALID_HANDLE_VALUE;
        continue;
      }
      const HANDLE h = next_;
      next_ = INVALID_HANDLE_VALUE;
      // The next client finds an instance waiting (else it would see ERROR_PIPE_BUSY until the next accept).
      if (!create_instance(false, false, error)) spdlog::warn("ttrpc: {}", error);
      auto stream = wrap(h, error);
      if (stream) return stream;
      spdlog::error("ttrpc: cannot serve a connection: {}", error);
    }
  }

  void stop() override {
    stopped_ = true;
    SetEvent(stop_.get());
  }

 private:
  const std::wstring name_;
  const PSECURITY_DESCRIPTOR sd_;
  HANDLE next_ = INVALID_HANDLE_VALUE;
  Event stop_;
  Event connected_;
  std::atomic<bool> stopped_{false};
};

}  // namespace

std::unique_ptr<Listener> named_pipe_listener(std::string_view address, bool exclusive, std::string& error) {
  const std::wstring name = pipe_name(address);
  if (name.empty()) {
    error = "not a local named pipe address (\\\\.\\pipe\\...): \"" + std::string(address) + "\"";
    return nullptr;
  }
  PSECURITY_DESCRIPTOR sd = nullptr;
  if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(pipe_sddl().c_str(), SDDL_REVISION_1, &sd, nullptr)) {
    error = "the pipe's security descriptor: " + win_error_text(GetLastError());
    return nullptr;
  }
  auto listener = std::make_unique<NamedPipeListener>(name, sd);
  if (!listener->valid()) {
    error = "CreateEvent: " + win_error_text(GetLastError());
    return nullptr;
  }
  if (!listener->create_instance(true, exclusive, error)) return nullptr;
  return listener;
}

std::unique_ptr<Stream> connect_stream(std::string_view address, RpcStatus& status) {
  const std::wstring name = pipe_name(address);
  if (name.empty()) {
    status = RpcStatus::error(StatusCode::invalid_argument,
                              "ttrpc: unusable named pipe address \"" + std::string(address) + "\"");
    return nullptr;
  }
  // Every instance busy: wait for one, as go-winio's DialPipe does, up to 5 s in all.
  const auto give_up = Clock::now() + std::chrono::seconds(5);
  for (;;) {
    const HANDLE h = CreateFileW(name.c_str(), GENERIC_READ | GENERIC_WRITE, 0, nullptr, OPEN_EXISTING,
                                 FILE_FLAG_OVERLAPPED | SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION, nullptr);
    if (h != INVALID_HANDLE_VALUE) {
      std::string error;
      auto stream = wrap(h, error);
      if (!stream) status = RpcStatus::error(StatusCode::unavailable, "ttrpc: " + error);
      return stream;
    }
    const DWORD err = GetLastError();
    if (err != ERROR_PIPE_BUSY || Clock::now() >= give_up) {
      status = RpcStatus::error(StatusCode::unavailable, "ttrpc: dial " + std::string(address) + ": " + win_error_text(err));
      return nullptr;
    }
    if (!WaitNamedPipeW(name.c_str(), 1000)) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace litebox::shim::ttrpc
