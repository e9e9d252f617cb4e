#include "litebox/linux/seccomp_filter.hpp"

#include "oci/known_values.hpp"

#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <memory>
#include <optional>
#include <string_view>

#include "child_safe_error.hpp"

namespace litebox::linux_host {
namespace {

constexpr std::uint32_t kDefaultErrno = EPERM;  // runc's errno for SCMP_ACT_ERRNO / SCMP_ACT_TRACE without errnoRet

using FilterContext = std::unique_ptr<void, decltype(&seccomp_release)>;

std::string libseccomp_version() {
  const scmp_version* version = seccomp_version();
  return "libseccomp " + std::to_string(version->major) + "." + std::to_string(version->minor) + "." +
         std::to_string(version->micro);
}

Error libseccomp_error(const std::string& what, int negative_errno) {
  return Error{-negative_errno, what + ": " + detail::errno_text(-negative_errno)};
}

Expected<std::uint32_t> seccomp_action(const std::string& name, std::optional<std::uint32_t> errno_ret) {
  if (errno_ret && *errno_ret > 0xffff) {
    return Error{EINVAL, "errnoRet " + std::to_string(*errno_ret) + " of " + name + " is above 65535"};
  }
  if (name == "SCMP_ACT_KILL" || name == "SCMP_ACT_KILL_THREAD") return SCMP_ACT_KILL_THREAD;
  if (name == "SCMP_ACT_KILL_PROCESS") return SCMP_ACT_KILL_PROCESS;
  if (name == "SCMP_ACT_TRAP") return SCMP_ACT_TRAP;
  if (name == "SCMP_ACT_ERRNO") return SCMP_ACT_ERRNO(errno_ret.value_or(kDefaultErrno));
  if (name == "SCMP_ACT_TRACE") return SCMP_ACT_TRACE(errno_ret.value_or(kDefaultErrno));
  if (name == "SCMP_ACT_ALLOW") return SCMP_ACT_ALLOW;
  if (name == "SCMP_ACT_LOG") return SCMP_ACT_LOG;
  if (name == "SCMP_ACT_NOTIFY") return SCMP_ACT_NOTIFY;
  return Error{EINVAL, "unknown seccomp action \"" + name + "\""};
}

Expected<scmp_compare> compare_operator(const std::string& name) {
  if (name == "SCMP_CMP_NE") return SCMP_CMP_NE;
  if (name == "SCMP_CMP_LT") return SCMP_CMP_LT;
  if (name == "SCMP_CMP_LE") return SCMP_CMP_LE;
  if (name == "SCMP_CMP_EQ") return SCMP_CMP_EQ;
  if (name == "SCMP_CMP_GE") return SCMP_CMP_GE;
  if (name == "SCMP_CMP_GT") return SCMP_CMP_GT;
  if (name == "SCMP_CMP_MASKED_EQ") return SCMP_CMP_MASKED_EQ;
  return Error{EINVAL, "unknown seccomp operator \"" + name + "\""};
}

// The spec's architectures (from the oci model); libseccomp knows them by the lowercase suffix ("x86_64"), if at all.

Expected<std::uint32_t> architecture_token(const std::string& name) {
  bool known = false;
  for (std::string_view spec_name : oci::known::seccomp_architectures()) {
    known = known || spec_name == name;
  }
  if (!known) {
    return Error{EINVAL, "unknown seccomp architecture \"" + name + "\""};
  }
  std::string libseccomp_name = name.substr(std::string_view("SCMP_ARCH_").size());
  for (char& c : libseccomp_name) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  std::uint32_t token = seccomp_arch_resolve_name(libseccomp_name.c_str());
  if (token == 0) {
    return Error{EINVAL, "seccomp architecture " + name + " is not supported by " + libseccomp_version()};
  }
  return token;
}

// seccomp(SECCOMP_SET_MODE_FILTER, flags, NULL) checks the flags before reading the program: EFAULT means the
// kernel knows them, EINVAL that it does not (libseccomp probes the same way).
bool kernel_accepts_filter_flags(unsigned int flags) {
  long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, nullptr);
  return !(rc == -1 && errno == EINVAL);
}

// Reads back the program libseccomp writes to a file descriptor.
Expected<std::vector<sock_filter>> export_program(void* context) {
  int fd = memfd_create("litebox-seccomp-bpf", MFD_CLOEXEC);
  if (fd < 0) {
    return detail::child_error("memfd_create for the seccomp program", errno);
  }
  auto close_fd = std::unique_ptr<int, void (*)(int*)>(&fd, [](int* p) { close(*p); });
  if (int rc = seccomp_export_bpf(context, fd); rc != 0) {
    return libseccomp_error("export the seccomp program", rc);
  }
  struct stat file_stat {};
  if (fstat(fd, &file_stat) != 0) {
    return detail::child_error("fstat the seccomp program", errno);
  }
  const auto size = static_cast<std::size_t>(file_stat.st_size);
  if (size == 0 || size % sizeof(sock_filter) != 0) {
    return Error{EIO, "libseccomp exported a program of " + std::to_string(size) + " bytes"};
  }
  std::vector<sock_filter> instructions(size / sizeof(sock_filter));
  std::size_t done = 0;
  auto* bytes = reinterpret_cast<char*>(instructions.data());
  while (done < size) {
    ssize_t n = pread(fd, bytes + done, size - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return detail::child_error("read the seccomp program", n < 0 ? errno : EIO);
    }
    done += static_cast<std::size_t>(n);
  }
  if (instructions.size() > BPF_MAXINSNS) {
    return Error{E2BIG, "the seccomp filter has " + std::to_string(instructions.size()) +
                            " instructions; the kernel's limit is " + std::to_string(BPF_MAXINSNS)};
  }
  return instructions;
}

}  // namespace

