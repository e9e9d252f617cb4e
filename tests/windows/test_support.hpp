// What the Windows platform tests share: the probe program's path as wine sees it, pipes, reading output.
#pragma once

#include <windows.h>

#include <filesystem>
#include <string>

namespace litebox_test {

// probe.exe (helpers/probe.cpp), as a Windows path: the build gives a Unix path, which wine sees under Z:.
std::filesystem::path probe_exe();
// A path the build gave (a Unix path, which wine sees under Z:) as a Windows path; others unchanged.
std::filesystem::path wine_path(std::string path);
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

// Whether the tests run under wine (ntdll exports wine_get_version): what wine lacks is skipped, not faked.
bool under_wine();

// `s` as a JSON string literal (quotes and backslashes escaped).
std::string json_string(const std::string& s);

// How many handles this process has open: GetProcessHandleCount, or where that reports none (wine 8's is a
// stub answering 0) the system handle list's entries for this process. -1 when neither answers.
long open_handle_count();

}  // namespace litebox_test
