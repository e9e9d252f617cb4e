// A container process for the tests: reports what it inherited through the C runtime, writes to a
// descriptor, exits with a code, spawns a child, sleeps or burns CPU. One mode per run:
//   probe list                 "fd:handle" per open CRT descriptor 0..63, to fd 1
//   probe check HANDLE         "valid" or "invalid": whether HANDLE (decimal) names anything here, to fd 1
//   probe write FD TEXT        _write(FD, TEXT)
//   probe exit CODE            exits with CODE
//   probe sleep MS             sleeps
//   probe spawn MS             starts "probe sleep MS" (same job: inherited), then sleeps MS
//   probe busy MS              spins for MS of wall time
//   probe cwd                  the working directory, to fd 1
//   probe env NAME             the variable's value, to fd 1
// On a terminal (the process's pseudo console, reached through CONOUT$/CONIN$ whatever its standard handles):
//   probe conout TEXT CODE     TEXT to the console, then exits with CODE (103: no console)
//   probe conout-lines N       N numbered lines to the console, the last "last-line"
//   probe tty-stdio OUT ERR    OUT to fd 1, ERR to fd 2 (101: a write failed; 104: fd 1 is not a console)
//   probe conin-cat            the console's input in text mode until EOF (^Z), then "got[<input>]" to it
//   probe consize              the console's window size, "COLUMNSxROWS", to it
#include <windows.h>

#include <fcntl.h>
#include <io.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

void out(const std::string& s) { (void)_write(1, s.data(), static_cast<unsigned>(s.size())); }

HANDLE open_console(const wchar_t* name) {
  return CreateFileW(name, GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, nullptr, OPEN_EXISTING, 0,
                     nullptr);
}

bool to_console(HANDLE con, const std::string& s) {
  DWORD n = 0;
  return WriteFile(con, s.data(), static_cast<DWORD>(s.size()), &n, nullptr) && n == s.size();
}

int console_mode(int argc, char** argv) {
  const std::string mode = argv[1];
  HANDLE con = open_console(L"CONOUT$");
  if (con == INVALID_HANDLE_VALUE) return 103;
  if (mode == "conout" && argc > 3) return to_console(con, argv[2]) ? std::atoi(argv[3]) : 101;
  if (mode == "conout-lines" && argc > 2) {
    const int n = std::atoi(argv[2]);
    for (int i = 0; i < n; ++i) {
      if (!to_console(con, "line-" + std::to_string(i) + "\r\n")) return 101;
    }
    return to_console(con, "last-line\r\n") ? 0 : 101;
  }
  if (mode == "consize") {
    CONSOLE_SCREEN_BUFFER_INFO info{};
    if (!GetConsoleScreenBufferInfo(con, &info)) return 105;
    const int columns = info.srWindow.Right - info.srWindow.Left + 1;
    const int rows = info.srWindow.Bottom - info.srWindow.Top + 1;
    return to_console(con, std::to_string(columns) + "x" + std::to_string(rows) + "\r\n") ? 0 : 101;
  }
  if (mode == "conin-cat") {
    HANDLE in = open_console(L"CONIN$");
    if (in == INVALID_HANDLE_VALUE) return 103;
    const int fd = _open_osfhandle(reinterpret_cast<intptr_t>(in), _O_RDONLY | _O_TEXT);
    std::string got;
    char buf[256];
    int n = 0;
    while ((n = _read(fd, buf, sizeof buf)) > 0) got.append(buf, static_cast<std::size_t>(n));
    std::string shown;
    for (char c : got) shown += (c == '\n') ? std::string("\\n") : std::string(1, c);
    return to_console(con, "got[" + shown + "]\r\n") ? 0 : 101;
  }
  return 100;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return 100;
  const std::string mode = argv[1];
  if (mode == "list") {
    for (int fd = 0; fd < 64; ++fd) {
      const intptr_t h = _get_osfhandle(fd);
      DWORD flags = 0;
      if (h == -1 || h == -2 || !GetHandleInformation(reinterpret_cast<HANDLE>(h), &flags)) continue;
      out(std::to_string(fd) + ":" + std::to_string(static_cast<unsigned long long>(h)) + "\n");
    }
    return 0;
  }
  if (mode == "check" && argc > 2) {
    DWORD flags = 0;
    const auto h = reinterpret_cast<HANDLE>(static_cast<uintptr_t>(std::strtoull(argv[2], nullptr, 10)));
    out(GetHandleInformation(h, &flags) ? "valid" : "invalid");
    return 0;
  }
  if (mode == "write" && argc > 3) {
    const int n = _write(std::atoi(argv[2]), argv[3], static_cast<unsigned>(std::strlen(argv[3])));
    return n < 0 ? 101 : 0;
  }
  if (mode == "exit" && argc > 2) return std::atoi(argv[2]);
  if (mode == "sleep" && argc > 2) {
    Sleep(static_cast<DWORD>(std::atoi(argv[2])));
    return 0;
  }
  if (mode == "spawn" && argc > 2) {
    wchar_t self[MAX_PATH];
    GetModuleFileNameW(nullptr, self, MAX_PATH);
    std::wstring cmd = L"\"" + std::wstring(self) + L"\" sleep ";
    for (const char* p = argv[2]; *p != 0; ++p) cmd += static_cast<wchar_t>(*p);
    STARTUPINFOW si{};
    si.cb = sizeof si;
    PROCESS_INFORMATION pi{};
    if (!CreateProcessW(self, cmd.data(), nullptr, nullptr, FALSE, DETACHED_PROCESS, nullptr, nullptr, &si, &pi)) {
      return 102;
    }
    CloseHandle(pi.hThread);
    CloseHandle(pi.hProcess);
    Sleep(static_cast<DWORD>(std::atoi(argv[2])));
    return 0;
  }
  if (mode == "busy" && argc > 2) {
    const ULONGLONG end = GetTickCount64() + static_cast<ULONGLONG>(std::atoi(argv[2]));
    volatile unsigned long long x = 0;
    while (GetTickCount64() < end) {
      for (int i = 0; i < 100000; ++i) x = x + static_cast<unsigned long long>(i);
    }
    return 0;
  }
  if (mode == "cwd") {
    wchar_t buf[MAX_PATH];
    const DWORD n = GetCurrentDirectoryW(MAX_PATH, buf);
    char utf8[4 * MAX_PATH];
    const int len = WideCharToMultiByte(CP_UTF8, 0, buf, static_cast<int>(n), utf8, sizeof utf8, nullptr, nullptr);
    out(std::string(utf8, static_cast<std::size_t>(len > 0 ? len : 0)));
    return 0;
  }
  if (mode == "tty-stdio" && argc > 3) {
    DWORD console = 0;
    if (_write(1, argv[2], static_cast<unsigned>(std::strlen(argv[2]))) < 0) return 101;
    if (_write(2, argv[3], static_cast<unsigned>(std::strlen(argv[3]))) < 0) return 101;
    return GetConsoleMode(reinterpret_cast<HANDLE>(_get_osfhandle(1)), &console) ? 0 : 104;
  }
  if (mode.rfind("con", 0) == 0) return console_mode(argc, argv);
  if (mode == "env" && argc > 2) {
    const char* v = std::getenv(argv[2]);
    out(v != nullptr ? v : "<unset>");
    return 0;
  }
  return 100;
}
