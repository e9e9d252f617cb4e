// A container process's guest descriptor table: an fdcore table whose raw values are HANDLEs. It is what the
// process is launched with (process_launch.hpp realizes it: guest fd N in the child is the handle at N), and
// the shim's copy of every handle in it; the store's release hook closes a handle once no number names it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fdcore/process_files.hpp"
#include "litebox/platform/error.hpp"

namespace litebox::windows_host {

using RawHandle = std::uintptr_t;  // a HANDLE's bits; the interface headers stay free of <windows.h>

// One entry of the table as the launch needs it.
struct TableEntry {
  std::uint32_t fd = 0;
  RawHandle handle = 0;
  bool cloexec = false;
  bool append = false;  // O_APPEND on its open file description: the CRT's FAPPEND
};

class HandleTable {
 public:
  // An empty table over a store of its own whose release hook is CloseHandle.
  HandleTable();

  // Takes ownership of `handle` (closed on failure too, so a caller never leaks it) and puts it at `fd`
  // (dup2 semantics over an open number), or at the lowest free number when fd < 0. Returns the number.
  platform::Expected<int> install(RawHandle handle, int fd, bool cloexec, std::uint32_t open_flags,
                                  std::string target);
  platform::Status close(std::uint32_t fd);
  platform::Status set_cloexec(std::uint32_t fd, bool cloexec);
  platform::Expected<RawHandle> raw(std::uint32_t fd) const;
  // Every open number, ascending.
  std::vector<TableEntry> entries() const;
  // Closes every number (each handle is closed once its last number goes).
  void clear();

  // The Windows port of LiteBox has neither: eventfd creation is ENOSYS, epoll creation EINVAL (DESIGN.md,
  // "The model"). They are here so the refusal lives with the table, not in each caller.
  static platform::Expected<int> create_eventfd();
  static platform::Expected<int> create_epoll();

  fdcore::ProcessFiles<RawHandle>& files() noexcept { return files_; }

 private:
  fdcore::ProcessFiles<RawHandle> files_;
};

}  // namespace litebox::windows_host