Expected<SeccompProgram> compile_seccomp_filter(const oci::Seccomp& seccomp) {
  SeccompProgram program;
  program.listener_path = seccomp.listener_path;
  program.listener_metadata = seccomp.listener_metadata;

  if (seccomp.default_action == "SCMP_ACT_NOTIFY") {
    return Error{EINVAL, "SCMP_ACT_NOTIFY cannot be the seccomp default action"};
  }
  Expected<std::uint32_t> default_action = seccomp_action(seccomp.default_action, seccomp.default_errno_ret);
  if (!default_action) {
    return std::move(default_action).error().context("seccomp defaultAction");
  }
  FilterContext context(seccomp_init(default_action.value()), &seccomp_release);
  if (!context) {
    return Error{EINVAL, "seccomp_init(" + seccomp.default_action + ") failed"};
  }

  for (const std::string& name : seccomp.architectures) {
    Expected<std::uint32_t> token = architecture_token(name);
    if (!token) {
      return std::move(token).error();
    }
    if (int rc = seccomp_arch_add(context.get(), token.value()); rc != 0 && rc != -EEXIST) {
      return libseccomp_error("add seccomp architecture " + name, rc);
    }
  }

  bool wait_killable_recv = false;
  for (const std::string& flag : seccomp.flags) {
    if (flag == "SECCOMP_FILTER_FLAG_TSYNC") {
      continue;  // see SeccompProgram::load_flags
    }
    if (flag == "SECCOMP_FILTER_FLAG_LOG") {
      program.load_flags |= SECCOMP_FILTER_FLAG_LOG;
    } else if (flag == "SECCOMP_FILTER_FLAG_SPEC_ALLOW") {
      program.load_flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
    } else if (flag == "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV") {
      wait_killable_recv = true;
      continue;  // only meaningful (and only accepted) with a listener: decided below
    } else {
      return Error{EINVAL, "unknown seccomp flag \"" + flag + "\""};
    }
    if (!kernel_accepts_filter_flags(program.load_flags)) {
      return Error{EINVAL, "seccomp flag " + flag + " is not supported by the running kernel"};
    }
  }

  if (seccomp.syscalls.size() > 8) {
    // runc does the same: libseccomp's binary tree is faster for long profiles. Failure only costs speed.
    (void)seccomp_attr_set(context.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2);
  }

  for (const oci::SeccompSyscall& rule : seccomp.syscalls) {
    const std::string first_name = rule.names.empty() ? std::string("(none)") : rule.names.front();
    Expected<std::uint32_t> action = seccomp_action(rule.action, rule.errno_ret);
    if (!action) {
      return std::move(action).error().context("seccomp rule for \"" + first_name + "\"");
    }
    if (action.value() == default_action.value()) {
      continue;  // redundant; libseccomp refuses it
    }
    std::vector<scmp_arg_cmp> conditions;
    std::array<int, 6> conditions_per_index{};
    bool several_on_one_index = false;
    for (const oci::SeccompArg& arg : rule.args) {
      if (arg.index > 5) {
        return Error{EINVAL, "seccomp rule for \"" + first_name + "\": argument index " + std::to_string(arg.index) +
                                 " is above 5"};
      }
      Expected<scmp_compare> op = compare_operator(arg.op);
      if (!op) {
        return std::move(op).error().context("seccomp rule for \"" + first_name + "\"");
      }
      conditions.push_back(scmp_arg_cmp{arg.index, op.value(), arg.value, arg.value_two});
      several_on_one_index = several_on_one_index || ++conditions_per_index[arg.index] > 1;
    }
    if (action.value() == SCMP_ACT_NOTIFY) {
      program.has_listener = true;
    }
    for (const std::string& name : rule.names) {
      int number = seccomp_syscall_resolve_name(name.c_str());
      if (number == __NR_SCMP_ERROR) {
        program.notes.push_back("seccomp: syscall \"" + name + "\" is unknown to " + libseccomp_version() +
                                "; its rule is skipped");
        continue;
      }
      auto add = [&](unsigned count, const scmp_arg_cmp* first) -> Status {
        if (int rc = seccomp_rule_add_array(context.get(), action.value(), number, count, first); rc != 0) {
          return libseccomp_error("add seccomp rule for syscall \"" + name + "\"", rc);
        }
        return {};
      };
      if (several_on_one_index) {
        // libseccomp cannot AND two conditions on one argument: like runc, one rule per condition.
        for (const scmp_arg_cmp& condition : conditions) {
          if (Status status = add(1, &condition); !status) {
            return std::move(status).error();
          }
        }
      } else if (Status status = add(static_cast<unsigned>(conditions.size()), conditions.data()); !status) {
        return std::move(status).error();
      }
    }
  }

  if (program.has_listener) {
    if (program.listener_path.empty()) {
      // Nobody would answer: every notified call would hang until the listener closes (runc refuses it too).
      return Error{EINVAL, "seccomp: SCMP_ACT_NOTIFY is used but listenerPath is not set"};
    }
    program.load_flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
    if (wait_killable_recv) {
      program.load_flags |= SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
    }
    if (!kernel_accepts_filter_flags(program.load_flags)) {
      return Error{EINVAL, "seccomp user notification (SCMP_ACT_NOTIFY" +
                               std::string(wait_killable_recv ? ", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV" : "") +
                               ") is not supported by the running kernel"};
    }
  } else if (wait_killable_recv) {
    program.notes.push_back(
        "seccomp: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV ignored: no rule uses SCMP_ACT_NOTIFY");
  }

  Expected<std::vector<sock_filter>> instructions = export_program(context.get());
  if (!instructions) {
    return std::move(instructions).error();
  }
  program.instructions = std::move(instructions).value();
  return program;
}

