/* closereuse: a number one thread closes, then gets again from a call the kernel runs itself, while the
 * closing thread waits in a call the core never sees (read). The core lets the kernel do every close; until it
 * knows the close is done it must not adopt the old object back under that number, but the new object (here
 * socketpair's, as accept4's or a received SCM_RIGHTS descriptor would be) is the guest's to use: F_GETFD,
 * dup and close on it behave as on Linux. Found with Go, whose threads park in futex and epoll_wait.
 * Prints a deterministic transcript. */
#define _GNU_SOURCE
#include "core_test_common.h"

#include <pthread.h>
#include <sys/socket.h>

static int victim, to_main[2], to_closer[2];

static void *closer(void *arg) {
  (void)arg;
  char c = 1;
  say("closer: close(%d) %s", victim, R(close(victim)));
  if (write(to_main[1], &c, 1) != 1) return NULL;
  if (read(to_closer[0], &c, 1) != 1) return NULL; /* parked in a call the core does not stop */
  return NULL;
}

int main(void) {
  if (pipe(to_main) != 0 || pipe(to_closer) != 0) return 1;
  victim = open("/dev/null", O_RDONLY | O_CLOEXEC);
  say("open /dev/null = %d", victim);
  for (int round = 0; round < 3; round++) {
    pthread_t t;
    if (pthread_create(&t, NULL, closer, NULL) != 0) return 1;
    char c;
    if (read(to_main[0], &c, 1) != 1) return 1;
    int sv[2];
    const char *made = R(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
    say("round %d: socketpair %s [%d,%d]", round, made, sv[0], sv[1]);
    const int reused = sv[1] == victim ? sv[1] : sv[0];
    say("  got the closed number %d again: %s", victim, reused == victim ? "yes" : "no");
    say("  fcntl(%d, F_GETFD) %s", reused, R(fcntl(reused, F_GETFD)));
    int d = dup(reused);
    say("  dup(%d) %s", reused, res(d, errno));
    if (d >= 0) say("  close(dup) %s", R(close(d)));
    say("  close(%d) %s", reused, R(close(reused)));
    say("  fcntl(%d, F_GETFD) after close %s", reused, R(fcntl(reused, F_GETFD)));
    if (write(to_closer[1], &c, 1) != 1) return 1;
    pthread_join(t, NULL);
    victim = reused == sv[0] ? sv[1] : sv[0]; /* the next round's thread closes the peer */
  }
  list_fds("at end");
  return 0;
}
