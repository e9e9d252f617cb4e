// The spec's `process.user`: supplementary groups, gid, uid and umask of the container's process, switched in
// the child the way runc does it (setgroups of additionalGids, then the gid, then the uid).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "litebox/linux/error.hpp"
#include "oci/process.hpp"

namespace litebox::linux_host {

struct UserPlan {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> additional_gids;  // exactly the spec's: runc does not add the primary gid
  mode_t umask = 022;                  // runc's default when the spec has none
};

// Parent side: checks the umask (at most 0777).
Expected<UserPlan> make_user_plan(const oci::User& user);

// ---- Child side (after fork; no logging, no locks) ----

// runc's fixStdioPermissions: stdin, stdout and stderr not owned by `uid` are chowned to it (uid only), except
// /dev/null; EINVAL, EPERM and EROFS are ignored (unmapped owners, read-only /dev).
Status fix_stdio_ownership(uid_t uid);

// setgroups(additional_gids) unless /proc/self/setgroups says "deny" (then additional gids are an error,
// as in a rootless runc), setresgid(gid), setresuid(uid). EINVAL reads "cannot setuid to unmapped uid 1000
// in user namespace". Capabilities other than the permitted set need PR_SET_KEEPCAPS to survive it.
Status switch_user(const UserPlan& plan);

// umask(plan.umask).
void apply_umask(const UserPlan& plan);

// The home directory of `uid` in a passwd file (the container's /etc/passwd once the root is pivoted), or
// "/" when the file or the entry is missing (runc's default). Reads the file with plain syscalls: no NSS.
std::string home_directory_for(uid_t uid, const std::string& passwd_path = "/etc/passwd");

}  // namespace litebox::linux_host
