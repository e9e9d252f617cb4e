// The LiteBox core's seccomp filter: which system calls stop for the core (user notification) and which
// descriptor kinds the core refuses. Installed by a container process right before its program (after the
// spec's own profile, which it stacks with: the stricter action wins), its listener goes to the shim.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <sys/types.h>

#include "litebox/linux/error.hpp"
#include "litebox/linux/seccomp_filter.hpp"

namespace litebox::linux_host::core {

enum class CoreAction : std::uint8_t {
  serve,   // a path open: the core resolves and opens it for the guest
  create,  // an object the core makes and installs (pipe, socket, eventfd, ...): stopped only under a budget
  deny,    // a kind outside the policy: the core answers `error` and logs it
};

// Which calls a container's filter stops.
enum class CoreFilterScope : std::uint8_t {
  opens,               // path opens and the refused kinds: everything else runs natively
  opens_and_creation,  // also the `create` calls, so a descriptor budget can refuse them (EMFILE)
};

struct CoreSyscall {
  std::string_view name;  // as libseccomp names it ("openat", "io_uring_setup")
  CoreAction action;
  int error;              // for deny: EPERM or ENOSYS (EBUSY for seccomp's second listener); 0 otherwise
  std::string_view why;   // for deny: one line for the log and the README
};

// Every system call the filter may send to the core, in a stable order.
std::span<const CoreSyscall> core_syscall_policy() noexcept;
// The entry for a system call number (x86_64), or null. Numbers are resolved once, with libseccomp, for the
// native architecture (seccomp_notif's data.nr). A number of seccomp maps to its entry whatever the
// arguments: only the narrowed call is notified.
const CoreSyscall* core_policy_for(int nr) noexcept;

// The filter: every `serve` and `deny` entry (and with opens_and_creation every `create` entry) becomes
// SCMP_ACT_NOTIFY, seccomp narrowed by argument to SECCOMP_SET_MODE_FILTER with
// SECCOMP_FILTER_FLAG_NEW_LISTENER. Everything else is allowed (runs natively). Native architecture only;
// other architectures' calls (x32, i386) are killed, so they cannot bypass it. Compiled in the parent
// (libseccomp is not used after fork). has_listener is true and load_flags has
// SECCOMP_FILTER_FLAG_NEW_LISTENER; names libseccomp does not know are skipped with a note in `notes`. Error
// when the kernel lacks user notification.
Expected<SeccompProgram> compile_core_filter(CoreFilterScope scope);

// The message a process sends with its listener over the core channel: "pid <host pid>\n".
std::string core_channel_message(pid_t pid);
// Parses it; -1 when malformed.
pid_t parse_core_channel_message(std::string_view text) noexcept;

// Child side, right before the process's program (needs no_new_privs or CAP_SYS_ADMIN): loads `program`,
// sends its listener over `channel` with core_channel_message(pid), then closes the listener and the channel.
// No libseccomp, no logging: usable after fork. Errors: "load the LiteBox core's seccomp filter: ..." (the
// channel is closed, no filter is loaded), or "send the LiteBox core's seccomp listener ...": then the filter
// IS loaded and the listener still only the process's own, so the caller must exit (_exit) making no call the
// filter notifies (sendmsg, write and close are fine, an open is not).
Status install_core_filter(const SeccompProgram& program, int channel, pid_t pid);

}  // namespace litebox::linux_host::core
