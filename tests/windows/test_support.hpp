// What the Windows platform tests share: the probe program's path as wine sees it, pipes, reading output.
#pragma once

#include <windows.h>

#include <filesystem>
#include <string>

namespace litebox_test {

// probe.exe (helpers/probe.cpp), as a Windows path: the build gives a Unix path, which wine sees under Z:.
std::filesystem::path probe_exe();
std::wstring quoted_probe();  // "\"<probe_exe>\""

struct Pipe {
  HANDLE read = nullptr;
  HANDLE write = nullptr;
  Pipe();
  ~Pipe();
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  // Gives the write end away (to a table); the Pipe keeps only the read end.
  HANDLE take_write();
  HANDLE take_read();
};

// Everything until EOF (every write end closed) or `timeout_ms` without data.
std::string read_all(HANDLE h, DWORD timeout_ms = 10000);

// A fresh folder under the temp dir, removed by the destructor.
struct TempDir {
  std::filesystem::path path;
  TempDir();
  ~TempDir();
};

void write_file(const std::filesystem::path& p, const std::string& text);

}  // namespace litebox_test
