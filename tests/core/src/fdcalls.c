/* fdcalls: every descriptor system call the LiteBox core intercepts, one transcript line per step.
 *
 * Usage: fdcalls [DIR]            (DIR: where it makes its own files, default /tmp; a fresh subdirectory
 *                                  is made in it and removed at the end, and its name is never printed)
 *        fdcalls --exec-child TAG (internal: what survived an exec)
 *
 * The transcript holds only what is the same natively and in a container: descriptor numbers, FD_CLOEXEC,
 * status flags, errno names, data read back. It must start with exactly 0, 1 and 2 open (the test driver
 * closes everything else before running it natively). Raw syscall(2) is used wherever the C library would
 * pick another system call than the one named (glibc: fork -> clone, epoll_create -> epoll_create1...; musl:
 * dup3 without O_CLOEXEC -> dup2), so that the glibc and the musl build (fdcalls-musl, built with
 * `musl-gcc -static` and the kernel's UAPI headers) print the same transcript. */
#define _GNU_SOURCE
#include "core_test_common.h"

#include <linux/close_range.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <sys/wait.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_clone3
#define SYS_clone3 435
#endif

static char dir[512];   /* the private work directory */
static char self_exe[] = "/proc/self/exe";

static const char *path(const char *name) {
  static char buf[4][600];
  static int slot;
  char *b = buf[slot++ % 4];
  snprintf(b, 600, "%s/%s", dir, name);
  return b;
}

static int getfd(int fd) { return fcntl(fd, F_GETFD); }
static const char *gfd(int fd) {
  static char buf[16][48];
  static int slot;
  char *b = buf[slot++ % 16];
  int saved = errno;
  int r = fcntl(fd, F_GETFD);
  if (r < 0) snprintf(b, 48, "-1 %s", errname(errno));
  else snprintf(b, 48, "%d", r);
  errno = saved;
  return b;
}

/* wait for a child and say how it ended */
static void reap(const char *what, pid_t pid) {
  int st = 0;
  pid_t r;
  do r = waitpid(pid, &st, __WALL); while (r < 0 && errno == EINTR);
  if (r < 0) { say("%s: waitpid -1 %s", what, errname(errno)); return; }
  if (WIFEXITED(st)) say("%s: exit %d", what, WEXITSTATUS(st));
  else if (WIFSIGNALED(st)) say("%s: signal %d", what, WTERMSIG(st));
}

/* ------------------------------------------------------------------ the exec'd child */
static int exec_child(const char *tag) {
  char line[512];
  int n = snprintf(line, sizeof line, "%s: after exec, open:", tag);
  DIR *d = opendir("/proc/self/fd");
  int me = d ? dirfd(d) : -1, fds[256], count = 0;
  struct dirent *e;
  while (d && (e = readdir(d)) != NULL && count < 256) {
    if (e->d_name[0] == '.') continue;
    int fd = atoi(e->d_name);
    if (fd != me) fds[count++] = fd;
  }
  if (d) closedir(d);
  for (int i = 1; i < count; i++)
    for (int j = i; j > 0 && fds[j - 1] > fds[j]; j--) { int t = fds[j]; fds[j] = fds[j - 1]; fds[j - 1] = t; }
  for (int i = 0; i < count; i++) n += snprintf(line + n, sizeof line - n, " %d(cloexec=%d)", fds[i], getfd(fds[i]));
  say("%s", line);
  /* the inherited file at 5 still reads what the parent wrote */
  char buf[32] = {0};
  ssize_t r = pread(5, buf, sizeof buf - 1, 0);
  say("%s: pread(5) %s \"%s\"", tag, R(r), r > 0 ? buf : "");
  return 0;
}

