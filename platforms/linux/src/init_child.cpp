// The container's init (and exec'd processes) between fork and execve. Runs after fork of a possibly
// multi-threaded runtime: no logging; every failure goes back to the runtime over the sync channel.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "init_plan.hpp"
#include "litebox/linux/core/core_filter.hpp"
#include "litebox/linux/devices.hpp"
#include "litebox/linux/executable_lookup.hpp"
#include "litebox/linux/seccomp_listener.hpp"
#include "litebox/linux/hooks.hpp"
#include "root_setup.hpp"

namespace litebox::linux_host::detail {
namespace {

[[noreturn]] void fail(SyncChannel& sync, const Error& error) {
  (void)sync.send(SyncType::error, error.code, error.message);
  ::_exit(1);
}

void check(SyncChannel& sync, const Status& status) {
  if (!status) fail(sync, status.error());
}

// Opens a new terminal in the container's devpts, makes /dev/console its slave, and hands the master to the
// runtime. Returns the slave.
Expected<int> open_terminal(SyncChannel& sync, bool bind_console) {
  const int master = ::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) return Error::from_errno("open /dev/ptmx in the container");
  if (::unlockpt(master) != 0) return Error::from_errno("unlockpt");
  const int slave = ::ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) return Error::from_errno("open the terminal's slave");
  char name[128];
  if (::ptsname_r(master, name, sizeof name) != 0) return Error::from_errno("ptsname");
  // /dev/console: a bind of the slave, as runc does, so programs that write to the console reach it. The
  // root has already changed: "/" is the container's.
  if (bind_console) {
    const int root = ::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root < 0) return Error::from_errno("open the container's root");
    auto bound = mount_console(root, "/", name);
    ::close(root);
    if (!bound) return std::move(bound).error();
  }
  if (auto st = sync.send(SyncType::console, 0, name, master); !st) return std::move(st).error();
  ::close(master);
  return slave;
}

// A SCMP_ACT_NOTIFY listener goes to the spec's listenerPath with the container's state; then we close it.
Status send_listener(const InitPlan& plan, int listener) {
  if (listener < 0) return {};
  oci::State state = plan.hook_state;
  state.status = oci::Status::creating;
  auto sent = send_seccomp_listener(plan.process.seccomp->listener_path, oci::to_json(state, oci::JsonStyle::compact),
                                    listener);
  ::close(listener);
  return sent;
}

// The runtime may block or catch signals (a `run` forwarding them, a shim); the container starts clean.
void reset_signals() {
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) ::signal(sig, SIG_DFL);
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

}  // namespace

