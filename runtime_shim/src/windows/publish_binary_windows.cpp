// The legacy event path on Windows: `containerd.exe --address A publish --topic T --namespace NS` with the
// event (a google.protobuf.Any) on its stdin.
#include <windows.h>

#include <spdlog/spdlog.h>

#include "litebox/windows/command_line.hpp"
#include "litebox/windows/utf.hpp"
#include "task/publish_binary.hpp"

namespace litebox::shim {

bool run_publish_binary(std::vector<std::string> args, const std::string& payload, std::shared_mutex*) {
  SECURITY_ATTRIBUTES inherit{sizeof(inherit), nullptr, TRUE};
  HANDLE read_end = nullptr;
  HANDLE write_end = nullptr;
  if (!CreatePipe(&read_end, &write_end, &inherit, 0)) return false;
  SetHandleInformation(write_end, HANDLE_FLAG_INHERIT, 0);
  std::wstring command_line = windows_host::quote_command_line(args);
  STARTUPINFOEXW si{};
  si.StartupInfo.cb = sizeof(si);
  si.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
  si.StartupInfo.hStdInput = read_end;
  si.StartupInfo.hStdOutput = INVALID_HANDLE_VALUE;
  si.StartupInfo.hStdError = INVALID_HANDLE_VALUE;
  // Only the pipe's read end is inherited.
  SIZE_T size = 0;
  InitializeProcThreadAttributeList(nullptr, 1, 0, &size);
  std::string attributes(size, '\0');
  si.lpAttributeList = reinterpret_cast<LPPROC_THREAD_ATTRIBUTE_LIST>(attributes.data());
  bool started = InitializeProcThreadAttributeList(si.lpAttributeList, 1, 0, &size) &&
                 UpdateProcThreadAttribute(si.lpAttributeList, 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST, &read_end,
                                           sizeof(read_end), nullptr, nullptr);
  PROCESS_INFORMATION pi{};
  if (started) {
    started = CreateProcessW(nullptr, command_line.data(), nullptr, nullptr, TRUE,
                             EXTENDED_STARTUPINFO_PRESENT | CREATE_NO_WINDOW, nullptr, nullptr, &si.StartupInfo, &pi);
    DeleteProcThreadAttributeList(si.lpAttributeList);
  }
  CloseHandle(read_end);
  if (!started) {
    CloseHandle(write_end);
    spdlog::debug("events: cannot run {}: error {}", args.front(), GetLastError());
    return false;
  }
  CloseHandle(pi.hThread);
  std::size_t off = 0;
  while (off < payload.size()) {
    DWORD n = 0;
    const DWORD chunk = static_cast<DWORD>(std::min<std::size_t>(payload.size() - off, 64 * 1024));
    if (!WriteFile(write_end, payload.data() + off, chunk, &n, nullptr) || n == 0) break;
    off += n;
  }
  CloseHandle(write_end);
  WaitForSingleObject(pi.hProcess, 30 * 1000);
  DWORD code = 1;
  GetExitCodeProcess(pi.hProcess, &code);
  CloseHandle(pi.hProcess);
  return code == 0;
}

}  // namespace litebox::shim
