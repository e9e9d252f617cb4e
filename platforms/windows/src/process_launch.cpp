#include <windows.h>

#include "litebox/windows/process_launch.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "litebox/windows/win_error.hpp"

namespace litebox::windows_host {
namespace {

HANDLE to_handle(RawHandle raw) { return reinterpret_cast<HANDLE>(raw); }

// The CRT's per-descriptor flags (ucrt's and msvcrt's ioinfo: FOPEN, FPIPE, FAPPEND, FDEV). FTEXT is left
// out on purpose: the guest's bytes then pass untranslated (no "\n" -> "\r\n"), as on Linux.
constexpr unsigned char kFopen = 0x01;
constexpr unsigned char kFpipe = 0x08;
constexpr unsigned char kFappend = 0x20;
constexpr unsigned char kFdev = 0x40;

// Makes handles inheritable for the launch only: a handle left inheritable would leak into any process the
// shim creates later without a handle list (a logging binary, a hook).
class InheritableForLaunch {
 public:
  explicit InheritableForLaunch(const std::vector<HANDLE>& handles) {
    for (HANDLE h : handles) {
      DWORD flags = 0;
      if (GetHandleInformation(h, &flags) && (flags & HANDLE_FLAG_INHERIT) == 0) {
        if (SetHandleInformation(h, HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT)) changed_.push_back(h);
      }
    }
  }
  ~InheritableForLaunch() {
    for (HANDLE h : changed_) SetHandleInformation(h, HANDLE_FLAG_INHERIT, 0);
  }
  InheritableForLaunch(const InheritableForLaunch&) = delete;
  InheritableForLaunch& operator=(const InheritableForLaunch&) = delete;

