#include "test_support.hpp"

#include <winternl.h>

#include <atomic>
#include <fstream>
#include <vector>

namespace litebox_test {

std::filesystem::path probe_exe() { return wine_path(LITEBOX_PROBE_EXE); }

std::filesystem::path wine_path(std::string p) {
  if (!p.empty() && p[0] == '/') {
    for (auto& c : p) {
      if (c == '/') c = '\\';
    }
    p = "Z:" + p;
  }
  return std::filesystem::path(p);
}

std::wstring quoted_probe() { return L"\"" + probe_exe().wstring() + L"\""; }

Pipe::Pipe() { CreatePipe(&read, &write, nullptr, 0); }
Pipe::~Pipe() {
  if (read != nullptr) CloseHandle(read);
  if (write != nullptr) CloseHandle(write);
}
HANDLE Pipe::take_write() {
  HANDLE h = write;
  write = nullptr;
  return h;
}
HANDLE Pipe::take_read() {
  HANDLE h = read;
  read = nullptr;
  return h;
}

std::string read_all(HANDLE h, DWORD timeout_ms) {
  // Polls instead of blocking, so a test whose child never closes the pipe fails instead of hanging.
  std::string out;
  const ULONGLONG end = GetTickCount64() + timeout_ms;
  while (GetTickCount64() < end) {
    DWORD avail = 0;
    if (!PeekNamedPipe(h, nullptr, 0, nullptr, &avail, nullptr)) break;  // every writer gone: EOF
    if (avail == 0) {
      Sleep(5);
      continue;
    }
    char buf[4096];
    DWORD got = 0;
    if (!ReadFile(h, buf, sizeof buf < avail ? sizeof buf : avail, &got, nullptr)) break;
    out.append(buf, got);
  }
  return out;
}

TempDir::TempDir() {
  wchar_t buf[MAX_PATH];
  GetTempPathW(MAX_PATH, buf);
  static std::atomic<int> counter{0};
  path = std::filesystem::path(buf) /
         (L"litebox-test-" + std::to_wstring(GetCurrentProcessId()) + L"-" + std::to_wstring(counter++));
  std::filesystem::create_directories(path);
}
TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

void write_file(const std::filesystem::path& p, const std::string& text) {
  std::ofstream f(p, std::ios::binary);
  f << text;
}

bool under_wine() { return GetProcAddress(GetModuleHandleW(L"ntdll.dll"), "wine_get_version") != nullptr; }

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '\\' || c == '"') out += '\\';
    out += c;
  }
  return out + "\"";
}

namespace {

// SystemExtendedHandleInformation (64): every open handle of the system, with its owner's process id.
struct HandleEntryEx {
  PVOID object;
  ULONG_PTR owner_pid;
  ULONG_PTR handle_value;
  ULONG granted_access;
  USHORT creator_back_trace_index;
  USHORT object_type_index;
  ULONG handle_attributes;
  ULONG reserved;
};
struct HandleInformationEx {
  ULONG_PTR count;
  ULONG_PTR reserved;
  HandleEntryEx handles[1];
};
constexpr ULONG kSystemExtendedHandleInformation = 64;
constexpr LONG kStatusInfoLengthMismatch = static_cast<LONG>(0xC0000004L);

long system_list_handle_count() {
  using QuerySystemInformation = LONG(WINAPI*)(ULONG, PVOID, ULONG, PULONG);
  const auto query = reinterpret_cast<QuerySystemInformation>(
      reinterpret_cast<void*>(GetProcAddress(GetModuleHandleW(L"ntdll.dll"), "NtQuerySystemInformation")));
  if (query == nullptr) return -1;
  std::vector<unsigned char> buf(1 << 16);
  for (int attempt = 0; attempt < 16; ++attempt) {
    ULONG needed = 0;
    const LONG status = query(kSystemExtendedHandleInformation, buf.data(), static_cast<ULONG>(buf.size()), &needed);
    if (status == kStatusInfoLengthMismatch) {
      buf.resize(buf.size() * 2);
      continue;
    }
    if (status < 0) return -1;
    const auto* info = reinterpret_cast<const HandleInformationEx*>(buf.data());
    long n = 0;
    for (ULONG_PTR i = 0; i < info->count; ++i) {
      if (info->handles[i].owner_pid == GetCurrentProcessId()) ++n;
    }
    return n;
  }
  return -1;
}

}  // namespace

long open_handle_count() {
  DWORD n = 0;
  if (GetProcessHandleCount(GetCurrentProcess(), &n) && n > 0) return static_cast<long>(n);
  return system_list_handle_count();
}

}  // namespace litebox_test
