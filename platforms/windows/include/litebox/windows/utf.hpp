// UTF-8 (what the OCI spec and containerd carry) to UTF-16 (what the W functions take) and back.
#pragma once

#include <string>
#include <string_view>

namespace litebox::windows_host {

// Invalid sequences become U+FFFD: a spec's bytes never make these fail.
std::wstring widen(std::string_view utf8);
std::string narrow(std::wstring_view utf16);

}  // namespace litebox::windows_host
