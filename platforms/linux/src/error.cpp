#include "litebox/linux/error.hpp"

#include <cerrno>
#include <cstring>

namespace litebox::linux_host {

Error Error::from_errno(const std::string& what) { return from_errno(what, errno); }

Error Error::from_errno(const std::string& what, int code) {
  return Error{code, what + ": " + std::strerror(code)};
}

}  // namespace litebox::linux_host
