#include "small_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace litebox::shim {

linux_host::Expected<std::string> read_small_file(const std::filesystem::path& path, std::size_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return linux_host::Error::from_errno("open " + path.string());
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    const int code = errno;
    ::close(fd);
    return linux_host::Error{code != 0 ? code : EINVAL, path.string() + ": not a regular file"};
  }
  std::string data;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      auto error = linux_host::Error::from_errno("read " + path.string());
      ::close(fd);
      return error;
    }
    if (n == 0) break;
    data.append(buffer, static_cast<std::size_t>(n));
    if (data.size() > max_bytes) {
      ::close(fd);
      return linux_host::Error{EFBIG, path.string() + ": larger than " + std::to_string(max_bytes) + " bytes"};
    }
  }
  ::close(fd);
  return data;
}

}  // namespace litebox::shim