 private:
  std::vector<HANDLE> changed_;
};

struct AttributeListDeleter {
  void operator()(LPPROC_THREAD_ATTRIBUTE_LIST list) const {
    DeleteProcThreadAttributeList(list);
    ::operator delete(list);
  }
};
using AttributeList = std::unique_ptr<_PROC_THREAD_ATTRIBUTE_LIST, AttributeListDeleter>;

platform::Expected<AttributeList> make_attribute_list(DWORD count) {
  SIZE_T size = 0;
  InitializeProcThreadAttributeList(nullptr, count, 0, &size);
  auto* raw = static_cast<LPPROC_THREAD_ATTRIBUTE_LIST>(::operator new(size));
  if (!InitializeProcThreadAttributeList(raw, count, 0, &size)) {
    const DWORD err = GetLastError();
    ::operator delete(raw);
    return win32_error("InitializeProcThreadAttributeList", err);
  }
  return AttributeList(raw);
}

}  // namespace

platform::Expected<std::vector<unsigned char>> crt_descriptor_block(const std::vector<TableEntry>& inherited) {
  std::uint32_t count = 0;
  for (const auto& e : inherited) count = std::max(count, e.fd + 1);
  const std::size_t size = sizeof(std::uint32_t) + count * (1 + sizeof(HANDLE));
  if (size > 0xFFFF) {
    return platform::Error{EMFILE, "launch: descriptor " + std::to_string(count - 1) +
                                       " is above what the C runtime's inherited-descriptor block can carry"};
  }
  std::vector<unsigned char> block(size, 0);
  std::memcpy(block.data(), &count, sizeof count);
  unsigned char* flags = block.data() + sizeof count;
  unsigned char* handles = flags + count;
  for (std::uint32_t i = 0; i < count; ++i) {
    const HANDLE invalid = INVALID_HANDLE_VALUE;
    std::memcpy(handles + i * sizeof(HANDLE), &invalid, sizeof invalid);  // unaligned: memcpy
  }
  for (const auto& e : inherited) {
    const HANDLE h = to_handle(e.handle);
    unsigned char f = kFopen;
    switch (GetFileType(h)) {
      case FILE_TYPE_PIPE: f |= kFpipe; break;
      case FILE_TYPE_CHAR: f |= kFdev; break;
      default: break;
    }
    if (e.append) f |= kFappend;
    flags[e.fd] = f;
    std::memcpy(handles + e.fd * sizeof(HANDLE), &h, sizeof h);
  }
  return block;
}

platform::Expected<LaunchedProcess> launch_process(const LaunchRequest& request) {
  std::vector<TableEntry> inherited;
  if (request.table != nullptr) {
    for (const auto& e : request.table->entries()) {
      if (!e.cloexec) inherited.push_back(e);
    }
  }
  auto block = crt_descriptor_block(inherited);
  if (!block) return std::move(block).error();

  // A handle named by several numbers (dup) is listed once: the list is of handles, the CRT block of numbers.
  std::vector<HANDLE> handles;
  for (const auto& e : inherited) {
    const HANDLE h = to_handle(e.handle);
    if (std::find(handles.begin(), handles.end(), h) == handles.end()) handles.push_back(h);
  }

  STARTUPINFOEXW si{};
  si.StartupInfo.cb = sizeof si;
  si.StartupInfo.cbReserved2 = static_cast<WORD>(block.value().size());
  si.StartupInfo.lpReserved2 = block.value().data();
  auto std_handle = [&](std::uint32_t fd) -> HANDLE {
    for (const auto& e : inherited) {
      if (e.fd == fd) return to_handle(e.handle);
    }
    return nullptr;
  };
  // With a pseudo console the standard handles are left null under STARTF_USESTDHANDLES: Windows then gives
  // the process the console's own. Without the flag the process would get the shim's standard handles
  // (containerd's log pipe) instead of the console's (microsoft/terminal#11276; wine 8 does the same).
  si.StartupInfo.dwFlags |= STARTF_USESTDHANDLES;
  if (request.pseudo_console == 0) {
    si.StartupInfo.hStdInput = std_handle(0);
    si.StartupInfo.hStdOutput = std_handle(1);
    si.StartupInfo.hStdError = std_handle(2);
  }

  const DWORD attributes = (handles.empty() ? 0 : 1) + (request.pseudo_console != 0 ? 1 : 0);
  AttributeList list;
  if (attributes > 0) {
    auto made = make_attribute_list(attributes);
    if (!made) return std::move(made).error();
    list = std::move(made).value();
    if (!handles.empty() &&
        !UpdateProcThreadAttribute(list.get(), 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST, handles.data(),
                                   handles.size() * sizeof(HANDLE), nullptr, nullptr)) {
      return last_error("UpdateProcThreadAttribute(HANDLE_LIST)");
    }
    if (request.pseudo_console != 0 &&
        !UpdateProcThreadAttribute(list.get(), 0, PROC_THREAD_ATTRIBUTE_PSEUDOCONSOLE,
                                   reinterpret_cast<void*>(request.pseudo_console), sizeof(HPCON), nullptr,
                                   nullptr)) {
      return last_error("UpdateProcThreadAttribute(PSEUDOCONSOLE)");
    }
    si.lpAttributeList = list.get();
  }

  std::wstring command_line = request.command_line;  // CreateProcessW may write into it
  command_line.push_back(L'\0');
  DWORD creation = CREATE_SUSPENDED | CREATE_UNICODE_ENVIRONMENT | EXTENDED_STARTUPINFO_PRESENT;
  // Without a terminal the container gets no console at all (DETACHED_PROCESS): a console would hand its own
  // handles to the standard numbers the table leaves empty (wine does so, and so do console programs that
  // call AllocConsole-style fallbacks), and the shim's console events would reach the container.
  if (request.pseudo_console == 0) creation |= DETACHED_PROCESS;

  PROCESS_INFORMATION pi{};
  BOOL created = FALSE;
  DWORD err = 0;
  {
    InheritableForLaunch inheritable(handles);
    created = CreateProcessW(request.application.empty() ? nullptr : request.application.c_str(),
                             command_line.data(), nullptr, nullptr, handles.empty() ? FALSE : TRUE, creation,
                             request.environment.empty() ? nullptr : const_cast<wchar_t*>(request.environment.data()),
                             request.cwd.empty() ? nullptr : request.cwd.c_str(), &si.StartupInfo, &pi);
    err = GetLastError();
  }
  if (!created) return win32_error("CreateProcess", err);

  if (request.job != 0 && !AssignProcessToJobObject(to_handle(request.job), pi.hProcess)) {
    err = GetLastError();
    TerminateProcess(pi.hProcess, 1);
    CloseHandle(pi.hThread);
    CloseHandle(pi.hProcess);
    return win32_error("AssignProcessToJobObject", err);
  }
  if (!request.suspended) ResumeThread(pi.hThread);
  return LaunchedProcess{reinterpret_cast<RawHandle>(pi.hProcess), reinterpret_cast<RawHandle>(pi.hThread),
                         static_cast<std::uint32_t>(pi.dwProcessId)};
}

}  // namespace litebox::windows_host
