// A guest thread's identity as the kernel's permission checks see it, and a scope that makes a core worker
// thread act with it: the core opens files and creates sockets for the guest, and must not do so with the
// shim's own root credentials (a uid-1000 guest opening /etc/shadow gets EACCES, as natively).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string_view>
#include <vector>

#include "litebox/linux/error.hpp"

namespace litebox::linux_host::core {

struct GuestCredentials {
  pid_t tgid = 0;
  pid_t ppid = 0;
  std::vector<pid_t> nstgids;  // NStgid: the process's pid in each nested pid namespace, outermost first
  std::vector<pid_t> nspids;  // NSpid: the thread's pid in each nested pid namespace, outermost first
  uid_t fsuid = 0;
  gid_t fsgid = 0;
  std::vector<gid_t> groups;
  std::uint64_t effective_caps = 0;  // CapEff
  mode_t umask = 022;
  bool own_user_namespace = false;   // in a user namespace other than ours: its capabilities mean nothing here
};

// Reads /proc/<tid>/status and /proc/<tid>/ns/user. Error ESRCH once the thread is gone.
Expected<GuestCredentials> read_guest_credentials(pid_t tid);
// The same through descriptors kept open for the thread: its /proc/<tid> directory and its status (a pread
// regenerates it). Both are bound to the task they were opened for: error ESRCH once it is gone, even when a
// new thread has its number now.
Expected<GuestCredentials> read_guest_credentials(int task_dir, int status, pid_t tid);
// Its parts: the status fields alone (own_user_namespace false), and whether the task of `task_dir` is in a
// user namespace other than ours (1, 0, or -errno; -ESRCH: gone).
Expected<GuestCredentials> read_guest_status(int status, pid_t tid);
int in_own_user_namespace(int task_dir) noexcept;

// The pure part of read_guest_credentials: the fields of a /proc/<tid>/status text (own_user_namespace stays
// false). Tgid, PPid, Uid, Gid and CapEff are required; NStgid, NSpid, Groups and Umask may be missing (then
// empty, empty, empty, 022: kernels without CONFIG_PID_NS have no NS lines). Error EINVAL naming the field when a required one is missing or a value is malformed or out of
// range.
Expected<GuestCredentials> parse_guest_status(std::string_view status);

// Once per worker thread, before any ActingAs: gives the thread its own fs_struct (unshare(CLONE_FS)) so a
// umask change stays on it.
Status prepare_worker_thread();

// The calling thread's fsuid, fsgid, supplementary groups, effective capabilities (the guest's, within our
// permitted set; none for a guest in its own user namespace) and umask become the guest's, and stay so until
// act_as_self() or another act_as: a thread that serves one guest's calls after another switches nothing
// between them. Raw per-thread system calls (glibc's setgroups wrapper changes every thread of the process;
// setfsuid, setfsgid and capset are per-thread in the kernel and in glibc); the umask is per-thread only after
// prepare_worker_thread. Only what differs from the identity in effect is changed. 0, or the errno that kept
// the switch from happening: the thread is then back to its own identity and must not act for the guest.
int act_as(const GuestCredentials& guest) noexcept;
// Puts the calling thread's own identity back (for what needs the shim's privileges). 0, or an errno.
int act_as_self() noexcept;
// Whether the calling thread acts with a guest's identity now.
bool acting_as_guest() noexcept;

// act_as for a scope: the destructor puts the thread's own identity back.
class ActingAs {
 public:
  explicit ActingAs(const GuestCredentials& guest) noexcept;
  ~ActingAs();
  ActingAs(const ActingAs&) = delete;
  ActingAs& operator=(const ActingAs&) = delete;
  // 0, or the errno that kept the switch from happening (the caller must not act then).
  int error() const noexcept { return error_; }

 private:
  int error_ = 0;
};

}  // namespace litebox::linux_host::core
