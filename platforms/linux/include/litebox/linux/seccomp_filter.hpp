// The spec's `linux.seccomp`: compiled in the parent with libseccomp into a classic BPF program, loaded in the
// child with seccomp(2) alone (no libseccomp call after fork). Filters stack: one the runtime installs later
// (the LiteBox core's listener) is evaluated too and the stricter action wins.
#pragma once

#include <linux/filter.h>

#include <string>
#include <vector>

#include "litebox/linux/error.hpp"
#include "oci/seccomp.hpp"

namespace litebox::linux_host {

// A ready-to-load filter.
struct SeccompProgram {
  std::vector<sock_filter> instructions;
  // SECCOMP_FILTER_FLAG_* passed to seccomp(2): LOG and SPEC_ALLOW from the spec, NEW_LISTENER when a rule's
  // action is SCMP_ACT_NOTIFY (with WAIT_KILLABLE_RECV if asked for). TSYNC is accepted and not passed, as in
  // runc: the child is single-threaded, and TSYNC with NEW_LISTENER is refused by the kernel.
  unsigned int load_flags = 0;
  bool has_listener = false;          // SCMP_ACT_NOTIFY is used: loading returns a listener fd
  std::string listener_path;          // the spec's listenerPath: where the caller sends that fd
  std::string listener_metadata;      // the spec's listenerMetadata, for the state the caller sends
  std::vector<std::string> notes;     // what was skipped (syscalls unknown to libseccomp, ...)
};

// Parent side. Errors: unknown action (`unknown seccomp action "SCMP_ACT_FOO"`), architecture, flag or
// operator, an argument index above 5, SCMP_ACT_NOTIFY as the default action or without a listenerPath, a flag
// the running kernel lacks.
// Syscall names libseccomp does not know are skipped with a note; rules whose action is the default action
// are skipped; several conditions on the same argument become one rule each (runc's behaviour).
Expected<SeccompProgram> compile_seccomp_filter(const oci::Seccomp& seccomp);

// Child side: installs the program with seccomp(2) (needs no_new_privs or CAP_SYS_ADMIN). Returns the
// listener fd (close-on-exec) when program.has_listener, else -1.
Expected<int> load_seccomp_program(const SeccompProgram& program);

// Where the runtime loads the filter (runc's rule): without noNewPrivileges loading is privileged, so it
// happens before the user switch and capability drop; with it, as late as possible, just before execve, so
// the profile needs to allow as few of the runtime's own calls as possible.
enum class SeccompLoadPoint { before_user_switch, just_before_exec };
SeccompLoadPoint seccomp_load_point(bool no_new_privileges);

namespace detail {
// Shared with the LiteBox core's filter (core/core_filter.hpp), parent side only.
// The BPF program of a libseccomp context (a scmp_filter_ctx), checked against the kernel's length limit.
Expected<std::vector<sock_filter>> export_seccomp_program(void* libseccomp_context);
// Whether the running kernel knows these SECCOMP_FILTER_FLAG_* (probed as libseccomp does).
bool kernel_accepts_seccomp_flags(unsigned int flags);
// "libseccomp 2.5.4", for notes and errors.
std::string libseccomp_version_text();
}  // namespace detail

}  // namespace litebox::linux_host
