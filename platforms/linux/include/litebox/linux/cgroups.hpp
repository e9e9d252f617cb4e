// The container's control groups: host detection (cgroup v1, v2, hybrid), cgroupsPath resolution (plain
// paths with runc's fs-driver rules and the systemd "slice:prefix:name" form, mapped to the directories
// systemd would use), resource limits from linux.resources, membership, freezing, signalling, statistics,
// OOM notification and removal.
//
// Later commands (ps, pause, update, delete, stats) run in other processes: Cgroup::state() is a string to
// persist with the container and Cgroup::open(state) gives the same cgroup back without re-resolving paths
// (a relative cgroupsPath depends on the caller's own cgroup, which may differ between commands).
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

#include "litebox/linux/error.hpp"
#include "oci/linux_resources.hpp"

namespace litebox::linux_host {

enum class CgroupMode {
  v1,      // only cgroup v1 hierarchies ("legacy")
  v2,      // cgroup2 mounted at /sys/fs/cgroup ("unified")
  hybrid,  // v1 controllers plus cgroup2 at /sys/fs/cgroup/unified without resource controllers
};

const char* to_string(CgroupMode mode);

// One mounted hierarchy of the host, as this process sees it.
struct CgroupHierarchy {
  // "memory", "cpu,cpuacct", "systemd" (for name=systemd) for v1; "unified" for cgroup2.
  std::string name;
  std::vector<std::string> controllers;  // v1: "memory", "name=systemd"...; cgroup2: cgroup.controllers
  bool is_cgroup2 = false;
  std::string mount_point;  // "/sys/fs/cgroup/memory"
  std::string mount_root;   // the hierarchy path mounted there (mountinfo field 4), usually "/"
  std::string own_path;     // this process's cgroup in the hierarchy, from /proc/self/cgroup

  bool has_controller(std::string_view controller) const;
};

// The host's cgroup layout.
struct CgroupHost {
  CgroupMode mode = CgroupMode::v1;
  std::vector<CgroupHierarchy> hierarchies;

  // Reads /proc/self/mountinfo and /proc/self/cgroup.
  static Expected<CgroupHost> detect();
  // The same from given texts (tests; `cgroup2_controllers` is what the cgroup2 root's cgroup.controllers
  // says, empty when there is no cgroup2).
  static Expected<CgroupHost> parse(std::string_view mountinfo, std::string_view proc_self_cgroup,
                                    std::string_view cgroup2_controllers);

