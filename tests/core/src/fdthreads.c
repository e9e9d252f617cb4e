/* fdthreads [THREADS] [ITERATIONS]: threads sharing one descriptor table, each in a loop: open /dev/null, dup,
 * dup2 onto a private high number, fcntl F_SETFD/F_GETFD, close. Every number a thread gets is claimed in a
 * shared owner table: a number handed to two threads at once, an EBADF on a number just received, or a
 * descriptor left open at the end is a failure. Prints "fdthreads ok THREADS x ITERATIONS" and the open
 * descriptors, or the failures (exit 1). */
#define _GNU_SOURCE
#include "core_test_common.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#define MAX_FD 1024
#define HIGH_BASE 200 /* private numbers: HIGH_BASE + thread index (the default RLIMIT_NOFILE is 1024) */

static atomic_int owner[MAX_FD];
static atomic_int failures;
static int iterations = 2000;

static void fail(int tid, const char *what, int fd, int e) {
  if (atomic_fetch_add(&failures, 1) < 20) say("FAIL thread %d: %s fd %d: %s", tid, what, fd, e ? errname(e) : "-");
}

static int claim(int tid, int fd, const char *what) {
  if (fd < 0) { fail(tid, what, fd, errno); return 0; }
  if (fd >= MAX_FD) { fail(tid, "number out of range from", fd, 0); return 0; }
  int expected = 0;
  if (!atomic_compare_exchange_strong(&owner[fd], &expected, tid + 1)) {
    fail(tid, "number already owned by another thread, from", fd, 0);
    return 0;
  }
  return 1;
}

static void release(int tid, int fd) {
  atomic_store(&owner[fd], 0);
  if (close(fd) != 0) fail(tid, "close", fd, errno);
}

static void *worker(void *arg) {
  int tid = (int)(long)arg, high = HIGH_BASE + tid;
  struct stat st;
  for (int i = 0; i < iterations; i++) {
    int fd = open("/dev/null", O_RDWR | (i % 2 ? O_CLOEXEC : 0));
    if (!claim(tid, fd, "open")) continue;
    if (fstat(fd, &st) != 0 || !S_ISCHR(st.st_mode)) fail(tid, "fstat of a just opened /dev/null", fd, errno);
    int want = i % 2 ? FD_CLOEXEC : 0;
    int got = fcntl(fd, F_GETFD);
    if (got != want) fail(tid, "F_GETFD after open", fd, got < 0 ? errno : 0);
    int d = dup(fd);
    if (claim(tid, d, "dup")) {
      if (fcntl(d, F_GETFD) != 0) fail(tid, "F_GETFD of a dup", d, errno);
      release(tid, d);
    }
    int h = (int)syscall(SYS_dup2, fd, high);
    if (h != high) fail(tid, "dup2 onto the private number", high, errno);
    if (fcntl(high, F_SETFD, FD_CLOEXEC) != 0) fail(tid, "F_SETFD", high, errno);
    if (fcntl(high, F_GETFD) != FD_CLOEXEC) fail(tid, "F_GETFD after F_SETFD", high, errno);
    if (fstat(high, &st) != 0 || !S_ISCHR(st.st_mode)) fail(tid, "fstat of the private number", high, errno);
    int c = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (claim(tid, c, "F_DUPFD_CLOEXEC")) {
      if (fcntl(c, F_GETFD) != FD_CLOEXEC) fail(tid, "F_GETFD of F_DUPFD_CLOEXEC", c, errno);
      release(tid, c);
    }
    if (close(high) != 0) fail(tid, "close of the private number", high, errno);
    release(tid, fd);
  }
  return NULL;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 8;
  if (argc > 2) iterations = atoi(argv[2]);
  if (threads < 1 || threads > 64 || iterations < 1) { say("usage: fdthreads [THREADS<=64] [ITERATIONS]"); return 2; }
  pthread_t th[64];
  for (int t = 0; t < threads; t++) pthread_create(&th[t], NULL, worker, (void *)(long)t);
  for (int t = 0; t < threads; t++) pthread_join(th[t], NULL);
  int f = atomic_load(&failures);
  if (f) {
    say("fdthreads FAILED: %d failure(s)", f);
    return 1;
  }
  say("fdthreads ok %d threads x %d iterations", threads, iterations);
  list_fds("open at end");
  return 0;
}
