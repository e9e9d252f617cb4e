/* sigstorm PID SIGNAL PERIOD_US SECONDS: sends SIGNAL to PID every PERIOD_US microseconds for SECONDS, or until
 * PID is gone. The signal storm of core_containerd_test.sh's signal checks: SIGCHLD to a busybox shell, whose
 * handler lacks SA_RESTART, so that any of its calls the core stops would fail with EINTR if a signal reached
 * it before the core received the call. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static long parse(const char* text, long min) {
  char* end;
  const long value = strtol(text, &end, 10);
  if (*end != '\0' || value < min) {
    fprintf(stderr, "usage: sigstorm PID SIGNAL PERIOD_US SECONDS\n");
    exit(2);
  }
  return value;
}

int main(int argc, char** argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: sigstorm PID SIGNAL PERIOD_US SECONDS\n");
    return 2;
  }
  const pid_t pid = (pid_t)parse(argv[1], 1);
  const int signo = (int)parse(argv[2], 1);
  const long period_us = parse(argv[3], 1);
  const long seconds = parse(argv[4], 1);
  struct timespec start, now;
  const struct timespec nap = {period_us / 1000000, (period_us % 1000000) * 1000};
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    if (kill(pid, signo) != 0) break; /* the target is gone */
    nanosleep(&nap, NULL);
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec - start.tv_sec >= seconds) break;
  }
  return 0;
}