/* ------------------------------------------------------------------ steps */
static void step_open_close(void) {
  say("## open, openat, creat, close");
  int fd = (int)syscall(SYS_creat, path("created"), 0600);
  say("creat(created,0600) %s", R(fd));
  say("fcntl(%d,F_GETFL) = %s", fd, fl(fd));
  ssize_t w = write(fd, "hello\n", 6);
  say("write(%d,6) %s", fd, R(w));
  say("close(%d) %s", fd, R(close(fd)));
  fd = (int)syscall(SYS_open, path("created"), O_RDONLY);
  say("open(created,O_RDONLY) %s", R(fd));
  char buf[16] = {0};
  say("read(%d) %s \"%.5s\"", fd, R(read(fd, buf, sizeof buf - 1)), buf);
  say("fcntl(%d,F_GETFD) = %s", fd, gfd(fd));
  int fd2 = (int)syscall(SYS_openat, AT_FDCWD, path("created"), O_WRONLY | O_APPEND | O_CLOEXEC);
  say("openat(AT_FDCWD,created,O_WRONLY|O_APPEND|O_CLOEXEC) %s", R(fd2));
  say("fcntl(%d,F_GETFD) = %s", fd2, gfd(fd2));
  say("fcntl(%d,F_GETFL) = %s", fd2, fl(fd2));
  int r = (int)syscall(SYS_openat, AT_FDCWD, "/nonexistent/litebox", O_RDONLY);
  say("openat(AT_FDCWD,/nonexistent/litebox) %s", R(r));
  r = (int)syscall(SYS_open, path("created"), O_RDONLY | O_DIRECTORY);
  say("open(created,O_DIRECTORY) %s", R(r));
  r = (int)syscall(SYS_open, path("created"), O_RDONLY | O_CREAT | O_EXCL, 0600);
  say("open(created,O_CREAT|O_EXCL) %s", R(r));
  int dfd = (int)syscall(SYS_open, dir, O_RDONLY | O_DIRECTORY);
  say("open(DIR,O_DIRECTORY) %s", R(dfd));
  r = (int)syscall(SYS_openat, dfd, "created", O_RDONLY);
  say("openat(%d,created) %s", dfd, R(r));
  say("close(%d) %s", r, R(close(r)));
  int pfd = (int)syscall(SYS_openat, dfd, "created", O_PATH);
  say("openat(%d,created,O_PATH) %s", dfd, R(pfd));
  say("fcntl(%d,F_GETFL) = %s", pfd, fl(pfd));
  say("read(%d) %s", pfd, R(read(pfd, buf, 1)));
  say("close(%d) %s", pfd, R(close(pfd)));
  say("close(%d) %s", dfd, R(close(dfd)));
  say("close(%d) %s", fd2, R(close(fd2)));
  say("close(99) %s", R(close(99)));
  say("close(-1) %s", R(close(-1)));
  say("close(%d) again %s", fd2, R(close(fd2)));
  /* the lowest free number is taken */
  say("close(%d) %s", fd, R(close(fd)));
  fd = (int)syscall(SYS_open, "/dev/null", O_RDWR);
  say("open(/dev/null,O_RDWR) %s", R(fd));
  fd2 = (int)syscall(SYS_open, "/dev/null", O_RDONLY);
  say("open(/dev/null,O_RDONLY) %s", R(fd2));
  say("close(%d) %s", fd, R(close(fd)));
  r = (int)syscall(SYS_open, "/dev/null", O_RDONLY);
  say("open(/dev/null) reuses the lowest %s", R(r));
  close(r);
  close(fd2);
}

