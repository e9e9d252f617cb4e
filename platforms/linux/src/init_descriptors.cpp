#include "litebox/linux/init_descriptors.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <climits>

namespace litebox::linux_host {
namespace {

// What /proc/self/fd/N points to, for introspection ("/dev/pts/0", "pipe:[1234]").
std::string describe_fd(int fd) {
  char buf[PATH_MAX];
  const std::string link = "/proc/self/fd/" + std::to_string(fd);
  const ssize_t n = ::readlink(link.c_str(), buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

}  // namespace

Expected<InitDescriptors> InitDescriptors::build(const std::vector<int>& stdio, const std::vector<int>& preserved) {
  auto store = fdcore::RawDescriptorStore<int>::create([](int raw) { ::close(raw); });
  auto files = fdcore::ProcessFiles<int>::create(store);
  std::vector<int> sources = stdio;
  sources.insert(sources.end(), preserved.begin(), preserved.end());
  if (!files.set_nofile(std::max<std::uint64_t>(sources.size(), fdcore::ProcessFiles<int>::kDefaultNofile))) {
    return Error{EMFILE, "too many descriptors to pass to the container"};
  }
  for (std::size_t guest = 0; guest < sources.size(); ++guest) {
    const int source = sources[guest];
    const int flags = ::fcntl(source, F_GETFL);
    if (flags < 0) return Error::from_errno("descriptor " + std::to_string(source) + " for container fd " +
                                            std::to_string(guest));
    const int copy = ::fcntl(source, F_DUPFD_CLOEXEC, 3);
    if (copy < 0) return Error::from_errno("dup descriptor " + std::to_string(source));
    struct stat st{};
    ::fstat(source, &st);
    fdcore::OpenFileSpec spec;
    spec.open_flags = static_cast<std::uint32_t>(flags);
    // What F_SETFL may change on it, as the kernel decides by the object's kind.
    spec.direct_io = S_ISFIFO(st.st_mode);
    spec.fasync = S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) || ::isatty(source) == 1;
    spec.target = describe_fd(source);
    auto fd = files.open(copy, std::move(spec));
    if (!fd || fd.value() != static_cast<int>(guest)) {
      ::close(copy);
      return Error{EMFILE, "cannot place container fd " + std::to_string(guest) + " in the descriptor table"};
    }
  }
  return InitDescriptors(std::move(files));
}

std::vector<DescriptorPlacement> InitDescriptors::placements() const {
  std::vector<DescriptorPlacement> out;
  for (const auto& d : files_.list()) out.push_back({static_cast<int>(d.fd), d.raw, d.cloexec});
  return out;
}

Status realize_descriptors(const std::vector<DescriptorPlacement>& placements, std::vector<int*> keep) {
  int table_end = 0;
  for (const auto& p : placements) table_end = std::max(table_end, p.guest + 1);
  // Everything is first moved above the table and the kept descriptors' final places, so that placing one
  // never overwrites another still to be placed.
  const int base = table_end + static_cast<int>(keep.size());
  std::vector<int> moved_sources;
  moved_sources.reserve(placements.size());
  for (const auto& p : placements) {
    const int moved = ::fcntl(p.host, F_DUPFD_CLOEXEC, base);
    if (moved < 0) return Error::from_errno("move descriptor for container fd " + std::to_string(p.guest));
    moved_sources.push_back(moved);
  }
  std::vector<int> moved_keep;
  for (int* fd : keep) {
    const int moved = *fd < 0 ? -1 : ::fcntl(*fd, F_DUPFD_CLOEXEC, base);
    if (*fd >= 0 && moved < 0) return Error::from_errno("move runtime descriptor");
    moved_keep.push_back(moved);
  }
  for (std::size_t i = 0; i < placements.size(); ++i) {
    const int flags = placements[i].cloexec ? O_CLOEXEC : 0;
    if (::dup3(moved_sources[i], placements[i].guest, flags) < 0) {
      return Error::from_errno("place container fd " + std::to_string(placements[i].guest));
    }
  }
  // The runtime's own descriptors (sync channel, exec FIFO) right after the table, close-on-exec: they live
  // until execve and no longer.
  for (std::size_t i = 0; i < keep.size(); ++i) {
    if (moved_keep[i] < 0) continue;
    const int place = table_end + static_cast<int>(i);
    if (::dup3(moved_keep[i], place, O_CLOEXEC) < 0) return Error::from_errno("place runtime descriptor");
    *keep[i] = place;
  }
  // Everything else goes now, not at execve: a parked init must not hold its creator's pipes open.
  if (::syscall(SYS_close_range, static_cast<unsigned>(base), ~0U, 0U) != 0) return Error::from_errno("close_range");
  // Numbers below the table's end that no placement names (a hole), and unused keep places, must not
  // survive either.
  for (int fd = 0; fd < base; ++fd) {
    const bool placed = std::any_of(placements.begin(), placements.end(),
                                    [fd](const DescriptorPlacement& p) { return p.guest == fd; });
    const bool kept = std::any_of(keep.begin(), keep.end(), [fd](const int* k) { return *k == fd; });
    if (!placed && !kept) ::close(fd);
  }
  return {};
}

}  // namespace litebox::linux_host
