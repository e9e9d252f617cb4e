// A container process's stdio as containerd names it on Windows, put into its HandleTable at 0, 1 and 2.
//
// containerd (its client side: ctr, CRI) creates named pipe SERVERS (\\.\pipe\...) and waits for the shim to
// connect; the shim connects as a client (stdin: GENERIC_READ, stdout/stderr: GENERIC_WRITE) and the child
// inherits that handle itself, so no copy thread sits between the container and the client. "" is NUL.
// file:// URIs and plain paths are files: stdin is read, stdout/stderr are opened for append (created when
// missing). binary:// (a logging binary) is ENOSYS for now.
//
// CloseIO{stdin} semantics: the shim closes ITS copy of the stdin handle (table fd 0). The child holds its own
// inherited handle to the client's pipe, so the child reads EOF when the client closes the server end — the
// shim cannot close the child's handle for it. That is what containerd's clients do after CloseIO anyway.
//
// With a terminal the child gets a pseudo console instead (pseudo_console.hpp) and the shim copies between the
// console and these paths itself: open_for_copying() opens them for that.
#pragma once

#include <string>

#include "litebox/platform/error.hpp"
#include "litebox/platform/host.hpp"
#include "litebox/windows/handle_table.hpp"

namespace litebox::windows_host {

// Opens the three and installs them at 0, 1, 2 (not FD_CLOEXEC). On failure the table may hold some of them;
// the caller drops the table.
platform::Status open_stdio(const platform::StdioPaths& stdio, HandleTable& table);

enum class StdioStream { in, out, err };

// One of containerd's stdio paths opened by the shim for itself (never inherited): the same paths and errors as
// open_stdio(), but a named pipe is opened overlapped so that a copier blocked on it can be stopped.
struct ShimStdioHandle {
  RawHandle handle = 0;  // owned by the caller (CloseHandle)
  bool overlapped = false;  // a named pipe, opened FILE_FLAG_OVERLAPPED; a file or NUL is synchronous
};
platform::Expected<ShimStdioHandle> open_for_copying(const std::string& path, StdioStream stream);

}  // namespace litebox::windows_host
