/* hog SECONDS: keeps one CPU busy for SECONDS (the CPU load of core_containerd_test.sh's signal checks, so that
 * the core's receiving threads compete with runnable work). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char** argv) {
  const long seconds = argc > 1 ? atol(argv[1]) : 10;
  if (seconds < 1) {
    fprintf(stderr, "usage: hog SECONDS\n");
    return 2;
  }
  const time_t end = time(NULL) + seconds;
  volatile unsigned long spin = 0;
  while (time(NULL) < end) {
    for (int i = 0; i < 1000000; i++) spin++;
  }
  return 0;
}
