// Statistics and OOM notification, from the v1 and v2 file layouts.
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <spdlog/spdlog.h>

#include "cgroup_files.hpp"
#include "litebox/linux/cgroups.hpp"

namespace litebox::linux_host {

namespace files = cgroup_files;

namespace {

// A value of a file that older kernels lack: absent -> `fallback`.
Expected<std::uint64_t> read_optional_uint(const std::string& path, std::uint64_t fallback) {
  if (!files::exists(path)) return fallback;
  return files::read_uint(path);
}

std::uint64_t value_or_zero(const std::map<std::string, std::uint64_t>& values, const std::string& key) {
  const auto found = values.find(key);
  return found == values.end() ? 0 : found->second;
}

Status read_v1_memory(const std::string& directory, CgroupMemoryStats& memory) {
  const auto path = [&](std::string_view file) { return files::join(directory, file); };
  const std::pair<std::string_view, std::uint64_t*> values[] = {{"memory.usage_in_bytes", &memory.usage},
                                                                 {"memory.max_usage_in_bytes", &memory.max_usage},
                                                                 {"memory.limit_in_bytes", &memory.limit},
                                                                 {"memory.failcnt", &memory.failcnt}};
  for (const auto& [file, target] : values) {
    auto value = files::read_uint(path(file));
    if (!value) return std::move(value).error();
    *target = value.value();
  }
  if (files::exists(path("memory.memsw.usage_in_bytes"))) {
    auto memsw_usage = files::read_uint(path("memory.memsw.usage_in_bytes"));
    if (!memsw_usage) return std::move(memsw_usage).error();
    memory.swap_usage = memsw_usage.value() > memory.usage ? memsw_usage.value() - memory.usage : 0;
    auto memsw_limit = files::read_uint(path("memory.memsw.limit_in_bytes"));
    if (!memsw_limit) return std::move(memsw_limit).error();
    memory.swap_limit = memsw_limit.value();
  }
  if (files::exists(path("memory.kmem.usage_in_bytes"))) {
    const std::pair<std::string_view, std::uint64_t*> kernel[] = {
        {"memory.kmem.usage_in_bytes", &memory.kernel_usage},
        {"memory.kmem.max_usage_in_bytes", &memory.kernel_max_usage},
        {"memory.kmem.limit_in_bytes", &memory.kernel_limit},
        {"memory.kmem.failcnt", &memory.kernel_failcnt}};
    for (const auto& [file, target] : kernel) {
      if (auto value = files::read_uint(path(file))) *target = value.value();  // each may be gone in newer kernels
    }
  }
  auto stat = files::read_keyed(path("memory.stat"));
  if (!stat) return std::move(stat).error();
  memory.stat = std::move(stat).value();
  memory.cache = value_or_zero(memory.stat, "total_cache");
  memory.rss = value_or_zero(memory.stat, "total_rss");
  auto oom = files::read_keyed(path("memory.oom_control"));
  if (!oom) return std::move(oom).error();
  memory.oom_kill_count = value_or_zero(oom.value(), "oom_kill");
  return {};
}

Status read_v2_memory(const std::string& directory, CgroupMemoryStats& memory) {
  const auto path = [&](std::string_view file) { return files::join(directory, file); };
  if (!files::exists(path("memory.current"))) return {};  // memory controller not enabled here
  auto usage = files::read_uint(path("memory.current"));
  if (!usage) return std::move(usage).error();
  memory.usage = usage.value();
  auto peak = read_optional_uint(path("memory.peak"), 0);
  if (!peak) return std::move(peak).error();
  memory.max_usage = peak.value();
  auto limit = files::read_uint(path("memory.max"));
  if (!limit) return std::move(limit).error();
  memory.limit = limit.value();
  auto swap_usage = read_optional_uint(path("memory.swap.current"), 0);
  if (!swap_usage) return std::move(swap_usage).error();
  memory.swap_usage = swap_usage.value();
  auto swap_limit = read_optional_uint(path("memory.swap.max"), kCgroupUnlimited);
  if (!swap_limit) return std::move(swap_limit).error();
  memory.swap_limit = swap_limit.value();
  auto stat = files::read_keyed(path("memory.stat"));
  if (!stat) return std::move(stat).error();
  memory.stat = std::move(stat).value();
  memory.cache = value_or_zero(memory.stat, "file");
  memory.rss = value_or_zero(memory.stat, "anon");
  auto events = files::read_keyed(path("memory.events"));
  if (!events) return std::move(events).error();
  memory.failcnt = value_or_zero(events.value(), "max");
  memory.oom_events = value_or_zero(events.value(), "oom");
  memory.oom_kill_count = value_or_zero(events.value(), "oom_kill");
  return {};
}

Status read_v1_cpu(const std::string& cpuacct, const std::string& cpu_directory, CgroupCpuStats& cpu) {
  if (!cpuacct.empty()) {
    const auto path = [&](std::string_view file) { return files::join(cpuacct, file); };
    auto total = files::read_uint(path("cpuacct.usage"));
    if (!total) return std::move(total).error();
    cpu.usage_total_ns = total.value();
    if (files::exists(path("cpuacct.usage_user"))) {
      auto user = files::read_uint(path("cpuacct.usage_user"));
      if (!user) return std::move(user).error();
      auto system = files::read_uint(path("cpuacct.usage_sys"));
      if (!system) return std::move(system).error();
      cpu.usage_user_ns = user.value();
      cpu.usage_system_ns = system.value();
    } else {
      // Older kernels: cpuacct.stat in clock ticks.
      auto stat = files::read_keyed(path("cpuacct.stat"));
      if (!stat) return std::move(stat).error();
      const auto ticks = static_cast<std::uint64_t>(::sysconf(_SC_CLK_TCK));
      const std::uint64_t ns_per_tick = ticks > 0 ? 1'000'000'000ULL / ticks : 10'000'000ULL;
      cpu.usage_user_ns = value_or_zero(stat.value(), "user") * ns_per_tick;
      cpu.usage_system_ns = value_or_zero(stat.value(), "system") * ns_per_tick;
    }
    auto per_cpu = files::read_line(path("cpuacct.usage_percpu"));
    if (!per_cpu) return std::move(per_cpu).error();
    for (const auto& value : files::split(per_cpu.value(), ' ')) {
      if (const auto ns = files::parse_uint(value)) cpu.usage_per_cpu_ns.push_back(*ns);
    }
  }
  if (!cpu_directory.empty()) {
    auto stat = files::read_keyed(files::join(cpu_directory, "cpu.stat"));
    if (!stat) return std::move(stat).error();
    cpu.periods = value_or_zero(stat.value(), "nr_periods");
    cpu.throttled_periods = value_or_zero(stat.value(), "nr_throttled");
    cpu.throttled_time_ns = value_or_zero(stat.value(), "throttled_time");
  }
  return {};
}

Status read_v2_cpu(const std::string& directory, CgroupCpuStats& cpu) {
  auto stat = files::read_keyed(files::join(directory, "cpu.stat"));
  if (!stat) return std::move(stat).error();
  cpu.usage_total_ns = value_or_zero(stat.value(), "usage_usec") * 1000;
  cpu.usage_user_ns = value_or_zero(stat.value(), "user_usec") * 1000;
  cpu.usage_system_ns = value_or_zero(stat.value(), "system_usec") * 1000;
  cpu.periods = value_or_zero(stat.value(), "nr_periods");
  cpu.throttled_periods = value_or_zero(stat.value(), "nr_throttled");
  cpu.throttled_time_ns = value_or_zero(stat.value(), "throttled_usec") * 1000;
  return {};
}

Status read_pids(const std::string& directory, CgroupPidsStats& pids) {
  if (directory.empty() || !files::exists(files::join(directory, "pids.current"))) return {};
  auto current = files::read_uint(files::join(directory, "pids.current"));
  if (!current) return std::move(current).error();
  auto limit = files::read_uint(files::join(directory, "pids.max"));
  if (!limit) return std::move(limit).error();
  pids.current = current.value();
  pids.limit = limit.value();
  return {};
}

Expected<std::uint64_t> read_oom_kill_count(const std::string& memory_directory, bool is_cgroup2) {
  auto values = files::read_keyed(files::join(memory_directory, is_cgroup2 ? "memory.events" : "memory.oom_control"));
  if (!values) return std::move(values).error();
  return value_or_zero(values.value(), "oom_kill");
}

}  // namespace

Expected<CgroupStats> Cgroup::stats() const {
  CgroupStats stats;
  Status status;
  if (mode_ == CgroupMode::v2) {
    const auto directory = directory_of("unified");
    status = read_v2_memory(directory, stats.memory);
    if (status) status = read_v2_cpu(directory, stats.cpu);
    if (status) status = read_pids(directory, stats.pids);
  } else {
    if (const auto memory = directory_of("memory"); !memory.empty()) status = read_v1_memory(memory, stats.memory);
    if (status) status = read_v1_cpu(directory_of("cpuacct"), directory_of("cpu"), stats.cpu);
    if (status) status = read_pids(directory_of("pids"), stats.pids);
  }
  if (!status) return std::move(status).error().context("cgroup stats");
  return stats;
}

Expected<std::uint64_t> Cgroup::oom_kill_count() const {
  const auto* memory = hierarchy_with("memory");
  if (memory == nullptr) return Error{ENOTSUP, "read OOM kill count: no memory controller for this cgroup"};
  return read_oom_kill_count(memory->directory, memory->is_cgroup2);
}

Expected<OomNotifier> Cgroup::oom_notifier() const {
  const auto* memory = hierarchy_with("memory");
  if (memory == nullptr) return Error{ENOTSUP, "watch OOM: no memory controller for this cgroup"};
  OomNotifier notifier;
  notifier.memory_directory_ = memory->directory;
  notifier.is_cgroup2_ = memory->is_cgroup2;
  auto count = read_oom_kill_count(memory->directory, memory->is_cgroup2);
  if (!count) return std::move(count).error().context("watch OOM");
  notifier.last_oom_kill_count_ = count.value();
  if (memory->is_cgroup2) {
    notifier.fd_ = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (notifier.fd_ < 0) return Error::from_errno("watch OOM: inotify_init1");
    const auto events = files::join(memory->directory, "memory.events");
    if (::inotify_add_watch(notifier.fd_, events.c_str(), IN_MODIFY) < 0) {
      return Error::from_errno("watch OOM: inotify_add_watch " + events);
    }
    return notifier;
  }
  notifier.fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (notifier.fd_ < 0) return Error::from_errno("watch OOM: eventfd");
  const auto oom_control = files::join(memory->directory, "memory.oom_control");
  const int control_fd = ::open(oom_control.c_str(), O_RDONLY | O_CLOEXEC);
  if (control_fd < 0) return Error::from_errno("watch OOM: open " + oom_control);
  // The registration keeps what it needs; memory.oom_control's descriptor may go afterwards.
  auto registered = files::write(files::join(memory->directory, "cgroup.event_control"),
                                 std::to_string(notifier.fd_) + " " + std::to_string(control_fd));
  ::close(control_fd);
  if (!registered) return std::move(registered).error().context("watch OOM");
  return notifier;
}

OomNotifier::OomNotifier(OomNotifier&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      memory_directory_(std::move(other.memory_directory_)),
      is_cgroup2_(other.is_cgroup2_),
      last_oom_kill_count_(other.last_oom_kill_count_) {}

OomNotifier& OomNotifier::operator=(OomNotifier&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    memory_directory_ = std::move(other.memory_directory_);
    is_cgroup2_ = other.is_cgroup2_;
    last_oom_kill_count_ = other.last_oom_kill_count_;
  }
  return *this;
}

OomNotifier::~OomNotifier() {
  if (fd_ >= 0) ::close(fd_);
}

Expected<bool> OomNotifier::consume() {
  if (fd_ < 0) return Error{EBADF, "OOM notifier: not set up"};
  char buffer[4096];
  while (::read(fd_, buffer, sizeof buffer) > 0) {
  }
  if (errno != EAGAIN && errno != EWOULDBLOCK) return Error::from_errno("OOM notifier: read");
  auto count = read_oom_kill_count(memory_directory_, is_cgroup2_);
  if (!count) {
    // The cgroup is gone (v1 signals its eventfd on removal): no further kills can come.
    if (count.error().code == ENOENT) return false;
    return std::move(count).error().context("OOM notifier");
  }
  const bool killed = count.value() > last_oom_kill_count_;
  last_oom_kill_count_ = count.value();
  return killed;
}

}  // namespace litebox::linux_host
