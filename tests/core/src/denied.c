/* denied: the descriptor kinds the LiteBox core refuses (they would hand out descriptors or kernel objects
 * it cannot account for). Each call's result as "name = -1 ENAME" (or "= N" if it was allowed). Natively, as
 * root, most of these succeed: the test driver runs it only with the core on. */
#define _GNU_SOURCE
#include "core_test_common.h"

#include <linux/fanotify.h>
#include <sys/syscall.h>

#ifndef SYS_io_uring_setup
#define SYS_io_uring_setup 425
#endif
#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_fsopen
#define SYS_fsopen 430
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

int main(void) {
  char params[120] = {0}; /* struct io_uring_params */
  char attr[128] = {0};   /* union bpf_attr / struct perf_event_attr, zeroed */
  struct { unsigned int bytes; int type; unsigned char h[8]; } handle = {8, 1, {0}};
  say("io_uring_setup %s", R(syscall(SYS_io_uring_setup, 1, params)));
  say("bpf(BPF_MAP_CREATE) %s", R(syscall(SYS_bpf, 0, attr, sizeof attr)));
  unsigned int *pe = (unsigned int *)attr;
  pe[0] = 1;    /* PERF_TYPE_SOFTWARE */
  pe[1] = 112;  /* size: PERF_ATTR_SIZE_VER7 */
  say("perf_event_open %s", R(syscall(SYS_perf_event_open, attr, 0, -1, -1, 0)));
  say("userfaultfd %s", R(syscall(SYS_userfaultfd, O_CLOEXEC)));
  say("fanotify_init %s", R(syscall(SYS_fanotify_init, FAN_CLASS_NOTIF, O_RDONLY)));
  say("open_by_handle_at %s", R(syscall(SYS_open_by_handle_at, AT_FDCWD, &handle, O_RDONLY)));
  say("fsopen(tmpfs) %s", R(syscall(SYS_fsopen, "tmpfs", 0)));
  say("open_tree(/) %s", R(syscall(SYS_open_tree, AT_FDCWD, "/", 1 /* OPEN_TREE_CLONE */)));
  int self = (int)syscall(SYS_pidfd_open, getpid(), 0);
  say("pidfd_getfd(self,0) %s", R(syscall(SYS_pidfd_getfd, self, 0, 0)));
  return 0;
}
