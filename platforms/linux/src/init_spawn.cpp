// The runtime's side of forking a container process: an intermediate child creates or joins the
// namespaces, then clones the process with CLONE_PARENT (so it is the runtime's own child, reaped by it) and
// CLONE_NEWPID when the container gets a pid namespace (so it is that namespace's init).
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>

#include "init_plan.hpp"
#include "litebox/linux/core/core_filter.hpp"

#include <spdlog/spdlog.h>

namespace litebox::linux_host::detail {
namespace {

// fork(2)-like clone: no new stack (the child runs on a copy of ours). Only called from the single-threaded
// intermediate, where skipping glibc's fork handlers is safe.
pid_t clone_as_sibling(int flags) {
  return static_cast<pid_t>(::syscall(SYS_clone, static_cast<unsigned long>(flags | CLONE_PARENT | SIGCHLD),
                                      nullptr, nullptr, nullptr, nullptr));
}

[[noreturn]] void fail_child(SyncChannel& sync, const Error& error) {
  (void)sync.send(SyncType::error, error.code, error.message);
  ::_exit(1);
}

// The intermediate: namespaces, then the clone. Never returns.
[[noreturn]] void run_intermediate(InitPlan& plan, SyncChannel& sync) {
  const NamespacePlan& ns = plan.namespaces;
  if (ns.new_user) {
    if (::unshare(CLONE_NEWUSER) != 0) fail_child(sync, Error::from_errno("unshare user namespace"));
    if (auto st = sync.send(SyncType::need_id_maps); !st) ::_exit(1);
    if (auto msg = sync.expect(SyncType::id_maps_done); !msg) ::_exit(1);
    if (::setresgid(0, 0, 0) != 0 || ::setresuid(0, 0, 0) != 0) {
      fail_child(sync, Error::from_errno("become root in the user namespace"));
    }
  }
  if (auto st = join_namespaces(ns.joins); !st) fail_child(sync, st.error());
  const int unshare_flags = ns.clone_flags & ~(CLONE_NEWUSER | CLONE_NEWPID);
  if (unshare_flags != 0 && ::unshare(unshare_flags) != 0) {
    fail_child(sync, Error::from_errno("unshare namespaces"));
  }
  const pid_t pid = clone_as_sibling(ns.new_pid ? CLONE_NEWPID : 0);
  if (pid < 0) fail_child(sync, Error::from_errno("clone the container's init"));
  if (pid == 0) run_init(plan, sync);
  (void)sync.send(SyncType::init_pid, pid);
  ::_exit(0);
}

Status write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  out.flush();
  if (!out) return Error::from_errno("write " + path);
  return {};
}

std::string mapping_text(const std::vector<oci::IdMapping>& mappings) {
  std::string text;
  for (const auto& m : mappings) {
    text += std::to_string(m.container_id) + " " + std::to_string(m.host_id) + " " + std::to_string(m.size) + "\n";
  }
  return text;
}

}  // namespace

Expected<ProcessPlan> plan_process(const oci::Spec& spec) {
  const oci::Linux no_linux;
  const oci::Linux& linux_config = spec.linux_config ? *spec.linux_config : no_linux;
  auto plan = make_process_plan(*spec.process, linux_config.seccomp, linux_config.personality,
                                linux_config.memory_policy);
  if (plan) {
    for (const auto& note : plan.value().notes) spdlog::info("{}", note);
  }
  return plan;
}