static void step_openat2(void) {
  say("## openat2");
  /* DIR/root/etc/hostname: what RESOLVE_IN_ROOT must find for ../../etc/hostname */
  mkdir(path("root"), 0755);
  mkdir(path("root/etc"), 0755);
  int f = open(path("root/etc/hostname"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (write(f, "inroot\n", 7) != 7) say("write root/etc/hostname failed");
  close(f);
  symlink("etc/hostname", path("root/link"));
  int root = open(path("root"), O_RDONLY | O_DIRECTORY);
  say("open(root,O_DIRECTORY) %s", R(root));
  struct open_how how = {.flags = O_RDONLY | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT};
  int fd = (int)syscall(SYS_openat2, root, "../../etc/hostname", &how, sizeof how);
  char buf[32] = {0};
  if (fd >= 0) { ssize_t n = read(fd, buf, sizeof buf - 1); if (n > 0) buf[n - 1] = 0; }
  say("openat2(%d,../../etc/hostname,RESOLVE_IN_ROOT) %s reads \"%s\" cloexec=%s", root, R(fd), buf, gfd(fd));
  close(fd);
  how.resolve = RESOLVE_BENEATH;
  fd = (int)syscall(SYS_openat2, root, "../../etc/hostname", &how, sizeof how);
  say("openat2(%d,../../etc/hostname,RESOLVE_BENEATH) %s", root, R(fd));
  fd = (int)syscall(SYS_openat2, root, "etc/hostname", &how, sizeof how);
  say("openat2(%d,etc/hostname,RESOLVE_BENEATH) %s", root, R(fd));
  close(fd);
  how.resolve = RESOLVE_NO_SYMLINKS;
  fd = (int)syscall(SYS_openat2, root, "link", &how, sizeof how);
  say("openat2(%d,link,RESOLVE_NO_SYMLINKS) %s", root, R(fd));
  how.resolve = RESOLVE_NO_MAGICLINKS;
  fd = (int)syscall(SYS_openat2, AT_FDCWD, "/proc/self/exe", &how, sizeof how);
  say("openat2(AT_FDCWD,/proc/self/exe,RESOLVE_NO_MAGICLINKS) %s", R(fd));
  how.resolve = 0;
  how.mode = 0644; /* mode without O_CREAT */
  fd = (int)syscall(SYS_openat2, root, "etc/hostname", &how, sizeof how);
  say("openat2(mode without O_CREAT) %s", R(fd));
  how.mode = 0;
  fd = (int)syscall(SYS_openat2, root, "etc/hostname", &how, (size_t)8);
  say("openat2(size 8) %s", R(fd));
  struct { struct open_how h; uint64_t extra; } big = {.h = {.flags = O_RDONLY}, .extra = 1};
  fd = (int)syscall(SYS_openat2, root, "etc/hostname", &big, sizeof big);
  say("openat2(size 32, non-zero tail) %s", R(fd));
  how.resolve = 0x1000; /* unknown RESOLVE_ bit */
  fd = (int)syscall(SYS_openat2, root, "etc/hostname", &how, sizeof how);
  say("openat2(unknown resolve flag) %s", R(fd));
  close(root);
}

static void step_dup(void) {
  say("## dup, dup2, dup3, fcntl");
  int fd = open("/dev/null", O_RDWR);
  say("open(/dev/null) %s", R(fd));
  int d = dup(fd);
  say("dup(%d) %s cloexec=%s", fd, R(d), gfd(d));
  say("dup(99) %s", R(dup(99)));
  int r = (int)syscall(SYS_dup2, fd, 10);
  say("dup2(%d,10) %s", fd, R(r));
  say("fcntl(10,F_SETFD,FD_CLOEXEC) %s", R(fcntl(10, F_SETFD, FD_CLOEXEC)));
  say("fcntl(10,F_GETFD) = %s", gfd(10));
  r = (int)syscall(SYS_dup2, d, 10); /* replaces 10 atomically; the new one has no FD_CLOEXEC */
  say("dup2(%d,10) over an open 10 %s cloexec=%s", d, R(r), gfd(10));
  r = (int)syscall(SYS_dup2, fd, fd);
  say("dup2(%d,%d) %s", fd, fd, R(r));
  r = (int)syscall(SYS_dup2, 99, 11);
  say("dup2(99,11) %s", R(r));
  r = (int)syscall(SYS_dup2, 99, 99);
  say("dup2(99,99) %s", R(r));
  r = (int)syscall(SYS_dup2, fd, -1);
  say("dup2(%d,-1) %s", fd, R(r));
  r = (int)syscall(SYS_dup3, fd, 12, O_CLOEXEC);
  say("dup3(%d,12,O_CLOEXEC) %s cloexec=%s", fd, R(r), gfd(12));
  r = (int)syscall(SYS_dup3, fd, 13, 0);
  say("dup3(%d,13,0) %s cloexec=%s", fd, R(r), gfd(13));
  r = (int)syscall(SYS_dup3, fd, fd, 0);
  say("dup3(%d,%d,0) %s", fd, fd, R(r));
  r = (int)syscall(SYS_dup3, fd, 14, O_NONBLOCK);
  say("dup3(%d,14,O_NONBLOCK) %s", fd, R(r));
  r = (int)syscall(SYS_dup3, 99, 14, 0);
  say("dup3(99,14,0) %s", R(r));
  r = fcntl(fd, F_DUPFD, 20);
  say("fcntl(%d,F_DUPFD,20) %s cloexec=%s", fd, R(r), gfd(r));
  r = fcntl(fd, F_DUPFD, 20);
  say("fcntl(%d,F_DUPFD,20) again %s", fd, R(r));
  r = fcntl(fd, F_DUPFD_CLOEXEC, 20);
  say("fcntl(%d,F_DUPFD_CLOEXEC,20) %s cloexec=%s", fd, R(r), gfd(r));
  r = fcntl(fd, F_DUPFD, 0);
  say("fcntl(%d,F_DUPFD,0) %s", fd, R(r));
  close(r);
  r = fcntl(fd, F_DUPFD, -1);
  say("fcntl(%d,F_DUPFD,-1) %s", fd, R(r));
  r = fcntl(99, F_DUPFD, 0);
  say("fcntl(99,F_DUPFD,0) %s", R(r));
  say("fcntl(99,F_GETFD) = %s", gfd(99));
  say("fcntl(99,F_SETFD) %s", R(fcntl(99, F_SETFD, FD_CLOEXEC)));
  r = fcntl(d, F_SETFD, FD_CLOEXEC);
  say("fcntl(%d,F_SETFD,FD_CLOEXEC) %s F_GETFD = %s", d, R(r), gfd(d));
  r = fcntl(d, F_SETFD, 0);
  say("fcntl(%d,F_SETFD,0) %s F_GETFD = %s", d, R(r), gfd(d));
  /* the status flags are shared between duplicates, the descriptor flags are not */
  say("fcntl(%d,F_SETFL,O_NONBLOCK) %s", fd, R(fcntl(fd, F_SETFL, O_NONBLOCK)));
  say("fcntl(13,F_GETFL) = %s", fl(13));
  fcntl(fd, F_SETFL, 0);
  int closes[] = {d, 10, 12, 13, 20, 21, 22};
  for (size_t i = 0; i < sizeof closes / sizeof closes[0]; i++)
    say("close(%d) %s", closes[i], R(close(closes[i])));
  close(fd);
}

static void step_limits(void) {
  say("## RLIMIT_NOFILE");
  struct rlimit old, lim;
  getrlimit(RLIMIT_NOFILE, &old);
  lim = old;
  lim.rlim_cur = 64;
  say("setrlimit(RLIMIT_NOFILE,cur=64) %s", R(setrlimit(RLIMIT_NOFILE, &lim)));
  struct rlimit got;
  int r = prlimit(0, RLIMIT_NOFILE, NULL, &got);
  say("prlimit(0,RLIMIT_NOFILE) %s cur=%llu", R(r), (unsigned long long)got.rlim_cur);
  r = fcntl(0, F_DUPFD, 64);
  say("fcntl(0,F_DUPFD,64) %s", R(r));
  r = fcntl(0, F_DUPFD, 63);
  say("fcntl(0,F_DUPFD,63) %s", R(r));
  close(r);
  r = (int)syscall(SYS_dup2, 0, 64);
  say("dup2(0,64) %s", R(r));
  r = (int)syscall(SYS_dup3, 0, 100, 0);
  say("dup3(0,100,0) %s", R(r));
  /* lower still, then fill the table */
  struct rlimit small = old;
  small.rlim_cur = 12;
  say("prlimit(0,RLIMIT_NOFILE,cur=12) %s", R(prlimit(0, RLIMIT_NOFILE, &small, NULL)));
  int fds[32], n = 0, last;
  for (;;) {
    last = open("/dev/null", O_RDONLY);
    if (last < 0 || n == 32) break;
    fds[n++] = last;
  }
  say("open /dev/null until it fails: %d opened (%d..%d), then %s", n, n ? fds[0] : -1, n ? fds[n - 1] : -1,
      R(last));
  r = dup(0);
  say("dup(0) %s", R(r));
  r = fcntl(0, F_DUPFD, 0);
  say("fcntl(0,F_DUPFD,0) %s", R(r));
  int sv[2];
  r = pipe(sv);
  say("pipe() %s", R(r));
  r = socket(AF_UNIX, SOCK_STREAM, 0);
  say("socket(AF_UNIX) %s", R(r));
  r = (int)syscall(SYS_dup2, 0, fds[n - 1]); /* dup2 onto an open number still works */
  say("dup2(0,%d) %s", fds[n - 1], R(r));
  close(fds[0]);
  r = pipe(sv); /* needs two: one free is not enough */
  say("pipe() with one free %s", R(r));
  r = open("/dev/null", O_RDONLY);
  say("open(/dev/null) with one free %s", R(r));
  fds[0] = r;
  for (int i = 0; i < n; i++) close(fds[i]);
  say("setrlimit(RLIMIT_NOFILE,old) %s", R(setrlimit(RLIMIT_NOFILE, &old)));
}

static void step_pipes_sockets(void) {
  say("## pipe, pipe2, socket, socketpair, accept, accept4");
  int p[2];
  int r = (int)syscall(SYS_pipe, p);
  say("pipe() %s [%d,%d] cloexec=%s,%s", R(r), p[0], p[1], gfd(p[0]), gfd(p[1]));
  say("fcntl(%d,F_GETFL) = %s fcntl(%d,F_GETFL) = %s", p[0], fl(p[0]), p[1],
      fl(p[1]));
  int q[2];
  r = pipe2(q, O_CLOEXEC | O_NONBLOCK);
  say("pipe2(O_CLOEXEC|O_NONBLOCK) %s [%d,%d] cloexec=%s,%s", R(r), q[0], q[1], gfd(q[0]), gfd(q[1]));
  say("fcntl(%d,F_GETFL) = %s", q[0], fl(q[0]));
  char c;
  say("read(%d) empty nonblocking %s", q[0], R(read(q[0], &c, 1)));
  say("write(%d) %s", p[1], R(write(p[1], "x", 1)));
  say("read(%d) %s", p[0], R(read(p[0], &c, 1)));
  r = pipe2(q, 0x4); /* unknown flag */
  say("pipe2(bad flag) %s", R(r));
  close(p[0]); close(p[1]); close(q[0]); close(q[1]);

  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  say("socket(AF_UNIX,SOCK_STREAM|SOCK_CLOEXEC) %s cloexec=%s", R(s), gfd(s));
  int u = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  say("socket(AF_INET,SOCK_DGRAM|SOCK_NONBLOCK) %s F_GETFL = %s", R(u), fl(u));
  r = socket(12345, SOCK_STREAM, 0);
  say("socket(12345) %s", R(r));
  int sp[2];
  r = socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp);
  say("socketpair(AF_UNIX,SOCK_SEQPACKET) %s [%d,%d]", R(r), sp[0], sp[1]);
  close(sp[0]); close(sp[1]);
  close(u);

  struct sockaddr_un a = {.sun_family = AF_UNIX};
  snprintf(a.sun_path, sizeof a.sun_path, "%s", path("sock"));
  if (strlen(path("sock")) >= sizeof a.sun_path) say("socket path too long");
  r = bind(s, (struct sockaddr *)&a, sizeof a);
  say("bind %s", R(r));
  say("listen %s", R(listen(s, 4)));
  for (int round = 0; round < 2; round++) {
    pid_t pid = fork();
    if (pid == 0) {
      int c2 = socket(AF_UNIX, SOCK_STREAM, 0);
      if (connect(c2, (struct sockaddr *)&a, sizeof a) == 0 && write(c2, round ? "B" : "A", 1) == 1) _exit(0);
      _exit(1);
    }
    int cfd = round ? (int)syscall(SYS_accept4, s, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)
                    : (int)syscall(SYS_accept, s, NULL, NULL);
    int e = errno;
    char got = '?';
    if (cfd >= 0) {
      if (round) fcntl(cfd, F_SETFL, 0); /* blocking read */
      if (read(cfd, &got, 1) != 1) got = '!';
    }
    if (round) {
      say("accept4(%d,SOCK_CLOEXEC|SOCK_NONBLOCK) %s cloexec=%s reads %c", s, res(cfd, e), gfd(cfd), got);
    } else {
      say("accept(%d) %s cloexec=%s F_GETFL = %s reads %c", s, res(cfd, e), gfd(cfd), fl(cfd), got);
    }
    reap(round ? "accept4 client" : "accept client", pid);
    close(cfd);
  }
  r = (int)syscall(SYS_accept4, s, NULL, NULL, 0x1); /* bad flag */
  say("accept4(bad flag) %s", R(r));
  r = (int)syscall(SYS_accept, 99, NULL, NULL);
  say("accept(99) %s", R(r));
  close(s);
  unlink(path("sock"));
}

static void step_event_kinds(void) {
  say("## eventfd, epoll, signalfd, timerfd, inotify, memfd, pidfd");
  int e1 = (int)syscall(SYS_eventfd, 3);
  say("eventfd(3) %s cloexec=%s F_GETFL = %s", R(e1), gfd(e1), fl(e1));
  int e2 = (int)syscall(SYS_eventfd2, 0, EFD_CLOEXEC | EFD_NONBLOCK);
  say("eventfd2(0,EFD_CLOEXEC|EFD_NONBLOCK) %s cloexec=%s F_GETFL = %s", R(e2), gfd(e2),
      fl(e2));
  uint64_t v = 0;
  ssize_t rv = read(e1, &v, 8);
  say("read(%d) %s value %llu", e1, R(rv), (unsigned long long)v);
  int ep = (int)syscall(SYS_epoll_create, 4);
  say("epoll_create(4) %s cloexec=%s", R(ep), gfd(ep));
  int ep2 = (int)syscall(SYS_epoll_create1, EPOLL_CLOEXEC);
  say("epoll_create1(EPOLL_CLOEXEC) %s cloexec=%s", R(ep2), gfd(ep2));
  say("epoll_create(0) %s", R(syscall(SYS_epoll_create, 0)));
  say("epoll_create1(bad flag) %s", R(syscall(SYS_epoll_create1, 1)));
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0};
  ev.data.fd = e1;
  say("epoll_ctl(%d,ADD,%d) %s", ep, e1, R(epoll_ctl(ep, EPOLL_CTL_ADD, e1, &ev)));
  ev.data.fd = e2;
  say("epoll_ctl(%d,ADD,%d) %s", ep, e2, R(epoll_ctl(ep, EPOLL_CTL_ADD, e2, &ev)));
  say("epoll_ctl(%d,ADD,99) %s", ep, R(epoll_ctl(ep, EPOLL_CTL_ADD, 99, &ev)));
  v = 7;
  say("write(%d,7) %s", e2, R(write(e2, &v, 8)));
  struct epoll_event out[4];
  int n = epoll_wait(ep, out, 4, 1000);
  say("epoll_wait(%d) %s first ready fd %d", ep, R(n), n > 0 ? out[0].data.fd : -1);

  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGUSR1);
  sigprocmask(SIG_BLOCK, &mask, NULL);
  int sf = (int)syscall(SYS_signalfd, -1, &mask, (size_t)8);
  say("signalfd(-1,{USR1}) %s cloexec=%s F_GETFL = %s", R(sf), gfd(sf), fl(sf));
  int sf2 = (int)syscall(SYS_signalfd4, -1, &mask, (size_t)8, SFD_CLOEXEC | SFD_NONBLOCK);
  say("signalfd4(-1,{USR1},SFD_CLOEXEC|SFD_NONBLOCK) %s cloexec=%s F_GETFL = %s", R(sf2), gfd(sf2),
      fl(sf2));
  sigaddset(&mask, SIGUSR2);
  int r = (int)syscall(SYS_signalfd4, sf, &mask, (size_t)8, 0);
  say("signalfd4(%d,{USR1,USR2}) updates in place %s", sf, R(r));
  r = (int)syscall(SYS_signalfd4, e1, &mask, (size_t)8, 0);
  say("signalfd4(%d (an eventfd)) %s", e1, R(r));
  r = (int)syscall(SYS_signalfd4, -1, &mask, (size_t)8, 0x1);
  say("signalfd4(bad flag) %s", R(r));
  raise(SIGUSR1);
  struct signalfd_siginfo si;
  ssize_t got = read(sf2, &si, sizeof si);
  say("raise(SIGUSR1); read(%d) %s signo %u", sf2, R(got), got > 0 ? si.ssi_signo : 0);

  int tf = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  say("timerfd_create(CLOCK_MONOTONIC,TFD_NONBLOCK|TFD_CLOEXEC) %s cloexec=%s F_GETFL = %s", R(tf), gfd(tf),
      fl(tf));
  int tf2 = timerfd_create(CLOCK_REALTIME, 0);
  say("timerfd_create(CLOCK_REALTIME,0) %s F_GETFL = %s", R(tf2), fl(tf2));
  say("timerfd_create(bad clock) %s", R(timerfd_create(12345, 0)));
  struct itimerspec its = {.it_value = {.tv_nsec = 1000000}};
  timerfd_settime(tf2, 0, &its, NULL);
  uint64_t ticks = 0;
  rv = read(tf2, &ticks, 8);
  say("read(%d) %s ticks %llu", tf2, R(rv), (unsigned long long)ticks);

  int in1 = (int)syscall(SYS_inotify_init);
  say("inotify_init() %s cloexec=%s F_GETFL = %s", R(in1), gfd(in1), fl(in1));
  int in2 = (int)syscall(SYS_inotify_init1, IN_CLOEXEC | IN_NONBLOCK);
  say("inotify_init1(IN_CLOEXEC|IN_NONBLOCK) %s cloexec=%s F_GETFL = %s", R(in2), gfd(in2),
      fl(in2));
  int wd = inotify_add_watch(in2, dir, IN_CREATE);
  say("inotify_add_watch(%d,DIR,IN_CREATE) %s", in2, R(wd));
  int t = open(path("watched"), O_CREAT | O_WRONLY, 0600);
  close(t);
  char ibuf[512] __attribute__((aligned(8)));
  got = read(in2, ibuf, sizeof ibuf);
  struct inotify_event *ie = (struct inotify_event *)ibuf;
  say("inotify read: %s name %s", got > 0 ? "event" : errname(errno), got > 0 && ie->len ? ie->name : "-");

  int mf = memfd_create("litebox", MFD_CLOEXEC);
  say("memfd_create(litebox,MFD_CLOEXEC) %s cloexec=%s F_GETFL = %s", R(mf), gfd(mf),
      fl(mf));
  int mf2 = memfd_create("litebox2", MFD_ALLOW_SEALING);
  say("memfd_create(litebox2,MFD_ALLOW_SEALING) %s cloexec=%s", R(mf2), gfd(mf2));
  say("memfd_create(bad flag) %s", R(memfd_create("x", 0x100)));
  ssize_t w = pwrite(mf, "memfd!", 6, 0);
  char mb[8] = {0};
  ssize_t rd = pread(mf, mb, 6, 0);
  say("pwrite %s pread %s \"%s\"", R(w), R(rd), mb);

  int pf = (int)syscall(SYS_pidfd_open, getpid(), 0);
  say("pidfd_open(getpid(),0) %s cloexec=%s", R(pf), gfd(pf));
  say("pidfd_open(getpid(),bad flag) %s", R(syscall(SYS_pidfd_open, getpid(), 0x1)));
  pid_t child = fork();
  if (child == 0) { pause(); _exit(0); }
  int cpf = (int)syscall(SYS_pidfd_open, child, 0);
  say("pidfd_open(child,0) %s", R(cpf));
  r = (int)syscall(SYS_pidfd_send_signal, cpf, SIGKILL, NULL, 0);
  say("pidfd_send_signal(%d,SIGKILL) %s", cpf, R(r));
  reap("pidfd child", child);

  list_fds("open now");
  int all[] = {e1, e2, ep, ep2, sf, sf2, tf, tf2, in1, in2, mf, mf2, pf, cpf};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) close(all[i]);
  sigprocmask(SIG_UNBLOCK, &mask, NULL);
}