[[noreturn]] void run_init(InitPlan& plan, SyncChannel& sync) {
  reset_signals();
  auto go = sync.expect(SyncType::go);
  if (!go) ::_exit(1);
  // The state document hooks read on stdin, with the pid in the runtime's namespace.
  plan.hook_state.pid = static_cast<int>(go.value().value);
  const std::string state_json = oci::to_json(plan.hook_state, oci::JsonStyle::compact);

  check(sync, join_namespaces(plan.late_joins));
  if (plan.namespaces.new_cgroup && ::unshare(CLONE_NEWCGROUP) != 0) {
    fail(sync, Error::from_errno("unshare cgroup namespace"));
  }
  if (::setsid() < 0) fail(sync, Error::from_errno("setsid"));

  if (!plan.is_exec) {
    check(sync, prepare_root(plan));
    // prestart and createRuntime hooks run in the runtime while the mounts are done and the root not yet
    // changed; createContainer hooks run here, in the container's namespaces.
    check(sync, sync.send(SyncType::run_hooks));
    if (auto done = sync.expect(SyncType::hooks_done); !done) ::_exit(1);
    if (plan.spec.hooks) check(sync, run_hooks(plan.spec.hooks->create_container, state_json, "createContainer"));
    check(sync, enter_root(plan));
    if (plan.namespaces.new_uts) {
      if (!plan.spec.hostname.empty() &&
          ::sethostname(plan.spec.hostname.data(), plan.spec.hostname.size()) != 0) {
        fail(sync, Error::from_errno("sethostname " + plan.spec.hostname));
      }
      if (!plan.spec.domainname.empty() &&
          ::setdomainname(plan.spec.domainname.data(), plan.spec.domainname.size()) != 0) {
        fail(sync, Error::from_errno("setdomainname " + plan.spec.domainname));
      }
    }
  }

  const bool terminal = plan.spec.process && plan.spec.process->terminal;
  if (terminal) {
    auto slave = open_terminal(sync, /*bind_console=*/!plan.is_exec);
    if (!slave) fail(sync, slave.error());
    for (int guest = 0; guest < 3; ++guest) {
      for (auto& d : plan.descriptors) {
        if (d.guest == guest) d.host = slave.value();
      }
    }
  }

  if (!plan.is_exec) check(sync, finish_root(plan));
  int sync_fd = sync.fd();
  check(sync, realize_descriptors(plan.descriptors, {&sync_fd, &plan.exec_fifo, &plan.core_channel}));
  *sync.fd_ptr() = sync_fd;
  if (terminal && ::ioctl(STDIN_FILENO, TIOCSCTTY, 0) != 0) fail(sync, Error::from_errno("set controlling terminal"));

  // runc's order: credentials, capabilities and (without noNewPrivileges) seccomp; then the working
  // directory and the program, both checked with the process's own ids.
  // The LiteBox core's filter goes right after the spec's: here, without noNewPrivileges (loading needs
  // CAP_SYS_ADMIN, which the capability drop inside apply_process_plan takes away); with it, last, below.
  // Its pid: the process's in the runtime's namespace, from `go`.
  ProcessSetupOptions options;
  options.find_executable = false;
  options.load_late_seccomp = false;
  if (plan.core_program && plan.core_channel >= 0) {
    options.core_program = &*plan.core_program;
    options.core_channel = plan.core_channel;
    options.core_pid = static_cast<pid_t>(plan.hook_state.pid);
  }
  auto applied = apply_process_plan(plan.process, options);
  if (!applied) fail(sync, applied.error());
  if (applied.value().core_filter_installed) plan.core_channel = -1;  // sent and closed
  check(sync, send_listener(plan, applied.value().seccomp_listener_fd));
  const std::string& cwd = plan.spec.process->cwd;
  if (::chdir(cwd.c_str()) != 0) fail(sync, Error::from_errno("chdir to cwd (\"" + cwd + "\") set in config.json"));
  auto program = find_executable(plan.process.args.front(), plan.process.path_variable);
  if (!program) fail(sync, program.error());
  plan.executable = std::move(program.value());
  check(sync, sync.send(SyncType::ready));

  if (!plan.is_exec) {
    // Park until `start` opens the FIFO for reading (runc's exec.fifo protocol).
    const std::string fifo = "/proc/self/fd/" + std::to_string(plan.exec_fifo);
    const int w = ::open(fifo.c_str(), O_WRONLY | O_CLOEXEC);
    if (w < 0 || ::write(w, "0", 1) != 1) {
      // The runtime that created us is gone: the container's stderr is where a person will look.
      const std::string text = "litebox-runtime: open the exec FIFO: " + std::string(::strerrordesc_np(errno)) + "\n";
      (void)!::write(STDERR_FILENO, text.data(), text.size());
      ::_exit(1);
    }
    ::close(w);
    ::close(plan.exec_fifo);
    if (plan.spec.hooks && !plan.spec.hooks->start_container.empty()) {
      if (auto st = run_hooks(plan.spec.hooks->start_container, state_json, "startContainer"); !st) {
        const std::string text = st.error().message + "\n";
        (void)!::write(STDERR_FILENO, text.data(), text.size());
        ::_exit(1);
      }
    }
  }
  // With noNewPrivileges the profile is loaded last, so it needs to allow as little of ours as possible.
  if (plan.process.seccomp && seccomp_load_point(plan.process.no_new_privileges) == SeccompLoadPoint::just_before_exec) {
    auto listener = load_seccomp_program(*plan.process.seccomp);
    Status sent = listener ? send_listener(plan, listener.value()) : Status(listener.error());
    if (!sent) {
      const std::string text = "litebox-runtime: load seccomp filter: " + sent.error().message + "\n";
      (void)!::write(STDERR_FILENO, text.data(), text.size());
      ::_exit(1);
    }
  }
  // The LiteBox core's filter with noNewPrivileges: the last thing before execve, after the spec's late
  // filter. From here every notified call waits for the core channel's receiver.
  if (plan.core_program && plan.core_channel >= 0) {
    if (Status installed = core::install_core_filter(*plan.core_program, plan.core_channel,
                                                     static_cast<pid_t>(plan.hook_state.pid));
        !installed) {
      // Only sendmsg, write and exit: a notified call could wait forever (see install_core_filter).
      if (plan.is_exec) (void)sync.send(SyncType::error, installed.error().code, installed.error().message);
      const std::string text = "litebox-runtime: " + installed.error().message + "\n";
      (void)!::write(STDERR_FILENO, text.data(), text.size());
      ::_exit(1);
    }
    plan.core_channel = -1;
  }
  // The sync channel is close-on-exec: for an exec'd process the runtime reads EOF on success, and the
  // error below otherwise.
  const Error error = execute(plan.executable, plan.process.args, plan.process.env);
  if (plan.is_exec) (void)sync.send(SyncType::error, error.code, error.message);
  const std::string text = "litebox-runtime: " + error.message + "\n";
  (void)!::write(STDERR_FILENO, text.data(), text.size());
  ::_exit(127);
}

}  // namespace litebox::linux_host::detail
