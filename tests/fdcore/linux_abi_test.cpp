// fdcore spells out Linux's numbers so its interface needs no OS header; here they meet the real headers.
// Compile-time checks only: this file fails to build when a number is wrong.
#include "fdcore/linux_abi.hpp"

#include <fcntl.h>
#include <linux/close_range.h>

#include <cerrno>

#include "fdcore/errno.hpp"

namespace fdcore {
namespace {

static_assert(abi::o_rdonly == O_RDONLY && abi::o_wronly == O_WRONLY && abi::o_rdwr == O_RDWR);
static_assert(abi::o_accmode == O_ACCMODE);
static_assert(abi::o_creat == O_CREAT && abi::o_excl == O_EXCL && abi::o_noctty == O_NOCTTY);
static_assert(abi::o_trunc == O_TRUNC && abi::o_append == O_APPEND && abi::o_nonblock == O_NONBLOCK);
static_assert(abi::o_dsync == O_DSYNC && abi::o_async == O_ASYNC && abi::o_direct == O_DIRECT);
static_assert(abi::o_largefile == 0100000);  // glibc's O_LARGEFILE is 0 on 64-bit; the kernel's bit is this
static_assert(abi::o_directory == O_DIRECTORY && abi::o_nofollow == O_NOFOLLOW && abi::o_noatime == O_NOATIME);
static_assert(abi::o_cloexec == O_CLOEXEC && abi::o_sync == O_SYNC && abi::o_path == O_PATH);
static_assert(abi::o_tmpfile == O_TMPFILE);
static_assert(abi::f_dupfd == F_DUPFD && abi::f_getfd == F_GETFD && abi::f_setfd == F_SETFD);
static_assert(abi::f_getfl == F_GETFL && abi::f_setfl == F_SETFL && abi::f_dupfd_cloexec == F_DUPFD_CLOEXEC);
static_assert(abi::fd_cloexec == FD_CLOEXEC);
static_assert(abi::close_range_unshare == CLOSE_RANGE_UNSHARE && abi::close_range_cloexec == CLOSE_RANGE_CLOEXEC);

static_assert(static_cast<int>(Errno::perm) == EPERM && static_cast<int>(Errno::noent) == ENOENT);
static_assert(static_cast<int>(Errno::intr) == EINTR && static_cast<int>(Errno::badf) == EBADF);
static_assert(static_cast<int>(Errno::again) == EAGAIN && static_cast<int>(Errno::nomem) == ENOMEM);
static_assert(static_cast<int>(Errno::acces) == EACCES && static_cast<int>(Errno::busy) == EBUSY);
static_assert(static_cast<int>(Errno::exist) == EEXIST && static_cast<int>(Errno::inval) == EINVAL);
static_assert(static_cast<int>(Errno::nfile) == ENFILE && static_cast<int>(Errno::mfile) == EMFILE);
static_assert(static_cast<int>(Errno::nosys) == ENOSYS && static_cast<int>(Errno::opnotsupp) == EOPNOTSUPP);

}  // namespace
}  // namespace fdcore
