/* scmrights [DIR]: two processes over a socketpair. The sender (a forked child) opens a file it wrote and
 * sends it with SCM_RIGHTS (twice: the second time with a pipe's write end too, received with
 * MSG_CMSG_CLOEXEC); the receiver reads through the received descriptor, opens more files and checks that
 * none of them gets a number still held by a received descriptor, dup()s it, closes, and reads through the
 * dup. Prints a deterministic transcript (numbers, errno names, data). */
#define _GNU_SOURCE
#include "core_test_common.h"

#include <sys/socket.h>
#include <sys/wait.h>

static char dir[512];

static int send_fds(int sock, const int *fds, int n, const char *tag) {
  char cbuf[CMSG_SPACE(sizeof(int) * 4)];
  memset(cbuf, 0, sizeof cbuf);
  struct iovec iov = {.iov_base = (void *)tag, .iov_len = strlen(tag)};
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = CMSG_SPACE(sizeof(int) * n)};
  struct cmsghdr *c = CMSG_FIRSTHDR(&m);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int) * n);
  memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
  return (int)sendmsg(sock, &m, 0);
}

static int recv_fds(int sock, int *fds, int max, char *tag, size_t tagsz, int flags) {
  char cbuf[CMSG_SPACE(sizeof(int) * 4)];
  struct iovec iov = {.iov_base = tag, .iov_len = tagsz - 1};
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
  ssize_t r = recvmsg(sock, &m, flags);
  if (r < 0) return -1;
  tag[r] = 0;
  int n = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
    for (int i = 0; i < k && n < max; i++) memcpy(&fds[n++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
  }
  return n;
}

static int fdgetfd(int fd) { return fcntl(fd, F_GETFD); }

int main(int argc, char **argv) {
  const char *base = argc > 1 ? argv[1] : "/tmp";
  snprintf(dir, sizeof dir, "%s/scmrights.XXXXXX", base);
  if (!mkdtemp(dir)) { say("mkdtemp: %s", errname(errno)); return 1; }
  char file[600];
  snprintf(file, sizeof file, "%s/payload", dir);
  list_fds("at start");
  int sv[2];
  int r = socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
  say("socketpair %s [%d,%d]", R(r), sv[0], sv[1]);
  pid_t pid = fork();
  if (pid == 0) {
    /* The sender's lines after its first send are kept and printed at its end (after the receiver wrote to
     * the pipe and before it prints again), so that the transcript's order never depends on scheduling. */
    char later[512];
    int len = 0;
    close(sv[0]);
    int f = open(file, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (write(f, "payload through SCM_RIGHTS", 26) != 26) _exit(3);
    lseek(f, 0, SEEK_SET);
    say("sender: open(payload) %s", R(f));
    int s1 = send_fds(sv[1], &f, 1, "one");
    len += snprintf(later + len, sizeof later - len, "sender: sendmsg(1 fd) %s\n", R(s1));
    int p[2];
    if (pipe(p) != 0) _exit(4);
    int two[2] = {f, p[1]};
    int s2 = send_fds(sv[1], two, 2, "two");
    len += snprintf(later + len, sizeof later - len, "sender: sendmsg(2 fds) %s\n", R(s2));
    close(f);
    close(p[1]);
    char c;
    ssize_t n = read(p[0], &c, 1); /* the receiver writes through the pipe it was sent */
    len += snprintf(later + len, sizeof later - len, "sender: read from its pipe %s '%c'\n", R(n), n == 1 ? c : '?');
    if (write(1, later, (size_t)len) != len) _exit(5);
    _exit(0);
  }
  close(sv[1]);
  char tag[16];
  int got[4];
  int n = recv_fds(sv[0], got, 4, tag, sizeof tag, 0);
  say("receiver: recvmsg \"%s\" %d fd(s): %d cloexec=%d", tag, n, n > 0 ? got[0] : -1, n > 0 ? fdgetfd(got[0]) : -1);
  if (n < 1) return 1;
  int rfd = got[0];
  char buf[64] = {0};
  ssize_t rd = read(rfd, buf, 7);
  say("receiver: read(%d) %s \"%s\"", rfd, R(rd), buf);
  int opened[6], clash = 0;
  for (int i = 0; i < 6; i++) {
    opened[i] = open("/dev/null", O_RDONLY);
    if (opened[i] == rfd) clash = 1;
  }
  say("receiver: 6 x open(/dev/null) = %d %d %d %d %d %d%s", opened[0], opened[1], opened[2], opened[3], opened[4],
      opened[5], clash ? " CLASH with the received fd" : "");
  int d = dup(rfd);
  say("receiver: dup(%d) %s", rfd, R(d));
  r = close(rfd);
  say("receiver: close(%d) %s", rfd, R(r));
  memset(buf, 0, sizeof buf);
  rd = read(d, buf, sizeof buf - 1); /* the offset is shared with the sender's (closed) descriptor */
  say("receiver: read(%d) %s \"%s\"", d, R(rd), buf);
  for (int i = 0; i < 6; i++) close(opened[i]);
  n = recv_fds(sv[0], got, 4, tag, sizeof tag, MSG_CMSG_CLOEXEC);
  say("receiver: recvmsg(MSG_CMSG_CLOEXEC) \"%s\" %d fd(s): %d %d cloexec=%d,%d", tag, n, got[0], n > 1 ? got[1] : -1,
      fdgetfd(got[0]), n > 1 ? fdgetfd(got[1]) : -1);
  if (n == 2) {
    ssize_t w = write(got[1], "!", 1);
    int e = errno;
    int st = 0;
    waitpid(pid, &st, 0); /* the sender prints its lines, then this one */
    say("receiver: write(%d) to the sender's pipe %s", got[1], res(w, e));
    close(got[0]);
    close(got[1]);
    say("sender: exit %d", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
  } else {
    int st = 0;
    waitpid(pid, &st, 0);
    say("sender: exit %d", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
  }
  close(d);
  close(sv[0]);
  unlink(file);
  rmdir(dir);
  list_fds("at end");
  return clash;
}
