// Runtime::create: bundle -> a parked init in its namespaces, cgroup and root, waiting for start.
#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <fstream>

#include "init_plan.hpp"
#include "litebox/linux/container.hpp"
#include "litebox/linux/hooks.hpp"
#include "litebox/linux/rootfs_setup.hpp"
#include "oci/bundle.hpp"
#include "oci/config.hpp"
#include "runtime_internal.hpp"

namespace litebox::linux_host {
namespace {

// Undoes a half-made container when create fails.
struct CreateRollback {
  std::filesystem::path dir;
  std::optional<Cgroup> cgroup;
  pid_t init = 0;
  bool armed = true;

  ~CreateRollback() {
    if (!armed) return;
    if (init > 0) {
      ::kill(init, SIGKILL);
      while (::waitpid(init, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
    if (cgroup) {
      if (auto st = cgroup->destroy(); !st) spdlog::warn("create rollback: {}", st.error().message);
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
};

}  // namespace

namespace {

// The devices every container may use whatever its rules say, appended after them as runc does (its
// AllowedDevices): CRI's specs deny everything and list only the spec's own devices, and rely on these for
// the standard nodes, /dev/pts and /dev/ptmx (a terminal), and /dev/net/tun.
oci::LinuxResources with_default_devices(const oci::LinuxResources& resources) {
  oci::LinuxResources out = resources;
  if (out.devices.empty()) return out;  // no rules: nothing is denied
  struct Default {
    const char* type;
    std::optional<std::int64_t> major, minor;
    const char* access;
  };
  constexpr std::nullopt_t any = std::nullopt;
  const Default defaults[] = {
      {"c", any, any, "m"},  {"b", any, any, "m"},  // mknod of any node (opening it stays denied)
      {"c", 1, 3, "rwm"},    // /dev/null
      {"c", 1, 8, "rwm"},    // /dev/random
      {"c", 1, 7, "rwm"},    // /dev/full
      {"c", 5, 0, "rwm"},    // /dev/tty
      {"c", 1, 5, "rwm"},    // /dev/zero
      {"c", 1, 9, "rwm"},    // /dev/urandom
      {"c", 136, any, "rwm"},  // /dev/pts/*
      {"c", 5, 2, "rwm"},    // /dev/ptmx
      {"c", 10, 200, "rwm"},  // /dev/net/tun
  };
  for (const auto& d : defaults) out.devices.push_back(oci::DeviceCgroup{true, d.type, d.major, d.minor, d.access});
  return out;
}

}  // namespace

Expected<StartedProcess> Runtime::create(const CreateRequest& request) {
  if (auto st = check_container_id(request.id); !st) return st.error();
  std::error_code ec;
  const auto bundle = std::filesystem::absolute(request.bundle, ec);
  if (ec) return Error{ec.value(), "bundle " + request.bundle.string() + ": " + ec.message()};

  auto loaded = oci::load_bundle(bundle);
  for (const auto& w : loaded.warnings) spdlog::warn("{}: {}", (bundle / "config.json").string(), w.to_string());
  if (!loaded.ok()) {
    return Error{EINVAL, "invalid " + (bundle / "config.json").string() + ":\n" +
                             oci::format_diagnostics(loaded.errors)};
  }
  oci::Spec spec = std::move(*loaded.value);
  if (!spec.process) return Error{EINVAL, "config.json has no process to run"};
  if (!spec.root) return Error{EINVAL, "config.json has no root"};
  spec.process->env.insert(spec.process->env.end(), request.extra_env.begin(), request.extra_env.end());
  const oci::Linux no_linux;
  const oci::Linux& linux_config = spec.linux_config ? *spec.linux_config : no_linux;
  // Refused rather than ignored: a container that asked for them would run without them unnoticed.
  if (!linux_config.net_devices.empty()) {
    return Error{EOPNOTSUPP, "linux.netDevices (moving host network devices into the container) is not supported yet"};
  }
  if (linux_config.intel_rdt) {
    return Error{EOPNOTSUPP, "linux.intelRdt (resctrl cache and memory bandwidth allocation) is not supported yet"};
  }

  std::filesystem::path rootfs = spec.root->path;
  if (rootfs.is_relative()) rootfs = bundle / rootfs;
  rootfs = std::filesystem::weakly_canonical(rootfs, ec);
  if (ec || !std::filesystem::is_directory(rootfs)) {
    return Error{ENOENT, "root " + spec.root->path + ": not a directory (in bundle " + bundle.string() + ")"};
  }

  std::filesystem::create_directories(config_.root, ec);
  if (ec) return Error{ec.value(), "create " + config_.root.string() + ": " + ec.message()};
  const auto dir = container_dir(config_.root, request.id);
  if (::mkdir(dir.c_str(), 0711) != 0) {
    if (errno == EEXIST) return Error{EEXIST, "container \"" + request.id + "\" already exists"};
    return Error::from_errno("create " + dir.string());
  }
  CreateRollback rollback{dir, std::nullopt, 0, true};

  detail::InitPlan plan;
  plan.id = request.id;
  plan.bundle = bundle.string();
  plan.rootfs = rootfs.string();
  plan.no_pivot = request.no_pivot;

  auto namespaces = plan_namespaces(linux_config.namespaces);
  if (!namespaces) return std::move(namespaces).error();
  plan.namespaces = std::move(namespaces.value());
  const bool own_mounts = plan.namespaces.new_mount ||
                          std::any_of(plan.namespaces.joins.begin(), plan.namespaces.joins.end(),
                                      [](const NamespaceJoin& j) { return j.flag == CLONE_NEWNS; });
  // Without a mount namespace of its own the container's mounts and pivot_root would land on the host.
  if (!own_mounts) return Error{EINVAL, "linux.namespaces must include a mount namespace"};
  if (auto st = validate_sysctls(spec); !st) return st.error();

  auto descriptors = InitDescriptors::build(request.io.stdio, request.io.preserved);
  if (!descriptors) return std::move(descriptors).error();
  plan.descriptors = descriptors.value().placements();

  auto host = CgroupHost::detect();
  if (!host) return std::move(host).error().context("cgroups");
  auto cgroup = Cgroup::create(host.value(), linux_config.cgroups_path, request.id);
  if (!cgroup) return std::move(cgroup).error().context("create cgroup");
  rollback.cgroup = std::move(cgroup.value());
  if (linux_config.resources) {
    if (auto st = rollback.cgroup->apply(with_default_devices(*linux_config.resources)); !st) {
      return std::move(st).error().context("apply resources");
    }
  }
  plan.cgroup_mounts = rollback.cgroup->mount_sources();

  auto process = detail::plan_process(spec);
  if (!process) return std::move(process).error();
  plan.process = std::move(process.value());

  const auto fifo = dir / "exec.fifo";
  if (::mkfifo(fifo.c_str(), 0622) != 0) return Error::from_errno("mkfifo " + fifo.string());
  // Whatever our umask: the init opens it for writing after switching to the container's user.
  if (::chmod(fifo.c_str(), 0622) != 0) return Error::from_errno("chmod " + fifo.string());
  plan.exec_fifo = ::open(fifo.c_str(), O_PATH | O_CLOEXEC);
  if (plan.exec_fifo < 0) return Error::from_errno("open " + fifo.string());
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } fifo_closer{plan.exec_fifo};

  plan.hook_state.oci_version = spec.oci_version;
  plan.hook_state.id = request.id;
  plan.hook_state.status = oci::Status::creating;
  plan.hook_state.bundle = bundle.string();
  plan.hook_state.annotations = spec.annotations;
  plan.spec = std::move(spec);

  // Last before the fork: spawn_init closes the duplicate whatever happens.
  if (auto core_ok = detail::plan_core(plan, request.core_channel, request.core_scope); !core_ok) return std::move(core_ok).error();
  auto spawned = detail::spawn_init(plan);
  if (!spawned) return std::move(spawned).error();
  const pid_t pid = spawned.value().pid;
  rollback.init = pid;
  SyncChannel& sync = spawned.value().sync;
  spdlog::debug("create {}: init is pid {}", request.id, pid);

  if (auto st = rollback.cgroup->add_process(pid); !st) return std::move(st).error().context("join cgroup");
  if (auto st = sync.send(SyncType::go, pid); !st) return std::move(st).error();

  StartedProcess started{pid, -1};
  struct MasterCloser {
    int* fd;
    bool armed = true;
    ~MasterCloser() {
      if (armed && *fd >= 0) ::close(*fd);
    }
  } master_closer{&started.console_master};
  plan.hook_state.pid = pid;
  plan.hook_state.status = oci::Status::created;
  while (true) {
    auto msg = sync.receive();
    if (!msg) return std::move(msg).error().context("container init");
    auto& m = msg.value();
    if (m.type == SyncType::error) return Error{static_cast<int>(m.value), m.text};
    if (m.type == SyncType::console) {
      started.console_master = m.fd;
      detail::set_console_size(m.fd, *plan.spec.process);
      continue;
    }
    if (m.type == SyncType::run_hooks) {
      if (plan.spec.hooks) {
        const std::string state = oci::to_json(plan.hook_state, oci::JsonStyle::compact);
        if (auto st = run_hooks(plan.spec.hooks->prestart, state, "prestart"); !st) return std::move(st).error();
        if (auto st = run_hooks(plan.spec.hooks->create_runtime, state, "createRuntime"); !st) {
          return std::move(st).error();
        }
      }
      if (auto st = sync.send(SyncType::hooks_done); !st) return std::move(st).error();
      continue;
    }
    if (m.type == SyncType::ready) break;
    if (m.fd >= 0) ::close(m.fd);
    return Error{EPROTO, "unexpected message from the container's init"};
  }

  ContainerRecord record;
  record.id = request.id;
  record.bundle = bundle.string();
  record.rootfs = rootfs.string();
  record.init_pid = pid;
  auto start_time = process_start_time(pid);
  if (!start_time) return Error{ESRCH, "the container's init exited during create"};
  record.init_start_time = *start_time;
  record.created = rfc3339_now();
  record.cgroup_path = rollback.cgroup->state();
  record.annotations = plan.spec.annotations;
  if (auto st = detail::save_config(dir, plan.spec); !st) return st.error();
  if (auto st = save_record(dir, record); !st) return st.error();
  rollback.armed = false;
  master_closer.armed = false;
  spdlog::info("created container {} (init pid {})", request.id, pid);
  return started;
}

}  // namespace litebox::linux_host