  const CgroupHierarchy* find(std::string_view controller) const;  // the hierarchy with that controller
  const CgroupHierarchy* unified() const;                           // the cgroup2 hierarchy, if any
};

// The systemd form "slice:prefix:name": true when `cgroups_path` has exactly two ':' and does not start
// with '/'.
bool is_systemd_cgroups_path(std::string_view cgroups_path);

// Maps "slice:prefix:name" to the path systemd would use under each hierarchy's root:
// "system.slice:docker:abc" -> "/system.slice/docker-abc.scope", "a-b.slice::c" -> "/a.slice/a-b.slice/c.scope",
// a name ending in ".slice" is used as the unit itself, an empty slice means "system.slice", "-.slice" the root.
Expected<std::string> systemd_cgroup_path(std::string_view cgroups_path);

// "a-b-c.slice" -> "/a.slice/a-b.slice/a-b-c.slice" (systemd's slice nesting); "-.slice" -> "/".
Expected<std::string> expand_systemd_slice(std::string_view slice);

// The default cgroupsPath for a container without one.
std::string default_cgroups_path(std::string_view container_id);

// The directory of the cgroup in every hierarchy it lives in, keyed by CgroupHierarchy::name. Plain absolute
// paths are joined to each hierarchy's mount point, relative ones to this process's own cgroup there (runc's
// fs driver); ".." cannot climb above either.
Expected<std::map<std::string, std::string>> resolve_cgroup_directories(const CgroupHost& host,
                                                                       std::string_view cgroups_path,
                                                                       std::string_view container_id);

// What the container's /sys/fs/cgroup shows: one entry per hierarchy.
struct CgroupMountSource {
  // Directory name under /sys/fs/cgroup: "memory", "cpu,cpuacct", "systemd", "unified" (hybrid); empty for
  // a cgroup2-only host, where the cgroup2 is /sys/fs/cgroup itself.
  std::string name;
  std::string host_directory;   // this container's cgroup directory in the host's hierarchy (bind source)
  std::string filesystem_type;  // "cgroup" or "cgroup2"
  std::string mount_options;    // data for a fresh mount in a cgroup namespace: "cpu,cpuacct", "none,name=systemd", ""
  std::vector<std::string> symlinks;  // "cpu" and "cpuacct" for "cpu,cpuacct": links to `name`, as runc makes
};

enum class FreezerState {
  running,
  freezing,  // v1 FREEZING / v2 cgroup.freeze written but cgroup.events not yet "frozen 1"
  paused,
};

const char* to_string(FreezerState state);

inline constexpr std::uint64_t kCgroupUnlimited = std::numeric_limits<std::uint64_t>::max();

struct CgroupMemoryStats {
  std::uint64_t usage = 0;      // v1 memory.usage_in_bytes, v2 memory.current
  std::uint64_t max_usage = 0;  // v1 memory.max_usage_in_bytes, v2 memory.peak (0 when the kernel lacks it)
  std::uint64_t limit = kCgroupUnlimited;
  std::uint64_t failcnt = 0;    // v1 memory.failcnt, v2 memory.events "max"
  std::uint64_t swap_usage = 0;  // v1 memsw.usage - usage, v2 memory.swap.current
  std::uint64_t swap_limit = kCgroupUnlimited;  // v1 memsw limit (memory + swap), v2 memory.swap.max
  std::uint64_t cache = 0;      // v1 total_cache, v2 file
  std::uint64_t rss = 0;        // v1 total_rss, v2 anon
  // v1 memory.kmem.* (kernel memory: slabs, stacks, page tables), when the kernel still has them; v2 has it in
  // memory.stat ("kernel").
  std::uint64_t kernel_usage = 0;
  std::uint64_t kernel_max_usage = 0;
  std::uint64_t kernel_limit = kCgroupUnlimited;
  std::uint64_t kernel_failcnt = 0;
  std::uint64_t oom_events = 0;      // v1 under_oom transitions are not counted: v2 memory.events "oom"
  std::uint64_t oom_kill_count = 0;  // v1 memory.oom_control / v2 memory.events "oom_kill"
  std::map<std::string, std::uint64_t> stat;  // memory.stat as the kernel lists it
};

struct CgroupCpuStats {
  std::uint64_t usage_total_ns = 0;
  std::uint64_t usage_user_ns = 0;
  std::uint64_t usage_system_ns = 0;
  std::vector<std::uint64_t> usage_per_cpu_ns;  // v1 cpuacct.usage_percpu; empty on v2
  std::uint64_t periods = 0;
  std::uint64_t throttled_periods = 0;
  std::uint64_t throttled_time_ns = 0;
};

struct CgroupPidsStats {
  std::uint64_t current = 0;
  std::uint64_t limit = kCgroupUnlimited;
};

struct CgroupStats {
  CgroupMemoryStats memory;
  CgroupCpuStats cpu;
  CgroupPidsStats pids;
};

// Readable (poll/epoll) when the cgroup's memory controller reports an OOM event. v1: an eventfd registered
// with memory.oom_control through cgroup.event_control (it also fires once when the cgroup is removed);
// v2: inotify on memory.events (fires on any change of that file). Either way call consume(): it drains the
// descriptor and says whether the oom_kill counter went up since the last call.
class OomNotifier {
 public:
  OomNotifier() = default;
  OomNotifier(OomNotifier&& other) noexcept;
  OomNotifier& operator=(OomNotifier&& other) noexcept;
  OomNotifier(const OomNotifier&) = delete;
  OomNotifier& operator=(const OomNotifier&) = delete;
  ~OomNotifier();

