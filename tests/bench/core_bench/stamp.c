/* Prints CLOCK_MONOTONIC in nanoseconds: a timestamp for busybox shell scripts (busybox's date has no %N).
 * Built static by tests/bench/core-vs-runc.sh; a container shares the host's monotonic clock (no time
 * namespace), so stamps taken inside a container compare with each other. */
#include <stdio.h>
#include <time.h>

int main(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) return 1;
  printf("%lld\n", (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
  return 0;
}
