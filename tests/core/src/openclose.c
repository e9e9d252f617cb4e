/* openclose N: N iterations of open("/dev/null") + close; prints the nanoseconds per iteration (for the
 * benchmarks; with the LiteBox core every one of them is a round trip to the shim).
 * openclose --hold N: opens /dev/null without closing until an open fails or N are held; prints
 * "held K, highest fd H, then ENAME" (the descriptor budget check of the core tests). */
#define _GNU_SOURCE
#include "core_test_common.h"

#include <time.h>

static int hold(long n) {
  long held = 0;
  int highest = 2, fd = -1;
  while (held < n) {
    fd = open("/dev/null", O_RDONLY);
    if (fd < 0) break;
    held++;
    if (fd > highest) highest = fd;
  }
  if (fd < 0) say("held %ld, highest fd %d, then %s", held, highest, errname(errno));
  else say("held %ld, highest fd %d, no failure", held, highest);
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 2 && strcmp(argv[1], "--hold") == 0) return hold(atol(argv[2]));
  long n = argc > 1 ? atol(argv[1]) : 100000;
  if (n < 1) { say("usage: openclose N"); return 2; }
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (long i = 0; i < n; i++) {
    int fd = open("/dev/null", O_RDONLY);
    if (fd < 0) { say("openclose: open failed at %ld: %s", i, errname(errno)); return 1; }
    if (close(fd) != 0) { say("openclose: close failed at %ld: %s", i, errname(errno)); return 1; }
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  double ns = (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
  say("openclose %ld iterations: %.1f ns per iteration", n, ns / (double)n);
  return 0;
}
