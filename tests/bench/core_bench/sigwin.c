/* How often a signal interrupts a descriptor call that Linux never interrupts: dup + fcntl(F_GETFD) + close
 * (or, with "open", open("/dev/null") + close), N times (default 5000), while an interval timer sends SIGALRM
 * every PERIOD microseconds (default 50) to a handler installed without SA_RESTART. Natively none of these calls
 * fails with EINTR. A call the LiteBox core stops (a seccomp user notification) fails so when the signal
 * arrives before the core has received it: the core stops none of dup, fcntl and close (0 expected), but it
 * does stop path opens (the residual the "open" variant measures).
 * Prints one line: the signals delivered and the calls that failed with EINTR.
 * Usage: sigwin [N [PERIOD_US [open]]]. Built static by tests/bench/core-vs-runc.sh and tests/core. */
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

/* After a failed call: counts an EINTR and returns 1, or reports any other error and returns 0. */
static int interrupted_by_signal(const char* call, long* interrupted) {
  if (errno != EINTR) {
    fprintf(stderr, "sigwin: %s: %s\n", call, strerror(errno));
    return 0;
  }
  ++*interrupted;
  return 1;
}

int main(int argc, char** argv) {
  const long n = argc > 1 ? atol(argv[1]) : 5000;
  const long period_us = argc > 2 ? atol(argv[2]) : 50;
  const int opens = argc > 3 && strcmp(argv[3], "open") == 0;
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
    while ((fd = opens ? open("/dev/null", O_RDONLY | O_CLOEXEC) : dup(1)) < 0) {
      if (!interrupted_by_signal(opens ? "open" : "dup", &interrupted)) return 1;
    }
    if (!opens && fcntl(fd, F_GETFD) < 0 && !interrupted_by_signal("fcntl", &interrupted)) return 1;
    /* A close that fails so leaves the descriptor open: the core never saw the call. */
    while (close(fd) != 0) {
      if (!interrupted_by_signal("close", &interrupted)) return 1;
    }
  }
  struct itimerval off;
  memset(&off, 0, sizeof off);
  setitimer(ITIMER_REAL, &off, NULL);
  printf("%ld %ld\n", (long)signals, interrupted);
  return 0;
}