Expected<int> load_seccomp_program(const SeccompProgram& program) {
  sock_fprog fprog{};
  fprog.len = static_cast<unsigned short>(program.instructions.size());
  fprog.filter = const_cast<sock_filter*>(program.instructions.data());  // the kernel only reads it
  long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, program.load_flags, &fprog);
  if (rc < 0 && errno == ENOSYS && program.load_flags == 0) {
    rc = prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0UL, 0UL);  // kernels before 3.17
  }
  if (rc < 0) {
    int error = errno;
    std::string hint;
    if (error == EACCES) {
      hint = " (loading needs no_new_privs or CAP_SYS_ADMIN)";
    } else if (error == EBUSY) {
      hint = " (this process already has a seccomp listener)";
    }
    return Error{error, "load seccomp filter: " + detail::errno_text(error) + hint};
  }
  return program.has_listener ? static_cast<int>(rc) : -1;
}

SeccompLoadPoint seccomp_load_point(bool no_new_privileges) {
  return no_new_privileges ? SeccompLoadPoint::just_before_exec : SeccompLoadPoint::before_user_switch;
}

namespace detail {

Expected<std::vector<sock_filter>> export_seccomp_program(void* libseccomp_context) {
  return export_program(libseccomp_context);
}

bool kernel_accepts_seccomp_flags(unsigned int flags) { return kernel_accepts_filter_flags(flags); }

std::string libseccomp_version_text() { return libseccomp_version(); }

}  // namespace detail

}  // namespace litebox::linux_host
