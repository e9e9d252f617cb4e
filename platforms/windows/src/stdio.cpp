#include <windows.h>

#include "litebox/windows/stdio.hpp"

#include <cerrno>

#include "fdcore/linux_abi.hpp"
#include "litebox/windows/utf.hpp"
#include "litebox/windows/win_error.hpp"

namespace litebox::windows_host {
namespace {

constexpr DWORD kPipeBusyWaitMs = 5000;

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

// Handles are opened not inheritable: they become inheritable only for the launch (process_launch.cpp).
// `overlapped_pipe`: a named pipe is opened FILE_FLAG_OVERLAPPED (only for the shim's own copier threads: a
// child must not inherit an overlapped handle, its synchronous reads and writes would misbehave).
platform::Expected<HANDLE> open_one(const std::string& path, bool input, const char* which, bool overlapped_pipe,
                                    bool* opened_overlapped = nullptr) {
  const std::string what = std::string("open ") + which + " \"" + path + "\"";
  std::string target = path;
  if (path.empty()) target = "NUL";
  else if (starts_with(path, "binary://")) {
    return platform::Error{ENOSYS, what + ": logging binaries (binary://) are not supported by this host yet"};
  } else if (starts_with(path, "file://")) {
    target = path.substr(7);
    if (target.size() >= 3 && target[0] == '/' && target[2] == ':') target.erase(0, 1);  // file:///C:/x
  }
  const std::wstring wide = widen(target);
  const bool pipe = starts_with(target, "\\\\.\\pipe\\") || starts_with(target, "//./pipe/");
  for (int attempt = 0;; ++attempt) {
    HANDLE h = INVALID_HANDLE_VALUE;
    if (pipe) {
      h = CreateFileW(wide.c_str(), input ? GENERIC_READ : GENERIC_WRITE, 0, nullptr, OPEN_EXISTING,
                      overlapped_pipe ? FILE_FLAG_OVERLAPPED : 0, nullptr);
    } else if (input) {
      h = CreateFileW(wide.c_str(), GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, nullptr, OPEN_EXISTING,
                      FILE_ATTRIBUTE_NORMAL, nullptr);
    } else {
      // FILE_APPEND_DATA without FILE_WRITE_DATA: every write goes to the end, as O_APPEND.
      h = CreateFileW(wide.c_str(), FILE_APPEND_DATA | SYNCHRONIZE, FILE_SHARE_READ | FILE_SHARE_WRITE, nullptr,
                      target == "NUL" ? OPEN_EXISTING : OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, nullptr);
    }
    if (h != INVALID_HANDLE_VALUE) {
      if (opened_overlapped != nullptr) *opened_overlapped = pipe && overlapped_pipe;
      return h;
    }
    const DWORD err = GetLastError();
    // Every instance of the client's pipe is taken: wait for one once, then give up.
    if (pipe && err == ERROR_PIPE_BUSY && attempt == 0 && WaitNamedPipeW(wide.c_str(), kPipeBusyWaitMs)) continue;
    return win32_error(what, err);
  }
}

}  // namespace

platform::Expected<ShimStdioHandle> open_for_copying(const std::string& path, StdioStream stream) {
  const bool input = stream == StdioStream::in;
  const char* name = input ? "stdin" : (stream == StdioStream::out ? "stdout" : "stderr");
  bool overlapped = false;
  auto h = open_one(path, input, name, true, &overlapped);
  if (!h) return std::move(h).error();
  return ShimStdioHandle{reinterpret_cast<RawHandle>(h.value()), overlapped};
}

platform::Status open_stdio(const platform::StdioPaths& stdio, HandleTable& table) {
  struct One {
    const std::string& path;
    int fd;
    bool input;
    const char* name;
  };
  const One all[] = {{stdio.stdin_path, 0, true, "stdin"},
                     {stdio.stdout_path, 1, false, "stdout"},
                     {stdio.stderr_path, 2, false, "stderr"}};
  for (const auto& one : all) {
    auto h = open_one(one.path, one.input, one.name, false);
    if (!h) return std::move(h).error();
    const bool file = !one.path.empty() && GetFileType(h.value()) == FILE_TYPE_DISK;
    const std::uint32_t flags = one.input ? fdcore::abi::o_rdonly
                                          : (fdcore::abi::o_wronly | (file ? fdcore::abi::o_append : 0u));
    auto fd = table.install(reinterpret_cast<RawHandle>(h.value()), one.fd, false, flags,
                            one.path.empty() ? "NUL" : one.path);
    if (!fd) return std::move(fd).error().context(std::string("install ") + one.name);
  }
  return {};
}

}  // namespace litebox::windows_host