/* ------------------------------------------------------------------ processes and tables */
static int tfd_to_close, thread_dup;
static void *thread_main(void *arg) {
  (void)arg;
  thread_dup = dup(0);
  say("thread: dup(0) %s", R(thread_dup));
  say("thread: close(%d) %s", tfd_to_close, R(close(tfd_to_close)));
  return NULL;
}

static void step_processes(void) {
  say("## fork, vfork, clone, clone3, unshare");
  int a = open("/dev/null", O_RDONLY);
  say("open(/dev/null) %s", R(a));
  int to_child[2], to_parent[2];
  pipe2(to_child, O_CLOEXEC);
  pipe2(to_parent, O_CLOEXEC);
  char c;
  /* fork (the fork system call itself): a copy of the table */
  pid_t pid = (pid_t)syscall(SYS_fork);
  if (pid == 0) {
    int cr = close(a);
    say("fork child: close(%d) %s F_GETFD = %s", a, R(cr), gfd(a));
    if (write(to_parent[1], "1", 1) != 1 || read(to_child[0], &c, 1) != 1) _exit(2);
    say("fork child: F_GETFD(%d) (the parent's later dup) = %s", a + 5, gfd(a + 5));
    int mine = open("/dev/null", O_RDONLY);
    say("fork child: open(/dev/null) %s", R(mine));
    _exit(0);
  }
  if (read(to_parent[0], &c, 1) != 1) say("fork: no word from the child");
  say("fork parent: F_GETFD(%d) = %s", a, gfd(a));
  int d5 = fcntl(a, F_DUPFD, a + 5);
  say("fork parent: fcntl(%d,F_DUPFD,%d) %s", a, a + 5, R(d5));
  if (write(to_child[1], "1", 1) != 1) say("fork: cannot wake the child");
  reap("fork child", pid);
  close(d5);

  /* the C library's fork (glibc: clone with SIGCHLD; musl: the fork system call) */
  pid = fork();
  if (pid == 0) {
    int r = dup2(a, 30);
    say("clone-fork child: dup2(%d,30) %s", a, R(r));
    _exit(0);
  }
  reap("clone-fork child", pid);
  say("clone-fork parent: F_GETFD(30) = %s", gfd(30));

  /* vfork: the child has its own table (no CLONE_FILES) while it shares the memory */
  volatile int vr = 0, ve = 0;
  pid = vfork();
  if (pid == 0) {
    vr = close(a);
    ve = errno;
    _exit(0);
  }
  say("vfork child: close(%d) %s", a, res(vr, ve));
  reap("vfork child", pid);
  say("vfork parent: F_GETFD(%d) = %s", a, gfd(a));

  /* clone(CLONE_FILES) without CLONE_VM: a forked child sharing the table */
  int b = open("/dev/null", O_RDONLY);
  int keep = open("/dev/null", O_RDONLY);
  say("open(/dev/null) %s, %s", res(b, 0), res(keep, 0));
  pid = (pid_t)syscall(SYS_clone, CLONE_FILES | SIGCHLD, 0, 0, 0, 0);
  if (pid == 0) {
    say("clone(CLONE_FILES) child: close(%d) %s", b, R(close(b)));
    int r;
    int d = dup2(a, 31);
    say("clone(CLONE_FILES) child: dup2(%d,31) %s", a, R(d));
    r = unshare(CLONE_FILES);
    say("clone(CLONE_FILES) child: unshare(CLONE_FILES) %s", R(r));
    say("clone(CLONE_FILES) child: close(%d) after unshare %s", keep, R(close(keep)));
    say("clone(CLONE_FILES) child: dup2(%d,32) after unshare %s", a, R(dup2(a, 32)));
    _exit(0);
  }
  reap("clone(CLONE_FILES) child", pid);
  say("clone(CLONE_FILES) parent: F_GETFD(%d) = %s F_GETFD(31) = %s F_GETFD(%d) = %s F_GETFD(32) = %s", b, gfd(b),
      gfd(31), keep, gfd(keep), gfd(32));
  close(31);

  /* clone3: without CLONE_FILES (a copy), then with it (shared) */
  struct clone_args ca = {.exit_signal = SIGCHLD};
  pid = (pid_t)syscall(SYS_clone3, &ca, sizeof ca);
  if (pid == 0) { say("clone3 child: close(%d) %s", keep, R(close(keep))); _exit(0); }
  if (pid < 0) say("clone3 %s", R(pid));
  else reap("clone3 child", pid);
  say("clone3 parent: F_GETFD(%d) = %s", keep, gfd(keep));
  ca.flags = CLONE_FILES;
  pid = (pid_t)syscall(SYS_clone3, &ca, sizeof ca);
  if (pid == 0) { say("clone3(CLONE_FILES) child: close(%d) %s", keep, R(close(keep))); _exit(0); }
  if (pid < 0) say("clone3(CLONE_FILES) %s", R(pid));
  else reap("clone3(CLONE_FILES) child", pid);
  say("clone3(CLONE_FILES) parent: F_GETFD(%d) = %s", keep, gfd(keep));
  struct clone_args bad = {.flags = CLONE_FILES, .exit_signal = SIGCHLD};
  say("clone3(size 8) %s", R(syscall(SYS_clone3, &bad, (size_t)8)));

  /* a thread (pthread_create: clone3 with CLONE_VM|CLONE_FILES|...) shares the table */
  tfd_to_close = open("/dev/null", O_RDONLY);
  say("open(/dev/null) for the thread %s", R(tfd_to_close));
  pthread_t th;
  pthread_create(&th, NULL, thread_main, NULL);
  pthread_join(th, NULL);
  say("thread joined: F_GETFD(%d) = %s F_GETFD(%d) = %s", tfd_to_close, gfd(tfd_to_close), thread_dup, gfd(thread_dup));
  close(thread_dup);

  /* unshare(CLONE_FILES) in this process: a private copy, same numbers */
  int u = dup(a);
  int ur = unshare(CLONE_FILES);
  say("unshare(CLONE_FILES) %s F_GETFD(%d) = %s", R(ur), u, gfd(u));
  say("unshare(bad flag) %s", R(unshare(0x1)));
  close(u);
  close(a);
  close(to_child[0]); close(to_child[1]); close(to_parent[0]); close(to_parent[1]);
}

