#include "small_file.hpp"

#ifndef _WIN32
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

#include <cerrno>
#include <fstream>
#include <system_error>

namespace litebox::shim {

#ifdef _WIN32
// No FIFOs to be wary of on Windows: a regular file checked, then read with a bound.
platform::Expected<std::string> read_small_file(const std::filesystem::path& path, std::size_t max_bytes) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return platform::Error{ec ? ENOENT : EINVAL, path.string() + (ec ? ": " + ec.message() : ": not a regular file")};
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return platform::Error{EACCES, "open " + path.string() + ": cannot be read"};
  std::string data;
  char buffer[4096];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    data.append(buffer, static_cast<std::size_t>(in.gcount()));
    if (data.size() > max_bytes) {
      return platform::Error{EFBIG, path.string() + ": larger than " + std::to_string(max_bytes) + " bytes"};
    }
  }
  return data;
}
#else

platform::Expected<std::string> read_small_file(const std::filesystem::path& path, std::size_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return platform::Error::from_errno("open " + path.string());
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    const int code = errno;
    ::close(fd);
    return platform::Error{code != 0 ? code : EINVAL, path.string() + ": not a regular file"};
  }
  std::string data;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      auto error = platform::Error::from_errno("read " + path.string());
      ::close(fd);
      return error;
    }
    if (n == 0) break;
    data.append(buffer, static_cast<std::size_t>(n));
    if (data.size() > max_bytes) {
      ::close(fd);
      return platform::Error{EFBIG, path.string() + ": larger than " + std::to_string(max_bytes) + " bytes"};
    }
  }
  ::close(fd);
  return data;
}
#endif

}  // namespace litebox::shim
