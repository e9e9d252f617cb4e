#include "test_support.hpp"

#include <atomic>
#include <fstream>

namespace litebox_test {

std::filesystem::path probe_exe() {
  std::string p = LITEBOX_PROBE_EXE;
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

}  // namespace litebox_test