Status plan_core(InitPlan& plan, int core_channel, core::CoreFilterScope scope) {
  if (core_channel < 0) return {};
  int domain = 0;
  socklen_t length = sizeof domain;
  if (::getsockopt(core_channel, SOL_SOCKET, SO_DOMAIN, &domain, &length) != 0 && errno != ENOTSOCK) {
    return Error::from_errno("core channel (fd " + std::to_string(core_channel) + ")");
  }
  if (domain != AF_UNIX) {  // also a descriptor that is no socket at all
    return Error{EINVAL, "core channel (fd " + std::to_string(core_channel) + ") is not a unix socket"};
  }
  if (plan.process.seccomp && plan.process.seccomp->has_listener) {
    return Error{EINVAL, "the spec's seccomp profile uses SCMP_ACT_NOTIFY (listenerPath " +
                             plan.process.seccomp->listener_path +
                             "), which cannot stack with the LiteBox core's filter: the kernel gives a process "
                             "one seccomp listener"};
  }
  // Compiled once per scope: the same program for every process.
  const auto compile = [](core::CoreFilterScope which) {
    auto program = core::compile_core_filter(which);
    if (program) {
      for (const auto& note : program.value().notes) spdlog::info("{}", note);
    }
    return program;
  };
  static const Expected<SeccompProgram> opens = compile(core::CoreFilterScope::opens);
  static const Expected<SeccompProgram> with_creation = compile(core::CoreFilterScope::opens_and_creation);
  const Expected<SeccompProgram>& compiled = scope == core::CoreFilterScope::opens ? opens : with_creation;
  if (!compiled) return compiled.error();
  const int duplicate = ::fcntl(core_channel, F_DUPFD_CLOEXEC, 3);
  if (duplicate < 0) return Error::from_errno("duplicate the core channel");
  if (plan.core_channel >= 0) ::close(plan.core_channel);
  plan.core_channel = duplicate;
  plan.core_program = compiled.value();
  return {};
}

Status write_id_maps(pid_t pid, const oci::Linux& linux_config) {
  const std::string proc = "/proc/" + std::to_string(pid);
  if (!linux_config.uid_mappings.empty()) {
    if (auto st = write_file(proc + "/uid_map", mapping_text(linux_config.uid_mappings)); !st) return st;
  }
  if (!linux_config.gid_mappings.empty()) {
    if (auto st = write_file(proc + "/gid_map", mapping_text(linux_config.gid_mappings)); !st) return st;
  }
  return {};
}

Expected<SpawnedInit> spawn_init(InitPlan& plan) {
  // Namespace files are opened here, where their paths mean what the caller meant, and closed once the
  // child has its copies.
  struct NamespaceFiles {
    InitPlan& plan;
    ~NamespaceFiles() {
      close_namespaces(plan.namespaces.joins);
      close_namespaces(plan.late_joins);
      if (plan.core_channel >= 0) ::close(plan.core_channel);
      plan.core_channel = -1;
    }
  } files{plan};
  if (auto st = open_namespaces(plan.namespaces.joins); !st) return std::move(st).error();
  if (auto st = open_namespaces(plan.late_joins); !st) return std::move(st).error();
  auto pair = SyncChannel::pair();
  if (!pair) return std::move(pair).error();
  SyncChannel ours = std::move(pair.value().first);
  SyncChannel theirs = std::move(pair.value().second);

  const pid_t mid = ::fork();
  if (mid < 0) return Error::from_errno("fork");
  if (mid == 0) {
    ours.reset();
    run_intermediate(plan, theirs);
  }
  theirs.reset();

  auto reap_mid = [mid] {
    int status = 0;
    while (::waitpid(mid, &status, 0) < 0 && errno == EINTR) {
    }
  };
  while (true) {
    auto msg = ours.receive();
    if (!msg) {
      reap_mid();
      return std::move(msg).error().context("set up the container's namespaces");
    }
    switch (msg.value().type) {
      case SyncType::need_id_maps: {
        const oci::Linux empty;
        const auto& linux_config = plan.spec.linux_config ? *plan.spec.linux_config : empty;
        if (auto st = write_id_maps(mid, linux_config); !st) {
          ::kill(mid, SIGKILL);
          reap_mid();
          return std::move(st).error().context("user namespace");
        }
        if (auto st = ours.send(SyncType::id_maps_done); !st) {
          reap_mid();
          return std::move(st).error();
        }
        break;
      }
      case SyncType::init_pid:
        reap_mid();
        return SpawnedInit{static_cast<pid_t>(msg.value().value), std::move(ours)};
      case SyncType::error:
        reap_mid();
        return Error{static_cast<int>(msg.value().value), msg.value().text};
      default:
        ::kill(mid, SIGKILL);
        reap_mid();
        return Error{EPROTO, "unexpected message from the container's intermediate process"};
    }
  }
}

}  // namespace litebox::linux_host::detail
