#include "cgroup_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <spdlog/spdlog.h>

#include "litebox/linux/cgroups.hpp"

namespace litebox::linux_host::cgroup_files {

bool exists(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0;
}

Expected<std::string> read(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error::from_errno("read " + path);
  std::string content;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int saved = errno;
      ::close(fd);
      return Error::from_errno("read " + path, saved);
    }
    if (n == 0) break;
    content.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return content;
}

Status write(const std::string& path, std::string_view value) {
  spdlog::debug("cgroups: write {}: {}", path, value);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return Error::from_errno("write " + path);
  ssize_t n;
  do {
    n = ::write(fd, value.data(), value.size());
  } while (n < 0 && errno == EINTR);
  const int saved = errno;
  ::close(fd);
  if (n < 0) return Error::from_errno("write " + path + " (\"" + std::string(value) + "\")", saved);
  return {};
}

Expected<std::string> read_line(const std::string& path) {
  auto content = read(path);
  if (!content) return std::move(content).error();
  std::string line = std::move(content).value();
  if (const auto end = line.find('\n'); end != std::string::npos) line.resize(end);
  return line;
}

std::optional<std::uint64_t> parse_uint(std::string_view text) {
  text = trim(text);
  if (text == "max") return kCgroupUnlimited;
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

Expected<std::uint64_t> read_uint(const std::string& path) {
  auto line = read_line(path);
  if (!line) return std::move(line).error();
  const auto value = parse_uint(line.value());
  if (!value) return Error{EINVAL, "read " + path + ": not a number: \"" + line.value() + "\""};
  // v1 reports "no limit" as the largest page-aligned signed 64-bit value.
  if (*value >= 0x7FFFFFFFFFFFF000ULL) return kCgroupUnlimited;
  return *value;
}

Expected<std::map<std::string, std::uint64_t>> read_keyed(const std::string& path) {
  auto content = read(path);
  if (!content) return std::move(content).error();
  std::map<std::string, std::uint64_t> values;
  for (const auto& line : split(content.value(), '\n')) {
    const auto space = line.find(' ');
    if (space == std::string::npos) continue;
    if (const auto value = parse_uint(std::string_view(line).substr(space + 1))) values[line.substr(0, space)] = *value;
  }
  return values;
}

std::string join(const std::string& directory, std::string_view file) {
  std::string path = directory;
  if (path.empty() || path.back() != '/') path += '/';
  path += file;
  return path;
}

std::vector<std::string> split(std::string_view text, char separator) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto end = text.find(separator, start);
    const auto part = text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (!part.empty()) parts.emplace_back(part);
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return parts;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\n' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\n' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

Expected<std::string> make_directories(const std::string& path) {
  for (int attempt = 0;; ++attempt) {
    std::string created_from;
    std::string prefix;
    bool raced = false;
    for (const auto& component : split(path, '/')) {
      prefix += '/';
      prefix += component;
      if (::mkdir(prefix.c_str(), 0755) == 0) {
        spdlog::debug("cgroups: mkdir {}", prefix);
        if (created_from.empty()) created_from = prefix;
        continue;
      }
      if (errno == EEXIST) continue;
      if (errno == ENOENT && attempt < 5) {  // a concurrent destroy removed a parent we saw
        raced = true;
        break;
      }
      return Error::from_errno("mkdir " + prefix);
    }
    if (!raced) return created_from;
  }
}

}  // namespace litebox::linux_host::cgroup_files
