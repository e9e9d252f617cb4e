// Error messages built in a forked child of a possibly multi-threaded process: strerror() may take gettext's
// lock (held by another thread at fork time, it would never be released), strerrordesc_np() takes none.
#pragma once

#include <cstring>
#include <string>

#include "litebox/linux/error.hpp"

namespace litebox::linux_host::detail {

// strerror(code)'s English text without locale or locks: "Operation not permitted".
inline std::string errno_text(int code) {
  const char* text = strerrordesc_np(code);
  return text != nullptr ? std::string(text) : "errno " + std::to_string(code);
}

// The text Go prints for an errno ("operation not permitted"), which runc's messages use.
inline std::string go_errno_text(int code) {
  std::string text = errno_text(code);
  if (!text.empty() && text[0] >= 'A' && text[0] <= 'Z') {
    text[0] = static_cast<char>(text[0] - 'A' + 'a');
  }
  return text;
}

// `what: <errno text>` with the errno as the code; safe in the child.
inline Error child_error(const std::string& what, int code) { return Error{code, what + ": " + errno_text(code)}; }

}  // namespace litebox::linux_host::detail