  int fd() const { return fd_; }
  // Drains the descriptor (non-blocking) and compares the oom_kill count with the last one seen.
  Expected<bool> consume();

 private:
  friend class Cgroup;
  int fd_ = -1;
  std::string memory_directory_;
  bool is_cgroup2_ = false;
  std::uint64_t last_oom_kill_count_ = 0;
};

class Cgroup {
 public:
  // Resolves `cgroups_path` (empty: default_cgroups_path(container_id)) and creates the cgroup's directory in
  // every hierarchy (v1: every mounted hierarchy, named ones such as name=systemd too; hybrid: also the
  // cgroup2 one). v1 cpuset directories get their parent's cpus and mems so tasks can join; v2 parents get
  // the available controllers in cgroup.subtree_control. Existing directories are reused (runc does too).
  static Expected<Cgroup> create(const CgroupHost& host, std::string_view cgroups_path,
                                 std::string_view container_id);
  // A cgroup from a previous state() string; fails when none of its directories exists any more.
  static Expected<Cgroup> open(std::string_view state);

  // Text to persist: a header line "litebox-cgroup 1 <mode>", then one line per hierarchy:
  // "<name>\t<cgroup|cgroup2>\t<controllers, comma-separated, or ->\t<directory>\t<topmost directory create()
  // made, or ->". Directories never contain tabs or newlines (resolution refuses them).
  std::string state() const;

  CgroupMode mode() const { return mode_; }
  // Hierarchy name -> directory of this cgroup.
  const std::map<std::string, std::string>& directories() const { return directories_; }
  // The directory in the hierarchy holding `controller` ("memory", "cpu", "freezer", ...; "unified" for the
  // cgroup2 one), or empty.
  std::string directory_of(std::string_view controller) const;

  // Limits for create and update. Fields not set are left as they are.
  Status apply(const oci::LinuxResources& resources);

  // Moves `pid` (the whole thread group) into every hierarchy's directory.
  Status add_process(pid_t pid);
  // Every process in the cgroup and its descendants.
  Expected<std::vector<pid_t>> pids() const;

  // Return once the kernel reports the state reached (or fail after ~10 s).
  Status freeze();
  Status thaw();
  Expected<FreezerState> freezer_state() const;

  // Sends `signal` to every process. v2 SIGKILL uses cgroup.kill where the kernel has it; otherwise the cgroup
  // is frozen while the list is taken and signalled (new forks cannot escape), then left as it was (thawed
  // for SIGKILL so the processes can die).
  Status kill_all(int signal);

  // Removes the directories bottom-up (descendants first, then this one, then the parents create() made when
  // they are empty), retrying on EBUSY while processes exit. Succeeds when they are already gone.
  Status destroy();

  Expected<CgroupStats> stats() const;
  Expected<std::uint64_t> oom_kill_count() const;
  Expected<OomNotifier> oom_notifier() const;

  // For the rootfs code mounting "cgroup" inside the container.
  std::vector<CgroupMountSource> mount_sources() const;

 private:
  struct Hierarchy {
    std::string name;
    bool is_cgroup2 = false;
    std::vector<std::string> controllers;
    std::string directory;
    std::string created_from;  // the topmost directory create() made, empty when all existed
  };

  const Hierarchy* hierarchy_with(std::string_view controller) const;
  // The directory used for process lists and freezing: the freezer's (v1/hybrid) or the cgroup2 one.
  const Hierarchy* process_hierarchy() const;
  Status apply_v1(const oci::LinuxResources& resources);
  Status apply_v2(const oci::LinuxResources& resources);

  CgroupMode mode_ = CgroupMode::v1;
  std::vector<Hierarchy> hierarchies_;
  std::map<std::string, std::string> directories_;
};

}  // namespace litebox::linux_host
