#include "fdcore/errno.hpp"
#include "fdcore/open_file.hpp"

namespace fdcore {

std::string_view errno_name(Errno e) noexcept {
  switch (e) {
    case Errno::perm: return "EPERM";
    case Errno::noent: return "ENOENT";
    case Errno::intr: return "EINTR";
    case Errno::badf: return "EBADF";
    case Errno::again: return "EAGAIN";
    case Errno::nomem: return "ENOMEM";
    case Errno::acces: return "EACCES";
    case Errno::busy: return "EBUSY";
    case Errno::exist: return "EEXIST";
    case Errno::inval: return "EINVAL";
    case Errno::nfile: return "ENFILE";
    case Errno::mfile: return "EMFILE";
    case Errno::nosys: return "ENOSYS";
    case Errno::opnotsupp: return "EOPNOTSUPP";
  }
  return "E?";
}

std::string_view kind_name(DescriptorKind kind) noexcept {
  switch (kind) {
    case DescriptorKind::raw: return "raw";
    case DescriptorKind::eventfd: return "eventfd";
    case DescriptorKind::epoll: return "epoll";
    case DescriptorKind::unix_socket: return "unix_socket";
  }
  return "unknown";
}

}  // namespace fdcore
