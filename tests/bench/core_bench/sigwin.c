/* How often a signal interrupts a descriptor call that Linux never interrupts: dup + fcntl(F_GETFD) + close,
 * N times (default 5000), while an interval timer sends SIGALRM every PERIOD microseconds (default 50) to a
 * handler installed without SA_RESTART. Natively none of these calls fails with EINTR. Under the LiteBox core
 * each is a seccomp user-notification stop, and a signal that arrives before the core has received the call
 * makes the kernel fail it with EINTR (a kernel limitation before SECCOMP_FILTER_FLAG_RESTART_BEFORE_RECV).
 * Prints one line: the signals delivered and the calls that failed with EINTR.
 * Built static by tests/bench/core-vs-runc.sh and run inside the containers it compares. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

static volatile sig_atomic_t signals;
static void count_signal(int signo) {
  (void)signo;
  signals++;
}

int main(int argc, char** argv) {
  const long n = argc > 1 ? atol(argv[1]) : 5000;
  const long period_us = argc > 2 ? atol(argv[2]) : 50;
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = count_signal; /* sa_flags 0: no SA_RESTART, as busybox sh's handlers */
  if (sigaction(SIGALRM, &action, NULL) != 0) {
    perror("sigwin: sigaction");
    return 1;
  }
  struct itimerval timer = {{0, period_us}, {0, period_us}};
  if (setitimer(ITIMER_REAL, &timer, NULL) != 0) {
    perror("sigwin: setitimer");
    return 1;
  }
  long interrupted = 0;
  for (long i = 0; i < n; i++) {
    int fd;
    while ((fd = dup(1)) < 0) {
      if (errno != EINTR) {
        perror("sigwin: dup");
        return 1;
      }
      interrupted++;
    }
    if (fcntl(fd, F_GETFD) < 0) {
      if (errno != EINTR) {
        perror("sigwin: fcntl");
        return 1;
      }
      interrupted++;
    }
    while (close(fd) != 0) {
      if (errno != EINTR) {
        perror("sigwin: close");
        return 1;
      }
      interrupted++; /* the descriptor is still open: the core never saw the call */
    }
  }
  struct itimerval off;
  memset(&off, 0, sizeof off);
  setitimer(ITIMER_REAL, &off, NULL);
  printf("%ld %ld\n", (long)signals, interrupted);
  return 0;
}
