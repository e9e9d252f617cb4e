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

// Reads /proc/<tid>/status (and /proc/<tid>/ns/user). Error ESRCH once the thread is gone.
Expected<GuestCredentials> read_guest_credentials(pid_t tid);

// The pure part of read_guest_credentials: the fields of a /proc/<tid>/status text (own_user_namespace stays
// false). Tgid, PPid, Uid, Gid and CapEff are required; NStgid, NSpid, Groups and Umask may be missing (then
// empty, empty, empty, 022: kernels without CONFIG_PID_NS have no NS lines). Error EINVAL naming the field when a required one is missing or a value is malformed or out of
// range.
Expected<GuestCredentials> parse_guest_status(std::string_view status);

// Once per worker thread, before any ActingAs: gives the thread its own fs_struct (unshare(CLONE_FS)) so a
// umask change stays on it.
Status prepare_worker_thread();

// While alive, the calling thread's fsuid, fsgid, supplementary groups, effective capabilities (the guest's,
// within our permitted set; none for a guest in its own user namespace) and umask are the guest's. Raw
// per-thread system calls: glibc's setgroups wrapper changes every thread of the process (setfsuid, setfsgid
// and capset are per-thread in the kernel and in glibc). The umask is per-thread only after
// prepare_worker_thread. The destructor restores ours. When a step fails, the constructor undoes the steps
// before it at once (error() says why) and the destructor has nothing left to do.
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
  uid_t saved_fsuid_ = 0;
  gid_t saved_fsgid_ = 0;
  std::vector<gid_t> saved_groups_;
  std::uint64_t saved_effective_ = 0;
  mode_t saved_umask_ = 0;
  std::uint64_t saved_permitted_ = 0;
  std::uint64_t saved_inheritable_ = 0;
  unsigned applied_ = 0;  // which steps took effect (bits of guest_credentials.cpp's Step), undone in reverse

  void restore() noexcept;
};

}  // namespace litebox::linux_host::core
