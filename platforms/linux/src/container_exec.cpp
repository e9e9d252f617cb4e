// Runtime::exec: a new process in a running container: its namespaces, its cgroup, a process spec of its own
// (the container's seccomp profile still applies, as with runc).
#include <sched.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>

#include <cerrno>

#include "init_plan.hpp"
#include "litebox/linux/container.hpp"
#include "runtime_internal.hpp"

namespace litebox::linux_host {
namespace {

// The namespace types an exec joins, user first (it decides what the others may do); the cgroup namespace
// is joined last, once the process is in the container's cgroup.
constexpr int kJoinOrder[] = {CLONE_NEWUSER, CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWNET, CLONE_NEWPID, CLONE_NEWNS};

bool same_namespace(const std::string& a, const std::string& b) {
  struct stat sa{};
  struct stat sb{};
  return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_ino == sb.st_ino &&
         sa.st_dev == sb.st_dev;
}

}  // namespace

Expected<StartedProcess> Runtime::exec(std::string_view id, const ExecRequest& request) {
  auto st = state(id);
  if (!st) return std::move(st).error();
  const ContainerInfo& info = st.value();
  if (info.status != ContainerStatus::running && info.status != ContainerStatus::created) {
    return Error{EINVAL, "cannot exec in container \"" + std::string(id) + "\": it is " +
                             std::string(to_string(info.status))};
  }
  const auto dir = container_dir(config_.root, id);
  auto spec = detail::load_saved_config(dir);
  if (!spec) return std::move(spec).error();

  detail::InitPlan plan;
  plan.is_exec = true;
  plan.id = std::string(id);
  plan.bundle = info.record.bundle;
  plan.rootfs = info.record.rootfs;
  plan.spec = std::move(spec.value());
  plan.spec.process = request.process;

  const std::string init_ns = "/proc/" + std::to_string(info.record.init_pid) + "/ns/";
  for (int flag : kJoinOrder) {
    const std::string name(proc_ns_name(flag));
    if (!same_namespace(init_ns + name, "/proc/self/ns/" + name)) plan.namespaces.joins.push_back({flag, init_ns + name});
  }
  if (!same_namespace(init_ns + "cgroup", "/proc/self/ns/cgroup")) {
    plan.late_joins.push_back({CLONE_NEWCGROUP, init_ns + "cgroup"});
  }

  auto descriptors = InitDescriptors::build(request.io.stdio, request.io.preserved);
  if (!descriptors) return std::move(descriptors).error();
  plan.descriptors = descriptors.value().placements();
  auto process = detail::plan_process(plan.spec);
  if (!process) return std::move(process).error();
  plan.process = std::move(process.value());

  auto cgroup = Cgroup::open(info.record.cgroup_path);
  if (!cgroup) return std::move(cgroup).error().context("container cgroup");

  // Last before the fork: spawn_init closes the duplicate whatever happens.
  if (auto core_ok = detail::plan_core(plan, request.core_channel, request.core_scope); !core_ok) return std::move(core_ok).error();
  auto spawned = detail::spawn_init(plan);
  if (!spawned) return std::move(spawned).error();
  const pid_t pid = spawned.value().pid;
  SyncChannel& sync = spawned.value().sync;
  auto abandon = [pid](Error error) -> Expected<StartedProcess> {
    ::kill(pid, SIGKILL);
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    return error;
  };
  if (auto joined = cgroup.value().add_process(pid); !joined) return abandon(std::move(joined).error());
  if (auto sent = sync.send(SyncType::go, pid); !sent) return abandon(std::move(sent).error());

  StartedProcess started{pid, -1};
  bool ready = false;
  while (true) {
    auto msg = sync.receive();
    if (!msg) {
      // EOF after `ready`: the close-on-exec channel closed in execve, the program runs.
      if (msg.error().code == EPIPE && ready) break;
      if (started.console_master >= 0) ::close(started.console_master);
      return abandon(std::move(msg).error());
    }
    auto& m = msg.value();
    if (m.type == SyncType::console) {
      started.console_master = m.fd;
      detail::set_console_size(m.fd, *plan.spec.process);
    } else if (m.type == SyncType::error) {
      if (started.console_master >= 0) ::close(started.console_master);
      return abandon(Error{static_cast<int>(m.value), m.text});
    } else if (m.type == SyncType::ready) {
      ready = true;
    } else {
      if (m.fd >= 0) ::close(m.fd);
    }
  }
  spdlog::info("exec in container {}: pid {}", id, pid);
  return started;
}

}  // namespace litebox::linux_host
