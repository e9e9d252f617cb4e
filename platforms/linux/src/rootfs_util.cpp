#include "rootfs_util.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace litebox::linux_host::rootfs_detail {

Error sys_error(const std::string& what, int code) {
  const char* description = ::strerrordesc_np(code);
  return Error{code, what + ": " + (description != nullptr ? description : "error " + std::to_string(code))};
}

Status do_mount(const std::string& source, const std::string& target, const char* fstype, unsigned long flags,
                const std::string& data, std::string_view destination, std::string_view rootfs) {
  if (::mount(source.empty() ? nullptr : source.c_str(), target.c_str(), fstype, flags,
              data.empty() ? nullptr : data.c_str()) == 0) {
    return {};
  }
  const int code = errno;
  std::string what = "mount ";
  what += source.empty() ? std::string("(flags only)") : source;
  what += " to ";
  what += destination;
  if (!rootfs.empty()) {
    what += " (in ";
    what += rootfs;
    what += ")";
  }
  return sys_error(what, code);
}

std::string read_small_file(const char* path) {
  std::string content;
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return content;
  char buffer[8192];
  for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) != 0;) {
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    content.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return content;
}

namespace {

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape_octal(std::string_view text) {
  std::string out;
  const auto digit = [&](std::size_t k) { return text[k] >= '0' && text[k] <= '7'; };
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 3 < text.size() && digit(i + 1) && digit(i + 2) && digit(i + 3)) {
      out.push_back(static_cast<char>((text[i + 1] - '0') * 64 + (text[i + 2] - '0') * 8 + (text[i + 3] - '0')));
      i += 3;
      continue;
    }
    out.push_back(text[i]);
  }
  return out;
}

std::vector<std::string_view> split_spaces(std::string_view line) {
  std::vector<std::string_view> fields;
  std::size_t start = 0;
  while (start < line.size()) {
    const std::size_t end = line.find(' ', start);
    const std::size_t stop = end == std::string_view::npos ? line.size() : end;
    if (stop > start) fields.push_back(line.substr(start, stop - start));
    start = stop + 1;
  }
  return fields;
}

}  // namespace

std::vector<MountInfoEntry> read_mountinfo() {
  std::vector<MountInfoEntry> entries;
  const std::string text = read_small_file("/proc/self/mountinfo");
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const auto fields = split_spaces(std::string_view(text).substr(start, end - start));
    start = end + 1;
    // id parent major:minor root mount-point options [optional...] - fstype source super-options
    std::size_t separator = 6;
    while (separator < fields.size() && fields[separator] != "-") ++separator;
    if (fields.size() < 7 || separator + 1 >= fields.size()) continue;
    MountInfoEntry entry;
    entry.root = unescape_octal(fields[3]);
    entry.mount_point = unescape_octal(fields[4]);
    for (std::size_t i = 6; i < separator; ++i) {
      if (!entry.optional_fields.empty()) entry.optional_fields += ' ';
      entry.optional_fields += fields[i];
    }
    entry.fstype = std::string(fields[separator + 1]);
    entries.push_back(std::move(entry));
  }
  return entries;
}

}  // namespace litebox::linux_host::rootfs_detail
