// Where the time of one call the LiteBox core serves goes, in one run on this machine:
//  1. The physical limit: a guest's stopped getppid answered at once with a value by a thread that does
//     nothing else (SECCOMP_IOCTL_NOTIF_RECV + SEND), i.e. what any call answered from the core's table costs:
//     the notification round trip, two context switches. With the synchronous wake-up alone (what the core's
//     receiving threads use) and with it plus SCHED_FIFO; and answered with a descriptor (ADDFD with SEND), the
//     way the core answers an open.
//  2. The core itself: a guest under the core's real filter, served by a real CoreService in this process,
//     opening /dev/null and closing it (close is not stopped) N times; the service's profile splits each
//     served open into its phases (reading the path, the credentials, the root, the probe, the open, ADDFD, the
//     mirror), and the rest of the guest's time per call is the round trip itself.
//  3. The same loop natively, for the ratio; and a call the core answers from its own policy without ADDFD (a
//     refused io_uring_setup, ENOSYS) through the same service: the whole cost of one served call that needs
//     no object.
// Usage: core_call_bench [N]   (root; default N 20000). A program, not a test: it prints figures.
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "litebox/linux/core/core_filter.hpp"
#include "litebox/linux/core/core_service.hpp"
#include "litebox/linux/core/seccomp_notify.hpp"
#include "litebox/linux/unix_socket.hpp"

#include <spdlog/spdlog.h>

namespace core = litebox::linux_host::core;

namespace {

double now_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

// The guest's loops. Each reports nanoseconds per iteration; -1 on a failure.
double open_close_loop(long n) {
  for (long i = 0; i < n / 10 + 1; ++i) {  // warm-up, untimed
    const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ::close(fd);
  }
  const double start = now_ns();
  for (long i = 0; i < n; ++i) {
    const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ::close(fd);
  }
  return (now_ns() - start) / static_cast<double>(n);
}

// With `installed`, the server answers each getppid with a new descriptor (ADDFD with SEND), which is closed.
double refused_loop(long n) {
  char params[120] = {};
  for (long i = 0; i < n / 10 + 1; ++i) ::syscall(SYS_io_uring_setup, 1, params);
  const double start = now_ns();
  for (long i = 0; i < n; ++i) {
    if (::syscall(SYS_io_uring_setup, 1, params) != -1 || errno != ENOSYS) return -1;
  }
  return (now_ns() - start) / static_cast<double>(n);
}

double getppid_loop(long n, bool installed) {
  for (long i = 0; i < n / 10 + 1; ++i) {
    const long r = ::syscall(SYS_getppid);
    if (installed && r >= 0) ::close(static_cast<int>(r));
  }
  const double start = now_ns();
  for (long i = 0; i < n; ++i) {
    const long r = ::syscall(SYS_getppid);
    if (installed) {
      if (r < 0) return -1;
      ::close(static_cast<int>(r));
    } else if (r != 42) {  // the server answers 42
      return -1;
    }
  }
  return (now_ns() - start) / static_cast<double>(n);
}

// Runs `body` in a child process and returns what it wrote (one double), or -1. `parent` runs here meanwhile,
// before the result is read (false: give up, the child is killed).
template <typename Body, typename Parent>
double in_child(Body body, Parent parent) {
  int result_pipe[2];
  if (::pipe2(result_pipe, O_CLOEXEC) != 0) return -1;
  const pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    ::close(result_pipe[0]);
    const double value = body();
    (void)!::write(result_pipe[1], &value, sizeof value);
    ::_exit(value < 0 ? 1 : 0);
  }
  ::close(result_pipe[1]);
  double value = -1;
  if (!parent()) {
    ::kill(pid, SIGKILL);
  } else if (::read(result_pipe[0], &value, sizeof value) != static_cast<ssize_t>(sizeof value)) {
    value = -1;
  }
  ::close(result_pipe[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return value;
}

template <typename Body>
double in_child(Body body) {
  return in_child(body, [] { return true; });
}

// 1: the child's getppid stopped by a minimal filter, answered by a thread here that does nothing else: with
// 42, or (`installed`) with a descriptor for /dev/null put into the child by SECCOMP_IOCTL_NOTIF_ADDFD with SEND,
// the way the core answers an open.
double bare_round_trip(long n, bool fifo, bool installed) {
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) return -1;
  const auto guest = [&] {
    ::close(pair[0]);
    sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    sock_fprog program{static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -1.0;
    const int listener = static_cast<int>(::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
                                                    SECCOMP_FILTER_FLAG_NEW_LISTENER, &program));
    char go = 0;
    if (listener < 0 || litebox::linux_host::send_with_descriptor(pair[1], "l", listener) != 0) return -1.0;
    ::close(listener);
    if (::read(pair[1], &go, 1) != 1) return -1.0;
    return getppid_loop(n, installed);
  };
  const int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  int listener = -1;
  std::thread server;
  const auto serve = [&] {
    ::close(pair[1]);
    char byte[8];
    if (litebox::linux_host::receive_with_descriptor(pair[0], byte, sizeof byte, listener) <= 0 || listener < 0) {
      return false;
    }
    server = std::thread([listener, fifo, installed, null] {
      (void)core::request_sync_wake_up(listener);
      if (fifo) {
        sched_param param{};
        param.sched_priority = 1;
        (void)::pthread_setschedparam(::pthread_self(), SCHED_FIFO, &param);
      }
      core::Notification note;
      for (;;) {
        if (core::receive_notification(listener, note) < 0) return;  // -ENOENT: the child is gone
        if (installed) {
          (void)core::add_descriptor(listener, note.id, null, -1, true, true);
        } else {
          (void)core::respond_value(listener, note.id, 42);
        }
      }
    });
    return ::write(pair[0], "g", 1) == 1;
  };
  const double value = in_child(guest, serve);
  // The child is gone: the filter has no users, and RECV fails from now on, which ends the server's loop.
  if (server.joinable()) server.join();
  if (listener >= 0) ::close(listener);
  ::close(null);
  ::close(pair[0]);
  return value;
}

}  // namespace

