// Realizing a HandleTable at process creation: the child inherits exactly the table's handles that are not
// FD_CLOEXEC (PROC_THREAD_ATTRIBUTE_HANDLE_LIST), and the C runtime's inherited-descriptor block
// (lpReserved2) makes guest fd N in the child the handle the table holds at N. fd 0-2 are also the child's
// standard handles. The process starts suspended and is put in the job before any of its code runs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "litebox/platform/error.hpp"
#include "litebox/windows/handle_table.hpp"

namespace litebox::windows_host {

struct LaunchRequest {
  std::wstring application;   // the program's path; "" lets CreateProcessW take it from command_line
  std::wstring command_line;
  std::wstring environment;   // an environment_block(); "" for the shim's own
  std::wstring cwd;           // "" for the shim's
  const HandleTable* table = nullptr;  // null: nothing is inherited
  RawHandle job = 0;          // a job HANDLE to assign the process to before it runs; 0 for none
  RawHandle pseudo_console = 0;  // an HPCON for PROC_THREAD_ATTRIBUTE_PSEUDOCONSOLE; 0 for none
  bool suspended = true;      // leave the main thread suspended (Container::start resumes it)
};

struct LaunchedProcess {
  RawHandle process = 0;  // owned by the caller
  RawHandle thread = 0;   // owned by the caller; suspended when the request said so
  std::uint32_t pid = 0;
};

platform::Expected<LaunchedProcess> launch_process(const LaunchRequest& request);

// The lpReserved2 block for `entries` (the CRT's format: a 4-byte count N, N flag bytes — FOPEN, FPIPE,
// FDEV, FAPPEND — then N HANDLE values, INVALID_HANDLE_VALUE for a hole). Only the entries that are
// inherited belong in it. EMFILE when the block would not fit cbReserved2 (a WORD).
platform::Expected<std::vector<unsigned char>> crt_descriptor_block(const std::vector<TableEntry>& inherited);

}  // namespace litebox::windows_host
