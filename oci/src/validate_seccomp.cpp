// validate(): the rules for "linux.seccomp".
#include "checker.hpp"

namespace oci::detail {

namespace {

bool takes_errno(std::string_view action) { return action == "SCMP_ACT_ERRNO" || action == "SCMP_ACT_TRACE"; }

void check_action(const std::string& action, const std::string& ptr, Checker& c) {
  if (!known::contains(known::seccomp_actions(), action)) {
    c.error(ptr, "unknown seccomp action " + quoted(action) + " (expected one of " +
                     one_of(known::seccomp_actions()) + ")");
  }
}

}  // namespace

void check_seccomp(const Seccomp& s, const std::string& ptr, Checker& c) {
  check_action(s.default_action, at(ptr, "defaultAction"), c);
  if (s.default_errno_ret && !takes_errno(s.default_action)) {
    c.error(at(ptr, "defaultErrnoRet"), "is only valid when defaultAction is SCMP_ACT_ERRNO or SCMP_ACT_TRACE");
  }
  for (std::size_t i = 0; i < s.architectures.size(); ++i) {
    if (!known::contains(known::seccomp_architectures(), s.architectures[i])) {
      c.error(at(at(ptr, "architectures"), i), "unknown seccomp architecture " + quoted(s.architectures[i]) +
                                                   " (expected one of " + one_of(known::seccomp_architectures()) + ")");
    }
  }
  for (std::size_t i = 0; i < s.flags.size(); ++i) {
    if (!known::contains(known::seccomp_flags(), s.flags[i])) {
      c.error(at(at(ptr, "flags"), i),
              "unknown seccomp flag " + quoted(s.flags[i]) + " (expected one of " + one_of(known::seccomp_flags()) + ")");
    }
  }
  bool notify = s.default_action == "SCMP_ACT_NOTIFY";
  for (std::size_t i = 0; i < s.syscalls.size(); ++i) {
    const SeccompSyscall& sc = s.syscalls[i];
    const std::string sp = at(at(ptr, "syscalls"), i);
    if (sc.names.empty()) c.error(at(sp, "names"), "must be a non-empty array of system call names");
    for (std::size_t n = 0; n < sc.names.size(); ++n) {
      if (sc.names[n].empty()) c.error(at(at(sp, "names"), n), "must be a system call name, got an empty string");
    }
    check_action(sc.action, at(sp, "action"), c);
    if (sc.action == "SCMP_ACT_NOTIFY") notify = true;
    if (sc.errno_ret && !takes_errno(sc.action)) {
      c.error(at(sp, "errnoRet"), "is only valid when the action is SCMP_ACT_ERRNO or SCMP_ACT_TRACE");
    }
    for (std::size_t a = 0; a < sc.args.size(); ++a) {
      const SeccompArg& arg = sc.args[a];
      const std::string ap = at(at(sp, "args"), a);
      if (arg.index > 5) c.error(at(ap, "index"), "must be an argument number from 0 to 5, got " + std::to_string(arg.index));
      if (!known::contains(known::seccomp_operators(), arg.op)) {
        c.error(at(ap, "op"), "unknown seccomp operator " + quoted(arg.op) + " (expected one of " +
                                  one_of(known::seccomp_operators()) + ")");
      }
    }
  }
  if (notify && s.listener_path.empty()) {
    c.error(at(ptr, "listenerPath"), "is required when an action is SCMP_ACT_NOTIFY");
  }
  if (!s.listener_path.empty()) check_absolute(s.listener_path, at(ptr, "listenerPath"), c, true);
}

}  // namespace oci::detail
