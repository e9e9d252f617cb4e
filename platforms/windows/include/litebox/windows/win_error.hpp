// Win32 errors as the errno-style codes of the platform interface, in one place, so every caller of
// GetLastError() maps ERROR_FILE_NOT_FOUND to ENOENT the same way.
#pragma once

#include <string>

#include "litebox/platform/error.hpp"

namespace litebox::windows_host {

// The errno a Linux caller would expect for a Win32 error code (EIO for one without a closer match).
int errno_from_win32(unsigned long win32_error) noexcept;

// "what: <the system's text> (Win32 error N)", with the mapped errno as its code.
platform::Error win32_error(const std::string& what, unsigned long win32_error);
// The same for GetLastError().
platform::Error last_error(const std::string& what);

}  // namespace litebox::windows_host