int main(int argc, char** argv) {
  const long n = argc > 1 ? std::atol(argv[1]) : 20000;
  if (n < 100) {
    std::fprintf(stderr, "usage: core_call_bench [N >= 100]\n");
    return 2;
  }
  if (::geteuid() != 0) {
    std::fprintf(stderr, "core_call_bench: needs root (the core acts with guests' credentials)\n");
    return 2;
  }
  char kernel[128] = "";
  if (FILE* f = std::fopen("/proc/sys/kernel/osrelease", "r")) {
    if (std::fgets(kernel, sizeof kernel, f) == nullptr) kernel[0] = 0;
    std::fclose(f);
    kernel[std::strcspn(kernel, "\n")] = 0;
  }
  std::printf("core_call_bench: kernel %s, %u CPUs, %ld calls per figure\n", kernel,
              std::thread::hardware_concurrency(), n);

  // 3. Native first (no filter in this process, ever).
  const double native = in_child([n] { return open_close_loop(n); });

  // 1. The bare round trip.
  const double bare_sync = bare_round_trip(n, false, false);
  const double bare_fifo = bare_round_trip(n, true, false);
  const double bare_addfd = bare_round_trip(n, false, true);
  const double bare_addfd_fifo = bare_round_trip(n, true, true);
  const double native_call = in_child([n] {
    const double start = now_ns();
    for (long i = 0; i < n; ++i) ::syscall(SYS_getppid);
    return (now_ns() - start) / static_cast<double>(n);
  });

  // 2. The core.
  auto program = core::compile_core_filter(core::CoreFilterScope::opens);
  if (!program) {
    std::fprintf(stderr, "core_call_bench: %s\n", program.error().message.c_str());
    return 1;
  }
  core::CoreService service;
  service.add_container("bench", {});
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) return 1;
  if (auto st = service.add_channel("bench", pair[0]); !st) {
    std::fprintf(stderr, "core_call_bench: %s\n", st.error().message.c_str());
    return 1;
  }
  service.set_profiling(true);
  double refused = -1;
  const double served = in_child([&] {
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -1.0;
    if (auto st = core::install_core_filter(program.value(), pair[1], ::getpid()); !st) return -1.0;
    return open_close_loop(n);
  });
  ::close(pair[1]);
  const auto profile = service.profile();
  // The refused call, in a second guest of the same service (the refusals are logged at warn: not here).
  spdlog::set_level(spdlog::level::err);
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0 && service.add_channel("bench", pair[0])) {
    refused = in_child([&] {
      if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -1.0;
      if (auto st = core::install_core_filter(program.value(), pair[1], ::getpid()); !st) return -1.0;
      return refused_loop(n);
    });
    ::close(pair[1]);
  }

  if (native < 0 || served < 0 || refused < 0 || bare_sync < 0 || bare_fifo < 0 || bare_addfd < 0 ||
      bare_addfd_fifo < 0) {
    std::fprintf(stderr, "core_call_bench: a loop failed (native %.0f, core %.0f, bare %.0f/%.0f)\n", native, served,
                 bare_sync, bare_fifo);
    return 1;
  }
  const double per_open = profile.calls > 0 ? 1.0 / static_cast<double>(profile.calls) : 0;
  std::printf("\n%-58s %9.2f us\n", "native open(\"/dev/null\") + close", native / 1000);
  std::printf("%-58s %9.2f us  (%.1fx native)\n", "under the core: open (served) + close (native)", served / 1000,
              served / native);
  std::printf("  the core's time per served open (%llu profiled calls):\n",
              static_cast<unsigned long long>(profile.calls));
  double in_shim = 0;
  for (std::size_t i = 0; i < core::kCorePhaseCount; ++i) {
    const double us = static_cast<double>(profile.ns[i]) * per_open / 1000;
    in_shim += us;
    std::printf("    %-54s %9.2f us\n", std::string(core::core_phase_name(static_cast<core::CorePhase>(i))).c_str(), us);
  }
  std::printf("    %-54s %9.2f us\n", "sum in the shim", in_shim);
  std::printf("    %-54s %9.2f us\n", "the rest: round trip (stop, wake-ups, switches) + close", served / 1000 - in_shim);
  std::printf("\n%-58s %9.2f us\n", "a call the core answers itself (io_uring_setup: ENOSYS)", refused / 1000);
  std::printf("%-58s %9.2f us\n", "bare round trip, a call answered with a value (sync wake-up)", bare_sync / 1000);
  std::printf("%-58s %9.2f us\n", "bare round trip, sync wake-up + SCHED_FIFO", bare_fifo / 1000);
  std::printf("%-58s %9.2f us\n", "bare round trip answered by ADDFD (+ the guest's close)", bare_addfd / 1000);
  std::printf("%-58s %9.2f us\n", "the same under SCHED_FIFO", bare_addfd_fifo / 1000);
  std::printf("%-58s %9.2f us\n", "native getppid (for scale: one system call)", native_call / 1000);
  return 0;
}
