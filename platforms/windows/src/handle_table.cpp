#include <windows.h>

#include "litebox/windows/handle_table.hpp"

#include <cerrno>

namespace litebox::windows_host {
namespace {

HANDLE to_handle(RawHandle raw) { return reinterpret_cast<HANDLE>(raw); }

// fdcore speaks Linux's errno numbers; the platform interface speaks the host C library's (mingw's ENOSYS
// is 40, Linux's 38), so every fdcore error passes through here.
platform::Error from_fdcore(fdcore::Errno e, const std::string& what) {
  int code = EIO;
  switch (e) {
    case fdcore::Errno::perm: code = EPERM; break;
    case fdcore::Errno::noent: code = ENOENT; break;
    case fdcore::Errno::intr: code = EINTR; break;
    case fdcore::Errno::badf: code = EBADF; break;
    case fdcore::Errno::again: code = EAGAIN; break;
    case fdcore::Errno::nomem: code = ENOMEM; break;
    case fdcore::Errno::acces: code = EACCES; break;
    case fdcore::Errno::busy: code = EBUSY; break;
    case fdcore::Errno::exist: code = EEXIST; break;
    case fdcore::Errno::inval: code = EINVAL; break;
    case fdcore::Errno::nfile: code = ENFILE; break;
    case fdcore::Errno::mfile: code = EMFILE; break;
    case fdcore::Errno::nosys: code = ENOSYS; break;
    case fdcore::Errno::opnotsupp: code = EOPNOTSUPP; break;
  }
  return platform::Error::from_errno(what, code);
}

}  // namespace

HandleTable::HandleTable()
    : files_(fdcore::ProcessFiles<RawHandle>::create(
          fdcore::RawDescriptorStore<RawHandle>::create([](RawHandle raw) { CloseHandle(to_handle(raw)); }))) {}

platform::Expected<int> HandleTable::install(RawHandle handle, int fd, bool cloexec, std::uint32_t open_flags,
                                             std::string target) {
  fdcore::OpenFileSpec spec;
  spec.open_flags = open_flags | (cloexec ? fdcore::abi::o_cloexec : 0u);
  spec.target = std::move(target);
  auto opened = files_.open(handle, std::move(spec));
  if (!opened) {
    CloseHandle(to_handle(handle));
    return from_fdcore(opened.error(), "install handle");
  }
  const int at = opened.value();
  if (fd < 0 || at == fd) return at;
  // open() took the lowest free number; move it where the caller wants it.
  auto moved = files_.dup3(static_cast<std::uint32_t>(at), static_cast<std::uint32_t>(fd),
                           cloexec ? static_cast<std::int32_t>(fdcore::abi::o_cloexec) : 0);
  (void)files_.close(static_cast<std::uint32_t>(at));
  if (!moved) return from_fdcore(moved.error(), "install handle at " + std::to_string(fd));
  return fd;
}

platform::Status HandleTable::close(std::uint32_t fd) {
  if (auto r = files_.close(fd); !r) return from_fdcore(r.error(), "close " + std::to_string(fd));
  return {};
}

platform::Status HandleTable::set_cloexec(std::uint32_t fd, bool cloexec) {
  if (auto r = files_.fcntl(fd, fdcore::abi::f_setfd, cloexec ? fdcore::abi::fd_cloexec : 0); !r) {
    return from_fdcore(r.error(), "fcntl F_SETFD " + std::to_string(fd));
  }
  return {};
}

platform::Expected<RawHandle> HandleTable::raw(std::uint32_t fd) const {
  auto r = files_.raw(fd);
  if (!r) return from_fdcore(r.error(), "descriptor " + std::to_string(fd));
  return r.value();
}

std::vector<TableEntry> HandleTable::entries() const {
  std::vector<TableEntry> out;
  for (const auto& info : files_.list()) {
    if (info.kind != fdcore::DescriptorKind::raw || info.raw == fdcore::no_raw<RawHandle>) continue;
    out.push_back(TableEntry{info.fd, info.raw, info.cloexec, (info.status_flags & fdcore::abi::o_append) != 0});
  }
  return out;
}

void HandleTable::clear() {
  for (const auto& info : files_.list()) (void)files_.close(info.fd);
}

platform::Expected<int> HandleTable::create_eventfd() {
  return platform::Error{ENOSYS, "eventfd: not supported on Windows (as in Microsoft's LiteBox)"};
}

platform::Expected<int> HandleTable::create_epoll() {
  return platform::Error{EINVAL, "epoll_create: not supported on Windows (as in Microsoft's LiteBox)"};
}

}  // namespace litebox::windows_host
