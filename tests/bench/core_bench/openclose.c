/* open("/dev/null") + close, N times (default 200000), or until MAX_SECONDS have passed (default: no limit);
 * prints one line: the mean nanoseconds per iteration, the iterations done, and the nanoseconds per
 * iteration of the first and of the last 1% of them (chunks of N/100 iterations; equal figures mean a cost
 * that does not grow with the number of descriptors opened so far).
 * Built static (-static -O2) by tests/bench/core-vs-runc.sh and run inside the containers it compares, where
 * each call may go through the LiteBox core (seccomp user notification). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int loop(long n) {
  for (long i = 0; i < n; i++) {
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      perror("openclose: open /dev/null");
      return -1;
    }
    if (close(fd) != 0) {
      perror("openclose: close");
      return -1;
    }
  }
  return 0;
}

static long parse(const char* s, long min) {
  char* end;
  long v = strtol(s, &end, 10);
  if (*end != '\0' || v < min) {
    fprintf(stderr, "usage: openclose [N [MAX_SECONDS]]   (N >= 1, default 200000; MAX_SECONDS >= 1)\n");
    exit(2);
  }
  return v;
}

int main(int argc, char** argv) {
  long n = argc > 1 ? parse(argv[1], 1) : 200000;
  long long max_ns = argc > 2 ? parse(argv[2], 1) * 1000000000LL : 0;
  long chunk = n / 100 > 0 ? n / 100 : 1;
  /* A short warm-up (page faults, the first notifications), not timed. */
  if (loop(chunk) != 0) return 1;
  long long start = now_ns(), chunk_start = start, first_ns = -1, last_ns = 0;
  long done = 0;
  while (done < n) {
    long this_chunk = n - done < chunk ? n - done : chunk;
    if (loop(this_chunk) != 0) return 1;
    done += this_chunk;
    long long t = now_ns();
    last_ns = (t - chunk_start) / this_chunk;
    if (first_ns < 0) first_ns = last_ns;
    chunk_start = t;
    if (max_ns > 0 && t - start >= max_ns) break;
  }
  printf("%.1f %ld %lld %lld\n", (double)(now_ns() - start) / (double)done, done, first_ns, last_ns);
  return 0;
}
