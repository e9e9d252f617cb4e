/* Shared helpers of the LiteBox core test programs: deterministic output (one write(2) per line, so that
 * forked children and the parent never mix buffered output), errno names, and flag decoding. */
#ifndef LITEBOX_CORE_TEST_COMMON_H
#define LITEBOX_CORE_TEST_COMMON_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static inline void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void say(const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if (n > (int)sizeof buf - 2) n = (int)sizeof buf - 2;
  buf[n++] = '\n';
  const char *p = buf;
  while (n > 0) {
    ssize_t w = write(1, p, (size_t)n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    p += w;
    n -= (int)w;
  }
}

static inline const char *errname(int e) {
  switch (e) {
#define E(x) case x: return #x;
    E(EPERM) E(ENOENT) E(ESRCH) E(EINTR) E(EIO) E(ENXIO) E(E2BIG) E(ENOEXEC) E(EBADF) E(ECHILD) E(EAGAIN)
    E(ENOMEM) E(EACCES) E(EFAULT) E(EBUSY) E(EEXIST) E(EXDEV) E(ENODEV) E(ENOTDIR) E(EISDIR) E(EINVAL)
    E(ENFILE) E(EMFILE) E(ENOTTY) E(ETXTBSY) E(EFBIG) E(ENOSPC) E(ESPIPE) E(EROFS) E(EMLINK) E(EPIPE)
    E(ERANGE) E(ENAMETOOLONG) E(ENOSYS) E(ENOTEMPTY) E(ELOOP) E(ENOTSOCK) E(EOPNOTSUPP) E(EPROTONOSUPPORT)
    E(EAFNOSUPPORT) E(EADDRINUSE) E(ECONNREFUSED) E(ENOTCONN)
    E(EOVERFLOW) E(ENOPKG) E(EBADFD) E(EDESTADDRREQ) E(EPROTOTYPE) E(ENOPROTOOPT) E(ENOBUFS) E(ETIMEDOUT)
    E(EALREADY) E(EINPROGRESS) E(ESTALE) E(EDQUOT) E(ENOMEDIUM) E(ECANCELED) E(EOWNERDEAD)
#undef E
    default: {
      static char other[32];
      snprintf(other, sizeof other, "errno%d", e);
      return other;
    }
  }
}

/* "= N" or "= -1 ENAME" for a call's result (errno read right after the call). */
static inline const char *res(long r, int e) {
  static char buf[8][64];
  static int slot;
  char *b = buf[slot++ % 8];
  if (r < 0) snprintf(b, 64, "= -1 %s", errname(e));
  else snprintf(b, 64, "= %ld", r);
  return b;
}

/* R(call): "= N" or "= -1 ENAME", errno taken right after the call (a GNU statement expression: the order
 * in which a call's arguments are evaluated is unspecified, so never read errno as another argument). */
#define R(call) __extension__({ long r_ = (long)(call); int e_ = errno; res(r_, e_); })

/* Status flags (F_GETFL) by name: access mode and the flags that matter; unknown bits in hex. */
#define KERNEL_O_LARGEFILE 0100000
static inline const char *flname(int fl) {
  static char buf[8][160];
  static int slot;
  char *b = buf[slot++ % 8];
  if (fl < 0) { snprintf(b, 160, "-1 %s", errname(errno)); return b; }
  /* the kernel's access mode bits (musl's O_ACCMODE also holds O_PATH, its O_SEARCH) */
  const int accmode = 03;
  const char *acc = (fl & accmode) == O_RDONLY ? "O_RDONLY" : (fl & accmode) == O_WRONLY ? "O_WRONLY"
                  : (fl & accmode) == O_RDWR ? "O_RDWR" : "O_ACC3";
  snprintf(b, 160, "%s", acc);
  int rest = fl & ~accmode;
  struct { int bit; const char *name; } names[] = {
    {O_APPEND, "O_APPEND"}, {O_NONBLOCK, "O_NONBLOCK"}, {O_SYNC, "O_SYNC"}, {O_DSYNC, "O_DSYNC"},
    {O_DIRECT, "O_DIRECT"}, {O_NOATIME, "O_NOATIME"}, {O_PATH, "O_PATH"}, {KERNEL_O_LARGEFILE, "O_LARGEFILE"},
    {O_ASYNC, "O_ASYNC"}, {O_DIRECTORY, "O_DIRECTORY"}, {O_NOFOLLOW, "O_NOFOLLOW"},
  };
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    if ((rest & names[i].bit) == names[i].bit && names[i].bit != 0) {
      strncat(b, "|", 159 - strlen(b));
      strncat(b, names[i].name, 159 - strlen(b));
      rest &= ~names[i].bit;
    }
  }
  if (rest) snprintf(b + strlen(b), 160 - strlen(b), "|0x%x", rest);
  return b;
}

/* The sorted list of open descriptors (from /proc/self/fd, without the one used for the listing). */
static inline void list_fds(const char *label) {
  char line[1024];
  int n = snprintf(line, sizeof line, "%s:", label);
  DIR *d = opendir("/proc/self/fd");
  if (!d) { say("%s: opendir(/proc/self/fd) failed: %s", label, errname(errno)); return; }
  int me = dirfd(d), fds[1024], count = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL && count < 1024) {
    if (e->d_name[0] == '.') continue;
    int fd = atoi(e->d_name);
    if (fd != me) fds[count++] = fd;
  }
  closedir(d);
  for (int i = 1; i < count; i++)
    for (int j = i; j > 0 && fds[j - 1] > fds[j]; j--) { int t = fds[j]; fds[j] = fds[j - 1]; fds[j - 1] = t; }
  for (int i = 0; i < count && n < (int)sizeof line - 16; i++) n += snprintf(line + n, sizeof line - n, " %d", fds[i]);
  say("%s", line);
}

/* F_GETFL of fd by name; errno is left as it was. */
static inline const char *fl(int fd) {
  int saved = errno;
  int v = fcntl(fd, F_GETFL);
  const char *r = flname(v);
  errno = saved;
  return r;
}

#endif