static void step_close_range(void) {
  say("## close_range");
  int base = open("/dev/null", O_RDONLY);
  for (int i = 40; i <= 47; i++) dup2(base, i);
  close(base);
  long r = syscall(SYS_close_range, 41, 42, 0);
  say("close_range(41,42,0) %s F_GETFD(41) = %s F_GETFD(43) = %s", R(r), gfd(41), gfd(43));
  r = syscall(SYS_close_range, 43, 44, CLOSE_RANGE_CLOEXEC);
  say("close_range(43,44,CLOSE_RANGE_CLOEXEC) %s F_GETFD(43) = %s F_GETFD(44) = %s F_GETFD(45) = %s", R(r),
      gfd(43), gfd(44), gfd(45));
  r = syscall(SYS_close_range, 44, 43, 0);
  say("close_range(44,43,0) %s", R(r));
  r = syscall(SYS_close_range, 40, 47, 0x1);
  say("close_range(bad flag) %s", R(r));
  r = syscall(SYS_close_range, 1000, 2000, 0);
  say("close_range(1000,2000,0) %s", R(r));
  /* CLOSE_RANGE_UNSHARE in a child sharing the table: the parent keeps them */
  pid_t pid = (pid_t)syscall(SYS_clone, CLONE_FILES | SIGCHLD, 0, 0, 0, 0);
  if (pid == 0) {
    long rr = syscall(SYS_close_range, 45, ~0U, CLOSE_RANGE_UNSHARE);
    say("child: close_range(45,~0,CLOSE_RANGE_UNSHARE) %s F_GETFD(45) = %s F_GETFD(40) = %s", R(rr),
        gfd(45), gfd(40));
    _exit(0);
  }
  reap("close_range child", pid);
  say("parent: F_GETFD(45) = %s F_GETFD(47) = %s", gfd(45), gfd(47));
  r = syscall(SYS_close_range, 46, ~0U, CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC);
  say("close_range(46,~0,UNSHARE|CLOEXEC) %s F_GETFD(46) = %s F_GETFD(47) = %s", R(r), gfd(46), gfd(47));
  r = syscall(SYS_close_range, 40, ~0U, 0);
  say("close_range(40,~0,0) %s F_GETFD(40) = %s F_GETFD(47) = %s", R(r), gfd(40), gfd(47));
  list_fds("open now");
}

