#include "litebox/linux/error.hpp"

#include <cerrno>
#include <cstring>

namespace litebox::linux_host {

Error Error::from_errno(const std::string& what) { return from_errno(what, errno); }

Error Error::from_errno(const std::string& what, int code) {
  // strerrordesc_np, not strerror: it takes no locale lock, so it is safe in a child after fork.
  const char* text = ::strerrordesc_np(code);
  return Error{code, what + ": " + (text != nullptr ? text : "errno " + std::to_string(code))};
}

}  // namespace litebox::linux_host
