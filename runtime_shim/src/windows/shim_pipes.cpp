#include "windows/shim_pipes.hpp"

#include <windows.h>

#include "litebox/windows/utf.hpp"

namespace litebox::shim {

std::string shim_pipe_address(const std::string& namespace_name, const std::string& group) {
  return "\\\\.\\pipe\\containerd-shim-" + namespace_name + "-" + group + "-pipe";
}

std::string shim_log_pipe_address(const std::string& namespace_name, const std::string& id) {
  return "\\\\.\\pipe\\containerd-shim-" + namespace_name + "-" + id + "-log";
}

bool pipe_is_served(const std::string& address) {
  const std::wstring name = windows_host::widen(address);
  const HANDLE h = CreateFileW(name.c_str(), GENERIC_READ | GENERIC_WRITE, 0, nullptr, OPEN_EXISTING, 0, nullptr);
  if (h != INVALID_HANDLE_VALUE) {
    CloseHandle(h);
    return true;
  }
  return GetLastError() == ERROR_PIPE_BUSY;  // it exists, every instance is taken
}

std::wstring self_executable_path() {
  std::wstring path(MAX_PATH, L'\0');
  for (;;) {
    const DWORD n = GetModuleFileNameW(nullptr, path.data(), static_cast<DWORD>(path.size()));
    if (n == 0) return {};
    if (n < path.size()) {
      path.resize(n);
      return path;
    }
    path.resize(path.size() * 2);
  }
}

}  // namespace litebox::shim