static void step_exec(void) {
  say("## execve, execveat");
  /* 3: no FD_CLOEXEC, 4: FD_CLOEXEC, 5: a file (read by the new program), 6: cloexec pipe, 7: dup of 4 without */
  int f3 = open("/dev/null", O_RDONLY);
  int f4 = open("/dev/null", O_RDONLY | O_CLOEXEC);
  int f5 = open(path("execdata"), O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (write(f5, "inherited", 9) != 9) say("write execdata failed");
  int p[2];
  pipe2(p, O_CLOEXEC);
  say("set up: %d %d %d %d %d cloexec=%s,%s,%s,%s,%s", f3, f4, f5, p[0], p[1], gfd(f3), gfd(f4), gfd(f5), gfd(p[0]),
      gfd(p[1]));
  fcntl(p[1], F_SETFD, 0);
  say("fcntl(%d,F_SETFD,0): the survivors of an exec should be 0 1 2 %d %d %d", p[1], f3, f5, p[1]);
  char *argv[] = {"fdcalls", "--exec-child", "execve", NULL};
  pid_t pid = fork();
  if (pid == 0) {
    syscall(SYS_execve, self_exe, argv, environ);
    say("execve %s", R(-1));
    _exit(127);
  }
  reap("execve child", pid);
  int exe = open(self_exe, O_RDONLY | O_CLOEXEC);
  say("open(/proc/self/exe,O_CLOEXEC) %s", R(exe));
  char *argv2[] = {"fdcalls", "--exec-child", "execveat", NULL};
  pid = fork();
  if (pid == 0) {
    syscall(SYS_execveat, exe, "", argv2, environ, AT_EMPTY_PATH);
    say("execveat(AT_EMPTY_PATH) %s", R(-1));
    _exit(127);
  }
  reap("execveat child", pid);
  long r = syscall(SYS_execve, "/nonexistent/litebox", argv, environ);
  say("execve(/nonexistent/litebox) %s", R(r));
  r = syscall(SYS_execveat, 99, "", argv, environ, AT_EMPTY_PATH);
  say("execveat(99,\"\",AT_EMPTY_PATH) %s", R(r));
  r = syscall(SYS_execveat, f5, "", argv, environ, AT_EMPTY_PATH); /* not executable */
  say("execveat(%d (a 0600 file),\"\",AT_EMPTY_PATH) %s", f5, R(r));
  r = syscall(SYS_execveat, exe, "", argv, environ, AT_EMPTY_PATH | 0x4);
  say("execveat(bad flags) %s", R(r));
  int all[] = {f3, f4, f5, p[0], p[1], exe};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) close(all[i]);
}

static void rm_tree(const char *d) {
  const char *names[] = {"created", "root/etc/hostname", "root/link", "root/etc", "root", "watched", "execdata", "sock"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    char p[700];
    snprintf(p, sizeof p, "%s/%s", d, names[i]);
    if (unlink(p) != 0) rmdir(p);
  }
  rmdir(d);
}

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "--exec-child") == 0) return exec_child(argc >= 3 ? argv[2] : "exec");
  const char *base = argc >= 2 ? argv[1] : "/tmp";
  snprintf(dir, sizeof dir, "%s/fdcalls.XXXXXX", base);
  if (!mkdtemp(dir)) { say("mkdtemp in %s: %s", base, errname(errno)); return 1; }
  signal(SIGPIPE, SIG_IGN);
  list_fds("at start");
  step_open_close();
  step_openat2();
  step_dup();
  step_limits();
  step_pipes_sockets();
  step_event_kinds();
  step_processes();
  step_close_range();
  step_exec();
  rm_tree(dir);
  list_fds("at end");
  return 0;
}
