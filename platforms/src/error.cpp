#include "litebox/platform/error.hpp"

#include <cerrno>
#include <cstring>

namespace litebox::platform {

Error Error::from_errno(const std::string& what) { return from_errno(what, errno); }

Error Error::from_errno(const std::string& what, int code) {
#ifdef _WIN32
  const char* text = std::strerror(code);
#else
  // strerrordesc_np, not strerror: it takes no locale lock, so it is safe in a child after fork.
  const char* text = ::strerrordesc_np(code);
#endif
  return Error{code, what + ": " + (text != nullptr ? text : "errno " + std::to_string(code))};
}

}  // namespace litebox::platform
