// Runtime operations on an existing container: start, state, kill, delete, ps, pause, resume, update, stats.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "litebox/linux/container.hpp"
#include "litebox/linux/hooks.hpp"
#include "oci/config.hpp"
#include "oci/version.hpp"
#include "runtime_internal.hpp"

namespace litebox::linux_host {
namespace detail {

Status save_config(const std::filesystem::path& dir, const oci::Spec& spec) {
  std::ofstream out(dir / "config.json", std::ios::trunc);
  out << oci::to_json(spec, oci::JsonStyle::compact);
  out.flush();
  if (!out) return Error::from_errno("write " + (dir / "config.json").string());
  return {};
}

Expected<oci::Spec> load_saved_config(const std::filesystem::path& dir) {
  std::ifstream in(dir / "config.json");
  std::stringstream text;
  text << in.rdbuf();
  if (!in) return Error::from_errno("read " + (dir / "config.json").string());
  auto parsed = oci::parse_config(text.str());
  if (!parsed.ok()) return Error{EINVAL, "saved config: " + oci::format_diagnostics(parsed.errors)};
  return std::move(*parsed.value);
}

void set_console_size(int master, const oci::Process& process) {
  if (!process.console_size) return;
  winsize size{};
  size.ws_row = static_cast<unsigned short>(process.console_size->height);
  size.ws_col = static_cast<unsigned short>(process.console_size->width);
  ::ioctl(master, TIOCSWINSZ, &size);
}

// The recorded init still runs: the pid exists, is no zombie, and started when ours did (not a reused pid).
bool init_alive(const ContainerRecord& record) {
  const auto start = process_start_time(record.init_pid);
  return start && *start == record.init_start_time;
}

ContainerStatus live_status(const std::filesystem::path& dir, const ContainerRecord& record) {
  if (!init_alive(record)) return ContainerStatus::stopped;
  if (std::filesystem::exists(dir / "exec.fifo")) return ContainerStatus::created;
  if (auto cgroup = Cgroup::open(record.cgroup_path)) {
    auto freezer = cgroup.value().freezer_state();
    if (freezer && freezer.value() != FreezerState::running) return ContainerStatus::paused;
  }
  return ContainerStatus::running;
}

}  // namespace detail

namespace {

struct Loaded {
  std::filesystem::path dir;
  ContainerRecord record;
  ContainerStatus status;
};

Expected<Loaded> load(const RuntimeConfig& config, std::string_view id) {
  if (auto st = check_container_id(id); !st) return st.error();
  const auto dir = container_dir(config.root, id);
  if (!std::filesystem::exists(dir / "state.json")) {
    return Error{ENOENT, "container \"" + std::string(id) + "\" does not exist"};
  }
  auto record = load_record(dir);
  if (!record) return std::move(record).error();
  const auto status = detail::live_status(dir, record.value());
  return Loaded{dir, std::move(record.value()), status};
}

Expected<Cgroup> open_cgroup(const Loaded& c) {
  auto cgroup = Cgroup::open(c.record.cgroup_path);
  if (!cgroup) return std::move(cgroup).error().context("container \"" + c.record.id + "\" cgroup");
  return cgroup;
}

struct WithCgroup {
  Loaded container;
  Cgroup cgroup;
};

// The container and its cgroup, for the operations that work on the cgroup.
Expected<WithCgroup> load_with_cgroup(const RuntimeConfig& config, std::string_view id) {
  auto c = load(config, id);
  if (!c) return std::move(c).error();
  auto cgroup = open_cgroup(c.value());
  if (!cgroup) return std::move(cgroup).error();
  return WithCgroup{std::move(c.value()), std::move(cgroup.value())};
}

Error not_in_state(const Loaded& c, std::string_view what) {
  return Error{EINVAL, "cannot " + std::string(what) + " container \"" + c.record.id + "\": it is " +
                           std::string(to_string(c.status))};
}

}  // namespace

Runtime::Runtime(RuntimeConfig config) : config_(std::move(config)) {}

oci::State ContainerInfo::oci_state() const {
  oci::State s;
  s.oci_version = std::string(oci::kOciVersion);
  s.id = record.id;
  switch (status) {
    case ContainerStatus::creating: s.status = oci::Status::creating; break;
    case ContainerStatus::created: s.status = oci::Status::created; break;
    case ContainerStatus::running:
    case ContainerStatus::paused: s.status = oci::Status::running; break;
    case ContainerStatus::stopped: s.status = oci::Status::stopped; break;
  }
  s.pid = status == ContainerStatus::stopped ? 0 : record.init_pid;
  s.bundle = record.bundle;
  s.annotations = record.annotations;
  return s;
}

Status Runtime::start(std::string_view id) {
  auto c = load(config_, id);
  if (!c) return std::move(c).error();
  if (c.value().status != ContainerStatus::created) return not_in_state(c.value(), "start");
  const auto fifo = c.value().dir / "exec.fifo";
  // Non-blocking open: a dead init never opens the FIFO for writing, and a blocking open would hang.
  const int fd = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return Error::from_errno("open " + fifo.string());
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  while (true) {
    pollfd p{fd, POLLIN, 0};
    const int rc = ::poll(&p, 1, 100);
    if (rc < 0 && errno != EINTR) return Error::from_errno("poll " + fifo.string());
    if (rc > 0 && (p.revents & POLLIN) != 0) {
      char byte;
      if (::read(fd, &byte, 1) == 1) break;
    }
    if (!detail::init_alive(c.value().record)) {
      return Error{ESRCH, "cannot start container \"" + std::string(id) + "\": its init exited"};
    }
  }
  std::filesystem::remove(fifo);
  spdlog::info("started container {}", id);
  auto spec = detail::load_saved_config(c.value().dir);
  if (spec && spec.value().hooks && !spec.value().hooks->poststart.empty()) {
    ContainerInfo info{c.value().record, ContainerStatus::running};
    const auto state = oci::to_json(info.oci_state(), oci::JsonStyle::compact);
    // The spec: a failing poststart hook is logged; the container keeps running.
    if (auto st = run_hooks(spec.value().hooks->poststart, state, "poststart"); !st) {
      spdlog::warn("{}", st.error().message);
    }
  }
  return {};
}

Expected<ContainerInfo> Runtime::state(std::string_view id) const {
  auto c = load(config_, id);
  if (!c) return std::move(c).error();
  return ContainerInfo{std::move(c.value().record), c.value().status};
}

Expected<oci::Spec> Runtime::saved_config(std::string_view id) const {
  auto c = load(config_, id);
  if (!c) return std::move(c).error();
  return detail::load_saved_config(c.value().dir);
}

Expected<std::vector<ContainerInfo>> Runtime::list() const {
  std::vector<ContainerInfo> out;
  std::error_code ec;
  if (!std::filesystem::exists(config_.root)) return out;
  for (const auto& entry : std::filesystem::directory_iterator(config_.root, ec)) {
    auto c = load(config_, entry.path().filename().string());
    if (c) out.push_back({std::move(c.value().record), c.value().status});
  }
  if (ec) return Error{ec.value(), "list " + config_.root.string() + ": " + ec.message()};
  return out;
}

Status Runtime::kill(std::string_view id, int signal, bool all) {
  auto c = load(config_, id);
  if (!c) return std::move(c).error();
  if (all) {
    // Whatever the init's state, as runc does: a container sharing another's pid namespace keeps its other
    // processes after its init exits, and they are still in its cgroup.
    auto cgroup = open_cgroup(c.value());
    if (!cgroup) return std::move(cgroup).error();
    return cgroup.value().kill_all(signal);
  }
  if (c.value().status == ContainerStatus::stopped) {
    return Error{ESRCH, "container \"" + std::string(id) + "\" is not running"};
  }
  if (::kill(c.value().record.init_pid, signal) != 0) return Error::from_errno("kill " + std::string(id));
  return {};
}

Status Runtime::remove(std::string_view id, bool force) {
  auto c = load(config_, id);
  if (!c) return std::move(c).error();
  const auto status = c.value().status;
  if ((status == ContainerStatus::running || status == ContainerStatus::paused) && !force) {
    return Error{EBUSY, "cannot delete container \"" + std::string(id) + "\" that is not stopped: " +
                            std::string(to_string(status))};
  }
  auto cgroup = Cgroup::open(c.value().record.cgroup_path);
  if (status != ContainerStatus::stopped) {
    // A created container is deleted like runc does: its parked init is killed; a forced delete kills all.
    if (cgroup) {
      if (auto st = cgroup.value().kill_all(SIGKILL); !st) spdlog::warn("delete {}: {}", id, st.error().message);
    }
    ::kill(c.value().record.init_pid, SIGKILL);
    // Our own child (the shim, `run`): reap it; otherwise wait for whoever reaps it.
    for (int i = 0; i < 500 && detail::init_alive(c.value().record); ++i) {
      if (::waitpid(c.value().record.init_pid, nullptr, WNOHANG) <= 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
  }
  if (cgroup) {
    if (status == ContainerStatus::stopped) {
      // The init is gone, but in a shared pid namespace its other processes are not (runc's destroy kills them).
      auto pids = cgroup.value().pids();
      if (pids && !pids.value().empty()) {
        if (auto st = cgroup.value().kill_all(SIGKILL); !st) spdlog::warn("delete {}: {}", id, st.error().message);
        // They leave the cgroup once the kernel has torn them down (whoever reaps them).
        for (int i = 0; i < 200; ++i) {
          auto left = cgroup.value().pids();
          if (!left || left.value().empty()) break;
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
      }
    }
    if (auto st = cgroup.value().destroy(); !st) return std::move(st).error().context("delete " + std::string(id));
  }
  auto spec = detail::load_saved_config(c.value().dir);
  std::error_code ec;
  std::filesystem::remove_all(c.value().dir, ec);
  if (ec) return Error{ec.value(), "remove " + c.value().dir.string() + ": " + ec.message()};
  if (spec && spec.value().hooks && !spec.value().hooks->poststop.empty()) {
    ContainerInfo info{c.value().record, ContainerStatus::stopped};
    const auto state = oci::to_json(info.oci_state(), oci::JsonStyle::compact);
    // The spec: a failing poststop hook is logged and the delete goes on.
    if (auto st = run_hooks(spec.value().hooks->poststop, state, "poststop"); !st) {
      spdlog::warn("{}", st.error().message);
    }
  }
  spdlog::info("deleted container {}", id);
  return {};
}

Expected<std::vector<pid_t>> Runtime::pids(std::string_view id) const {
  auto c = load_with_cgroup(config_, id);
  if (!c) return std::move(c).error();
  return c.value().cgroup.pids();
}

Status Runtime::pause(std::string_view id) {
  auto c = load_with_cgroup(config_, id);
  if (!c) return std::move(c).error();
  if (c.value().container.status != ContainerStatus::running) return not_in_state(c.value().container, "pause");
  return c.value().cgroup.freeze();
}

Status Runtime::resume(std::string_view id) {
  auto c = load_with_cgroup(config_, id);
  if (!c) return std::move(c).error();
  if (c.value().container.status != ContainerStatus::paused) return not_in_state(c.value().container, "resume");
  return c.value().cgroup.thaw();
}

Status Runtime::update(std::string_view id, const oci::LinuxResources& resources) {
  auto c = load_with_cgroup(config_, id);
  if (!c) return std::move(c).error();
  if (c.value().container.status == ContainerStatus::stopped) return not_in_state(c.value().container, "update");
  return c.value().cgroup.apply(resources);
}

Expected<CgroupStats> Runtime::stats(std::string_view id) const {
  auto c = load_with_cgroup(config_, id);
  if (!c) return std::move(c).error();
  return c.value().cgroup.stats();
}

Expected<OomNotifier> Runtime::oom_notifier(std::string_view id) const {
  auto c = load_with_cgroup(config_, id);
  if (!c) return std::move(c).error();
  return c.value().cgroup.oom_notifier();
}

}  // namespace litebox::linux_host
