#include "litebox/linux/core/core_filter.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <memory>

#include "litebox/linux/unix_socket.hpp"

namespace litebox::linux_host::core {
namespace {

constexpr CoreSyscall serve(std::string_view name) { return CoreSyscall{name, CoreAction::serve, 0, {}}; }
constexpr CoreSyscall create(std::string_view name) { return CoreSyscall{name, CoreAction::create, 0, {}}; }
constexpr CoreSyscall deny(std::string_view name, int error, std::string_view why) {
  return CoreSyscall{name, CoreAction::deny, error, why};
}

// The errno of each refusal is the one the kernel itself gives when the feature is missing or forbidden, so
// programs take the path they already have for that case: ENOSYS where callers probe for a newer interface
// and fall back to an older one, EPERM where the call is privileged and callers expect to be refused.
//
// What is not here runs natively, and that is most of the descriptor calls: close, close_range, dup, dup2,
// dup3, fcntl, ioctl, socketpair, accept, accept4, pidfd_open, execve, execveat, unshare, clone, fork. A stopped
// call can be interrupted by a signal until the core has received it, and then fails with EINTR where its
// handler lacks SA_RESTART (a close that fails that way leaves the descriptor open and a shell pipeline waiting
// for EOF); these calls need nothing the kernel does not do itself, so they are not stopped, and the core's
// mirror of the table learns of them from the kernel when it next needs to (core_state.hpp).
constexpr std::array kPolicy{
    // Path opens: resolved by the core inside the caller's root, with its credentials; its own magic links
    // served from its own table, another process's refused.
    serve("open"), serve("openat"), serve("openat2"), serve("creat"),
    // Objects the core makes and installs, stopped only under a descriptor budget (which they count against).
    create("pipe"), create("pipe2"), create("socket"), create("eventfd"), create("eventfd2"),
    create("epoll_create"), create("epoll_create1"), create("signalfd"), create("signalfd4"),
    create("timerfd_create"), create("inotify_init"), create("inotify_init1"), create("memfd_create"),
    // Descriptor kinds outside the policy.
    deny("io_uring_setup", ENOSYS,
         "io_uring creates and uses descriptors behind the core's back; ENOSYS makes liburing users fall back to "
         "plain system calls"),
    deny("io_uring_enter", ENOSYS, "io_uring is not offered (see io_uring_setup); ENOSYS as on kernels without it"),
    deny("io_uring_register", ENOSYS,
         "io_uring is not offered (see io_uring_setup); ENOSYS as on kernels without it"),
    deny("bpf", EPERM, "BPF maps and programs are privileged kernel objects; EPERM as with unprivileged bpf disabled"),
    deny("perf_event_open", EPERM,
         "perf events are host-wide counters; EPERM is what perf_event_paranoid and container profiles give, which "
         "profilers and runtimes already handle by running without counters"),
    deny("userfaultfd", EPERM,
         "page-fault handling descriptors; EPERM as with vm.unprivileged_userfaultfd=0, programs fall back to "
         "ordinary memory"),
    deny("fanotify_init", EPERM, "file-system-wide event monitoring needs CAP_SYS_ADMIN on the host; EPERM as without it"),
    deny("open_by_handle_at", EPERM,
         "opens any file of a file system by handle, escaping the container's root; EPERM as without "
         "CAP_DAC_READ_SEARCH"),
    deny("fsopen", ENOSYS,
         "the new mount API hands out mount descriptors; ENOSYS makes libmount fall back to mount(2)"),
    deny("fsconfig", ENOSYS, "the new mount API is not offered (see fsopen); ENOSYS as on kernels without it"),
    deny("fsmount", ENOSYS, "the new mount API is not offered (see fsopen); ENOSYS as on kernels without it"),
    deny("fspick", ENOSYS, "the new mount API is not offered (see fsopen); ENOSYS as on kernels without it"),
    deny("open_tree", ENOSYS, "the new mount API is not offered (see fsopen); ENOSYS as on kernels without it"),
    deny("move_mount", ENOSYS, "the new mount API is not offered (see fsopen); ENOSYS as on kernels without it"),
    deny("mount_setattr", ENOSYS,
         "the new mount API is not offered (see fsopen); ENOSYS as on kernels without it, callers fall back to "
         "mount(2) with MS_REMOUNT"),
    deny("pidfd_getfd", EPERM,
         "copies a descriptor out of another process's table, which the core does not see; EPERM as when ptrace "
         "access is refused"),
    deny("seccomp", EBUSY,
         "only SECCOMP_SET_MODE_FILTER with SECCOMP_FILTER_FLAG_NEW_LISTENER: the core's filter already holds the "
         "process's listener and the kernel allows one; EBUSY is the kernel's own answer, and libseccomp's probe "
         "reads anything but EFAULT as \"no user notification\""),
};

// Native system call numbers of kPolicy, resolved once; negative for names this libseccomp does not know here.
const std::array<int, kPolicy.size()>& policy_numbers() noexcept {
  static const std::array<int, kPolicy.size()> numbers = [] {
    std::array<int, kPolicy.size()> resolved{};
    for (std::size_t i = 0; i < kPolicy.size(); ++i) {
      const std::string name(kPolicy[i].name);
      resolved[i] = seccomp_syscall_resolve_name(name.c_str());
    }
    return resolved;
  }();
  return numbers;
}

Error libseccomp_error(const std::string& what, int negative_errno) {
  return Error::from_errno(what, -negative_errno);
}

// seccomp's operation and flags are `unsigned int` in the kernel: only the low 32 bits of the register count.
// Comparing the whole 64-bit argument would let a caller set high bits and reach the kernel's
// SECCOMP_SET_MODE_FILTER without stopping; masking with 0xffffffff compares what the kernel will read.
constexpr scmp_datum_t kLow32 = 0xffffffffULL;

// SCMP_A0..5 build C99 compound literals, which C++ compilers warn about (clang's -Wc99-extensions).
scmp_arg_cmp arg_masked_eq(unsigned arg, scmp_datum_t mask, scmp_datum_t value) {
  return scmp_arg_cmp{arg, SCMP_CMP_MASKED_EQ, mask, value};
}

}  // namespace

std::span<const CoreSyscall> core_syscall_policy() noexcept { return kPolicy; }

const CoreSyscall* core_policy_for(int nr) noexcept {
  if (nr < 0) return nullptr;
  const auto& numbers = policy_numbers();
  for (std::size_t i = 0; i < kPolicy.size(); ++i) {
    if (numbers[i] == nr) return &kPolicy[i];
  }
  return nullptr;
}

Expected<SeccompProgram> compile_core_filter(CoreFilterScope scope) {
  SeccompProgram program;
  program.has_listener = true;
  program.load_flags = SECCOMP_FILTER_FLAG_NEW_LISTENER;
  if (!detail::kernel_accepts_seccomp_flags(program.load_flags)) {
    return Error{EINVAL, "the LiteBox core's filter: the running kernel has no seccomp user notification "
                         "(SECCOMP_FILTER_FLAG_NEW_LISTENER)"};
  }
  // Once the core has received a call, only a fatal signal may interrupt it (Linux 5.19+): an open of a file
  // never returns EINTR natively, and a signal between the core's install and its answer would leave the
  // guest with a descriptor it never learns about.
#ifdef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
  if (detail::kernel_accepts_seccomp_flags(program.load_flags | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)) {
    program.load_flags |= SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
  }
#endif
  // Before the core has received a call, a signal whose handler lacks SA_RESTART makes it fail with EINTR.
  // The core stops few calls for that reason (see kPolicy); the upstream fix (kees/for-next/seccomp, October
  // 2026, aimed at Linux 7.4) restarts such calls instead, and is used as soon as the headers and the kernel
  // have it.
#ifdef SECCOMP_FILTER_FLAG_RESTART_BEFORE_RECV
  if (detail::kernel_accepts_seccomp_flags(program.load_flags | SECCOMP_FILTER_FLAG_RESTART_BEFORE_RECV)) {
    program.load_flags |= SECCOMP_FILTER_FLAG_RESTART_BEFORE_RECV;
  }
#endif

  using FilterContext = std::unique_ptr<void, decltype(&seccomp_release)>;
  FilterContext context(seccomp_init(SCMP_ACT_ALLOW), &seccomp_release);
  if (!context) return Error{EINVAL, "the LiteBox core's filter: seccomp_init(SCMP_ACT_ALLOW) failed"};
  // The context holds the native architecture only. A call made through another ABI (x32 numbers, int 0x80)
  // has other numbers the rules do not match: it would run natively, so it kills the process instead.
  if (int rc = seccomp_attr_set(context.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS); rc != 0) {
    return libseccomp_error("the LiteBox core's filter: set the bad-architecture action", rc);
  }
  // Binary search over the rules instead of a linear chain: every system call goes through this filter.
  (void)seccomp_attr_set(context.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2);

  const auto& numbers = policy_numbers();
  for (std::size_t i = 0; i < kPolicy.size(); ++i) {
    const CoreSyscall& entry = kPolicy[i];
    if (entry.action == CoreAction::create && scope != CoreFilterScope::opens_and_creation) continue;
    const int nr = numbers[i];
    if (nr < 0) {
      // __NR_SCMP_ERROR: unknown to libseccomp; another negative: a pseudo-number, not on this architecture.
      program.notes.push_back("the LiteBox core's filter: syscall \"" + std::string(entry.name) + "\" is " +
                              (nr == __NR_SCMP_ERROR ? "unknown to " + detail::libseccomp_version_text()
                                                     : std::string("not on this architecture")) +
                              "; not filtered");
      continue;
    }
    auto add = [&](std::initializer_list<scmp_arg_cmp> conditions) -> Status {
      const std::vector<scmp_arg_cmp> list(conditions);
      if (int rc = seccomp_rule_add_exact_array(context.get(), SCMP_ACT_NOTIFY, nr,
                                                static_cast<unsigned>(list.size()), list.data());
          rc != 0) {
        return libseccomp_error("the LiteBox core's filter: add the rule for \"" + std::string(entry.name) + "\"", rc);
      }
      return {};
    };
    Status added;
    if (entry.name == "seccomp") {
      added = add({arg_masked_eq(0, kLow32, SECCOMP_SET_MODE_FILTER),
                   arg_masked_eq(1, SECCOMP_FILTER_FLAG_NEW_LISTENER, SECCOMP_FILTER_FLAG_NEW_LISTENER)});
    } else {
      added = add({});
    }
    if (!added) return std::move(added).error();
  }

  Expected<std::vector<sock_filter>> instructions = detail::export_seccomp_program(context.get());
  if (!instructions) return std::move(instructions).error().context("the LiteBox core's filter");
  program.instructions = std::move(instructions).value();
  return program;
}

std::string core_channel_message(pid_t pid) { return "pid " + std::to_string(pid) + "\n"; }

pid_t parse_core_channel_message(std::string_view text) noexcept {
  constexpr std::string_view prefix = "pid ";
  if (text.size() < prefix.size() + 2 || text.substr(0, prefix.size()) != prefix || text.back() != '\n') return -1;
  const std::string_view digits = text.substr(prefix.size(), text.size() - prefix.size() - 1);
  // Plain decimal, no sign, no leading zero, at most 10 digits; a pid is positive and fits in pid_t.
  if (digits.empty() || digits.size() > 10 || digits.front() == '0') return -1;
  long long value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return -1;
    value = value * 10 + (c - '0');
  }
  if (value > 0x7fffffffLL) return -1;
  return static_cast<pid_t>(value);
}

Status install_core_filter(const SeccompProgram& program, int channel, pid_t pid) {
  const std::string message = core_channel_message(pid);
  Expected<int> listener = load_seccomp_program(program);
  if (!listener) {
    ::close(channel);  // no filter: nothing waits
    return std::move(listener).error().context("load the LiteBox core's seccomp filter");
  }
  // From here on every call the filter notifies waits for whoever receives the listener: nothing but sendmsg
  // until it is on its way.
  if (const int error = send_with_descriptor(channel, message, listener.value()); error != 0) {
    // The listener is still only ours: a close (notified) would wait for an answer that cannot come. The
    // caller reports and exits; exit_group is not notified.
    return Error::from_errno("send the LiteBox core's seccomp listener over the core channel", error);
  }
  // Notified, and answered by the receiver (the process's set-up runs natively).
  ::close(listener.value());
  ::close(channel);
  return {};
}

}  // namespace litebox::linux_host::core
