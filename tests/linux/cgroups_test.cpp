// The cgroups manager against the real cgroups of this host (root), plus host parsing and path resolution from
// fixed texts (anyone). Each test's cgroup is "litebox-test-<pid>-<n>" relative to the test's own cgroup, so
// parallel runs do not collide and the children stay under whatever limits the test itself runs with.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fstream>
#include <linux/magic.h>
#include <optional>
#include <sstream>
#include <thread>

#include "litebox/linux/cgroups.hpp"

namespace {

using namespace litebox::linux_host;
using namespace std::chrono_literals;

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream content;
  content << in.rdbuf();
  std::string text = content.str();
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

bool is_directory(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

std::string unique_name() {
  static std::atomic<int> counter{0};
  return "litebox-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

#define REQUIRE_ROOT()                                                                    \
  do {                                                                                    \
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: creates cgroups on the host";      \
  } while (0)

// A forked child that waits for a byte on a pipe, then runs `body` and exits with its result. Killed and reaped
// when the guard goes, whatever happened.
class Child {
 public:
  template <typename Body>
  explicit Child(Body body) {
    int fds[2];
    if (::pipe(fds) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(fds[1]);
      char go = 0;
      if (::read(fds[0], &go, 1) != 1) ::_exit(120);
      ::_exit(body());
    }
    ::close(fds[0]);
    go_fd_ = fds[1];
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (go_fd_ >= 0) ::close(go_fd_);
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }

  pid_t pid() const { return pid_; }
  void start() {
    const char go = 'g';
    ASSERT_EQ(::write(go_fd_, &go, 1), 1);
  }
  // The wait status once the child ended, or nothing after `timeout`.
  std::optional<int> wait(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      const pid_t done = ::waitpid(pid_, &status, WNOHANG);
      if (done == pid_) {
        reaped_ = true;
        return status;
      }
      std::this_thread::sleep_for(5ms);
    }
    return std::nullopt;
  }

 private:
  pid_t pid_ = -1;
  int go_fd_ = -1;
  bool reaped_ = false;
};

int sleep_forever() {
  for (;;) ::pause();
}

// Owns a test cgroup: kills what is inside and removes it however the test ends.
class CgroupGuard {
 public:
  explicit CgroupGuard(std::string path) : path_(std::move(path)) {
    auto host = CgroupHost::detect();
    if (!host) {
      error_ = host.error().message;
      return;
    }
    host_ = host.value();
    make();
  }
  CgroupGuard(CgroupHost host, std::string path) : path_(std::move(path)), host_(std::move(host)) { make(); }
  CgroupGuard() : CgroupGuard(unique_name()) {}
  CgroupGuard(const CgroupGuard&) = delete;
  CgroupGuard& operator=(const CgroupGuard&) = delete;
  ~CgroupGuard() {
    if (!cgroup_) return;
    (void)cgroup_->kill_all(SIGKILL);
    for (int i = 0; i < 200; ++i) {
      auto pids = cgroup_->pids();
      if (!pids || pids.value().empty()) break;
      std::this_thread::sleep_for(10ms);
    }
    if (auto status = cgroup_->destroy(); !status) ADD_FAILURE() << "cleanup: " << status.error().message;
  }

  bool ok() const { return cgroup_.has_value(); }
  const std::string& error() const { return error_; }
  const std::string& path() const { return path_; }
  const CgroupHost& host() const { return host_; }
  Cgroup& operator*() { return *cgroup_; }
  Cgroup* operator->() { return &*cgroup_; }

 private:
  void make() {
    auto created = Cgroup::create(host_, path_, "unused");
    if (!created) {
      error_ = created.error().message;
      return;
    }
    cgroup_ = std::move(created).value();
  }

  std::string path_;
  std::string error_;
  CgroupHost host_;
  std::optional<Cgroup> cgroup_;
};

#define CREATE_CGROUP(guard)                          \
  REQUIRE_ROOT();                                     \
  CgroupGuard guard;                                  \
  ASSERT_TRUE(guard.ok()) << guard.error()

// ---- parsing and resolution from fixed texts -------------------------------------------------------------

constexpr const char* kHybridMountinfo =
    "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
    "33 30 0:30 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
    "34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd\n"
    "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
constexpr const char* kHybridProcCgroup =
    "5:name=systemd:/\n"
    "4:memory:/process_api/abc\n"
    "3:cpuset:/\n"
    "2:cpu,cpuacct:/runtime\n"
    "0::/\n";

TEST(CgroupHostParse, Hybrid) {
  auto host = CgroupHost::parse(kHybridMountinfo, kHybridProcCgroup, "hugetlb\n");
  ASSERT_TRUE(host) << host.error().message;
  EXPECT_EQ(host.value().mode, CgroupMode::hybrid);
  ASSERT_EQ(host.value().hierarchies.size(), 5u);
  const auto* cpu = host.value().find("cpuacct");
  ASSERT_NE(cpu, nullptr);
  EXPECT_EQ(cpu->name, "cpu,cpuacct");
  EXPECT_EQ(cpu->mount_point, "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(cpu->own_path, "/runtime");
  const auto* systemd = host.value().find("name=systemd");
  ASSERT_NE(systemd, nullptr);
  EXPECT_EQ(systemd->name, "systemd");
  const auto* unified = host.value().unified();
  ASSERT_NE(unified, nullptr);
  EXPECT_EQ(unified->mount_point, "/sys/fs/cgroup/unified");
  EXPECT_EQ(unified->controllers, std::vector<std::string>{"hugetlb"});
}

TEST(CgroupHostParse, UnifiedOnlyAndLegacyOnly) {
  auto v2 = CgroupHost::parse("28 22 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n", "0::/user.slice\n",
                              "cpuset cpu io memory pids");
  ASSERT_TRUE(v2) << v2.error().message;
  EXPECT_EQ(v2.value().mode, CgroupMode::v2);
  ASSERT_EQ(v2.value().hierarchies.size(), 1u);
  EXPECT_TRUE(v2.value().hierarchies[0].has_controller("memory"));
  EXPECT_EQ(v2.value().hierarchies[0].own_path, "/user.slice");

  auto v1 = CgroupHost::parse("34 30 0:31 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n", "4:memory:/\n", "");
  ASSERT_TRUE(v1) << v1.error().message;
  EXPECT_EQ(v1.value().mode, CgroupMode::v1);
  EXPECT_EQ(v1.value().unified(), nullptr);

  auto none = CgroupHost::parse("30 22 0:27 / /tmp rw - tmpfs tmpfs rw\n", "", "");
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("no cgroup"), std::string::npos) << none.error().message;
}

TEST(CgroupPaths, SystemdForm) {
  EXPECT_TRUE(is_systemd_cgroups_path("system.slice:docker:abc"));
  EXPECT_FALSE(is_systemd_cgroups_path("/litebox/abc"));
  EXPECT_FALSE(is_systemd_cgroups_path("litebox/abc"));

  const std::pair<const char*, const char*> cases[] = {
      {"system.slice:docker:abc", "/system.slice/docker-abc.scope"},
      {"a-b.slice:p:c", "/a.slice/a-b.slice/p-c.scope"},
      {":cri-containerd:xyz", "/system.slice/cri-containerd-xyz.scope"},
      {"-.slice:p:c", "/p-c.scope"},
      {"user.slice::c", "/user.slice/c.scope"},
      {"kubepods-burstable.slice:x:pod1.slice", "/kubepods.slice/kubepods-burstable.slice/pod1.slice"},
  };
  for (const auto& [input, expected] : cases) {
    auto path = systemd_cgroup_path(input);
    ASSERT_TRUE(path) << input << ": " << path.error().message;
    EXPECT_EQ(path.value(), expected) << input;
  }
  for (const char* invalid : {"a--b.slice:p:c", "-a.slice:p:c", "notaslice:p:c", "system.slice:p:", "a/b.slice:p:c"}) {
    auto path = systemd_cgroup_path(invalid);
    EXPECT_FALSE(path) << invalid << " -> " << (path ? path.value() : "");
    if (!path) { EXPECT_EQ(path.error().code, EINVAL); }
  }
  auto expanded = expand_systemd_slice("a-b-c.slice");
  ASSERT_TRUE(expanded);
  EXPECT_EQ(expanded.value(), "/a.slice/a-b.slice/a-b-c.slice");
}

TEST(CgroupPaths, ResolvesPlainAndSystemdPathsPerHierarchy) {
  auto host = CgroupHost::parse(kHybridMountinfo, kHybridProcCgroup, "");
  ASSERT_TRUE(host);

  auto absolute = resolve_cgroup_directories(host.value(), "/litebox/abc", "abc");
  ASSERT_TRUE(absolute) << absolute.error().message;
  EXPECT_EQ(absolute.value().at("memory"), "/sys/fs/cgroup/memory/litebox/abc");
  EXPECT_EQ(absolute.value().at("cpu,cpuacct"), "/sys/fs/cgroup/cpu,cpuacct/litebox/abc");
  EXPECT_EQ(absolute.value().at("systemd"), "/sys/fs/cgroup/systemd/litebox/abc");
  EXPECT_EQ(absolute.value().at("unified"), "/sys/fs/cgroup/unified/litebox/abc");

  // Relative: under this process's own cgroup of each hierarchy; ".." cannot climb out of it.
  auto relative = resolve_cgroup_directories(host.value(), "../x/./abc", "abc");
  ASSERT_TRUE(relative) << relative.error().message;
  EXPECT_EQ(relative.value().at("memory"), "/sys/fs/cgroup/memory/process_api/abc/x/abc");
  EXPECT_EQ(relative.value().at("cpu,cpuacct"), "/sys/fs/cgroup/cpu,cpuacct/runtime/x/abc");
  EXPECT_EQ(relative.value().at("cpuset"), "/sys/fs/cgroup/cpuset/x/abc");

  auto escaping = resolve_cgroup_directories(host.value(), "/../../etc", "abc");
  ASSERT_TRUE(escaping);
  EXPECT_EQ(escaping.value().at("memory"), "/sys/fs/cgroup/memory/etc");

  auto systemd = resolve_cgroup_directories(host.value(), "system.slice:docker:abc", "abc");
  ASSERT_TRUE(systemd) << systemd.error().message;
  EXPECT_EQ(systemd.value().at("memory"), "/sys/fs/cgroup/memory/system.slice/docker-abc.scope");
  EXPECT_EQ(systemd.value().at("unified"), "/sys/fs/cgroup/unified/system.slice/docker-abc.scope");

  auto by_id = resolve_cgroup_directories(host.value(), "", "abc");
  ASSERT_TRUE(by_id);
  EXPECT_EQ(by_id.value().at("memory"), "/sys/fs/cgroup/memory/litebox/abc");

  EXPECT_FALSE(resolve_cgroup_directories(host.value(), "/", "abc"));
  EXPECT_FALSE(resolve_cgroup_directories(host.value(), "", "../x"));

  // A mount of a sub-tree (nested containers): own paths are seen through the mount's root.
  auto nested = CgroupHost::parse("34 30 0:31 /docker/c1 /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n",
                                  "4:memory:/docker/c1/sub\n", "");
  ASSERT_TRUE(nested);
  auto nested_relative = resolve_cgroup_directories(nested.value(), "abc", "abc");
  ASSERT_TRUE(nested_relative);
  EXPECT_EQ(nested_relative.value().at("memory"), "/sys/fs/cgroup/memory/sub/abc");
}

// ---- this host ----------------------------------------------------------------------------------------------

TEST(CgroupHost, DetectsThisHostsMode) {
  auto host = CgroupHost::detect();
  ASSERT_TRUE(host) << host.error().message;
  struct statfs root {};
  ASSERT_EQ(::statfs("/sys/fs/cgroup", &root), 0);
  struct statfs unified {};
  const bool has_unified = ::statfs("/sys/fs/cgroup/unified", &unified) == 0 &&
                           unified.f_type == static_cast<decltype(unified.f_type)>(CGROUP2_SUPER_MAGIC);
  if (root.f_type == static_cast<decltype(root.f_type)>(CGROUP2_SUPER_MAGIC)) {
    EXPECT_EQ(host.value().mode, CgroupMode::v2);
  } else if (has_unified) {
    EXPECT_EQ(host.value().mode, CgroupMode::hybrid);
    ASSERT_NE(host.value().unified(), nullptr);
    EXPECT_EQ(host.value().unified()->mount_point, "/sys/fs/cgroup/unified");
  } else {
    EXPECT_EQ(host.value().mode, CgroupMode::v1);
  }
  if (host.value().mode != CgroupMode::v2) {
    const auto* memory = host.value().find("memory");
    ASSERT_NE(memory, nullptr);
    // Our own memory cgroup, as /proc/self/cgroup lists it.
    const auto self = read_file("/proc/self/cgroup");
    EXPECT_NE(self.find(":memory:" + memory->own_path), std::string::npos) << self;
  }
}

TEST(Cgroup, CreatesInEveryHierarchyAndDestroysBottomUp) {
  REQUIRE_ROOT();
  auto host = CgroupHost::detect();
  ASSERT_TRUE(host) << host.error().message;
  const auto top = unique_name();
  std::map<std::string, std::string> directories;
  {
    CgroupGuard cgroup(top + "/inner");
    ASSERT_TRUE(cgroup.ok()) << cgroup.error();
    directories = cgroup->directories();
    EXPECT_EQ(directories.size(), host.value().hierarchies.size());
    for (const auto& hierarchy : host.value().hierarchies) {
      ASSERT_TRUE(directories.count(hierarchy.name)) << hierarchy.name;
      EXPECT_TRUE(is_directory(directories.at(hierarchy.name))) << directories.at(hierarchy.name);
    }
    if (host.value().mode == CgroupMode::hybrid) {
      EXPECT_TRUE(directories.count("unified"));
    }
    // A child cgroup made inside (as a nested runtime would): destroy() removes it first.
    ASSERT_EQ(::mkdir((directories.begin()->second + "/nested").c_str(), 0755), 0);
    if (const auto cpuset = cgroup->directory_of("cpuset"); !cpuset.empty()) {
      // v1 cpuset: inherited so that tasks can join.
      EXPECT_FALSE(read_file(cpuset + "/cpuset.cpus").empty());
      EXPECT_FALSE(read_file(cpuset + "/cpuset.mems").empty());
    }
    auto destroyed = cgroup->destroy();
    ASSERT_TRUE(destroyed) << destroyed.error().message;
    for (const auto& [name, directory] : directories) {
      EXPECT_FALSE(is_directory(directory)) << directory;
      // The parent create() made is gone too.
      EXPECT_FALSE(is_directory(directory.substr(0, directory.rfind('/')))) << directory;
    }
    EXPECT_TRUE(cgroup->destroy()) << "destroying again succeeds";
  }
}

TEST(Cgroup, StateRoundTripsAndOpenFailsOnceDestroyed) {
  CREATE_CGROUP(cgroup);
  const auto state = cgroup->state();
  auto opened = Cgroup::open(state);
  ASSERT_TRUE(opened) << opened.error().message;
  EXPECT_EQ(opened.value().directories(), cgroup->directories());
  EXPECT_EQ(opened.value().mode(), cgroup->mode());
  EXPECT_EQ(opened.value().state(), state);
  oci::LinuxResources resources;
  resources.pids = oci::PidsResources{77};
  ASSERT_TRUE(opened.value().apply(resources));
  EXPECT_EQ(read_file(opened.value().directory_of("pids") + "/pids.max"), "77");
  ASSERT_TRUE(opened.value().destroy());
  auto reopened = Cgroup::open(state);
  ASSERT_FALSE(reopened);
  EXPECT_EQ(reopened.error().code, ENOENT);
  EXPECT_NE(reopened.error().message.find("no longer exists"), std::string::npos) << reopened.error().message;
  EXPECT_FALSE(Cgroup::open("garbage"));
  EXPECT_FALSE(Cgroup::open("litebox-cgroup 1"));
  EXPECT_FALSE(Cgroup::open("litebox-cgroup 1 v1\nmemory\tcgroup"));
  auto kill_gone = cgroup->kill_all(SIGTERM);
  ASSERT_FALSE(kill_gone);
  EXPECT_EQ(kill_gone.error().code, ENOENT);
}

TEST(Cgroup, AppliesLimitsAndReadsThemBack) {
  CREATE_CGROUP(cgroup);
  oci::LinuxResources resources;
  oci::MemoryResources memory;
  memory.limit = 64 << 20;
  memory.reservation = 32 << 20;
  memory.kernel = 1 << 20;  // ignored
  const bool v1 = cgroup->mode() != CgroupMode::v2;
  const auto memory_dir = cgroup->directory_of("memory");
  const bool has_swap = v1 ? ::access((memory_dir + "/memory.memsw.limit_in_bytes").c_str(), F_OK) == 0
                           : ::access((memory_dir + "/memory.swap.max").c_str(), F_OK) == 0;
  if (has_swap) memory.swap = 96 << 20;
  resources.memory = memory;
  oci::CpuResources cpu;
  cpu.shares = 512;
  cpu.quota = 50000;
  cpu.period = 100000;
  cpu.cpus = "0";
  cpu.mems = "0";
  resources.cpu = cpu;
  resources.pids = oci::PidsResources{100};
  auto applied = cgroup->apply(resources);
  ASSERT_TRUE(applied) << applied.error().message;

  if (v1) {
    EXPECT_EQ(read_file(memory_dir + "/memory.limit_in_bytes"), std::to_string(64 << 20));
    EXPECT_EQ(read_file(memory_dir + "/memory.soft_limit_in_bytes"), std::to_string(32 << 20));
    if (has_swap) { EXPECT_EQ(read_file(memory_dir + "/memory.memsw.limit_in_bytes"), std::to_string(96 << 20)); }
    const auto cpu_dir = cgroup->directory_of("cpu");
    EXPECT_EQ(read_file(cpu_dir + "/cpu.shares"), "512");
    EXPECT_EQ(read_file(cpu_dir + "/cpu.cfs_quota_us"), "50000");
    EXPECT_EQ(read_file(cpu_dir + "/cpu.cfs_period_us"), "100000");
    EXPECT_EQ(read_file(cgroup->directory_of("cpuset") + "/cpuset.cpus"), "0");
    EXPECT_EQ(read_file(cgroup->directory_of("cpuset") + "/cpuset.mems"), "0");
    EXPECT_EQ(read_file(cgroup->directory_of("pids") + "/pids.max"), "100");
  } else {
    const auto dir = cgroup->directory_of("unified");
    EXPECT_EQ(read_file(dir + "/memory.max"), std::to_string(64 << 20));
    EXPECT_EQ(read_file(dir + "/memory.low"), std::to_string(32 << 20));
    if (has_swap) { EXPECT_EQ(read_file(dir + "/memory.swap.max"), std::to_string(32 << 20)); }
    EXPECT_EQ(read_file(dir + "/cpu.weight"), std::to_string(1 + ((512 - 2) * 9999) / 262142));
    EXPECT_EQ(read_file(dir + "/cpu.max"), "50000 100000");
    EXPECT_EQ(read_file(dir + "/cpuset.cpus"), "0");
    EXPECT_EQ(read_file(dir + "/pids.max"), "100");
  }

  // Update: a higher limit with a higher swap (v1 must write memsw first), unlimited pids, no quota.
  oci::LinuxResources update;
  oci::MemoryResources bigger;
  bigger.limit = 256 << 20;
  if (has_swap) bigger.swap = 512 << 20;
  update.memory = bigger;
  update.pids = oci::PidsResources{-1};
  oci::CpuResources no_quota;
  no_quota.quota = -1;
  update.cpu = no_quota;
  auto updated = cgroup->apply(update);
  ASSERT_TRUE(updated) << updated.error().message;
  if (v1) {
    EXPECT_EQ(read_file(memory_dir + "/memory.limit_in_bytes"), std::to_string(256 << 20));
    if (has_swap) { EXPECT_EQ(read_file(memory_dir + "/memory.memsw.limit_in_bytes"), std::to_string(512 << 20)); }
    EXPECT_EQ(read_file(cgroup->directory_of("pids") + "/pids.max"), "max");
    EXPECT_EQ(read_file(cgroup->directory_of("cpu") + "/cpu.cfs_quota_us"), "-1");
  } else {
    EXPECT_EQ(read_file(memory_dir + "/memory.max"), std::to_string(256 << 20));
    EXPECT_EQ(read_file(memory_dir + "/pids.max"), "max");
  }
  // And back down below the swap limit in force (v1: limit first this time).
  oci::LinuxResources lower;
  oci::MemoryResources smaller;
  smaller.limit = 48 << 20;
  if (has_swap) smaller.swap = 64 << 20;
  lower.memory = smaller;
  auto lowered = cgroup->apply(lower);
  ASSERT_TRUE(lowered) << lowered.error().message;
  EXPECT_EQ(read_file(memory_dir + (v1 ? "/memory.limit_in_bytes" : "/memory.max")), std::to_string(48 << 20));
}

TEST(Cgroup, ErrorsNameTheFile) {
  CREATE_CGROUP(cgroup);
  oci::LinuxResources resources;
  oci::CpuResources cpu;
  cpu.cpus = "4095";  // no such CPU
  resources.cpu = cpu;
  auto applied = cgroup->apply(resources);
  ASSERT_FALSE(applied);
  EXPECT_NE(applied.error().code, 0);
  const auto expected = (cgroup->mode() == CgroupMode::v2 ? cgroup->directory_of("unified")
                                                         : cgroup->directory_of("cpuset")) + "/cpuset.cpus";
  EXPECT_NE(applied.error().message.find("write " + expected), std::string::npos) << applied.error().message;

  oci::LinuxResources shares;
  shares.cpu = oci::CpuResources{};
  shares.cpu->shares = 1u << 30;  // v1 clamps to 262144: refused instead of silently changed
  if (cgroup->mode() != CgroupMode::v2) {
    auto clamped = cgroup->apply(shares);
    ASSERT_FALSE(clamped);
    EXPECT_NE(clamped.error().message.find("cpu.shares"), std::string::npos) << clamped.error().message;
  }
}

TEST(Cgroup, UnifiedMapAndDevices) {
  CREATE_CGROUP(cgroup);
  oci::LinuxResources unified;
  unified.unified["cgroup.max.descendants"] = "7";
  auto applied = cgroup->apply(unified);
  if (cgroup->mode() == CgroupMode::v1) {
    ASSERT_FALSE(applied);
    EXPECT_NE(applied.error().message.find("unified"), std::string::npos) << applied.error().message;
  } else {
    ASSERT_TRUE(applied) << applied.error().message;
    EXPECT_EQ(read_file(cgroup->directory_of("unified") + "/cgroup.max.descendants"), "7");
  }
  unified.unified = {{"../escape", "1"}};
  EXPECT_FALSE(cgroup->apply(unified));

  if (cgroup->mode() == CgroupMode::v2) GTEST_SKIP() << "v2 device rules need eBPF, which is not implemented";
  oci::LinuxResources devices;
  devices.devices.push_back({false, "", std::nullopt, std::nullopt, "rwm"});  // deny all
  devices.devices.push_back({true, "c", 1, 3, "rwm"});                          // /dev/null
  devices.devices.push_back({true, "c", 136, std::nullopt, "rw"});              // /dev/pts/*
  auto applied_devices = cgroup->apply(devices);
  ASSERT_TRUE(applied_devices) << applied_devices.error().message;
  const auto list = read_file(cgroup->directory_of("devices") + "/devices.list");
  EXPECT_EQ(list, "c 1:3 rwm\nc 136:* rw");
}

TEST(Cgroup, AddProcessListsFreezesThawsAndKills) {
  CREATE_CGROUP(cgroup);
  Child child(sleep_forever);
  ASSERT_GT(child.pid(), 0);
  auto added = cgroup->add_process(child.pid());
  ASSERT_TRUE(added) << added.error().message;
  child.start();

  auto pids = cgroup->pids();
  ASSERT_TRUE(pids) << pids.error().message;
  EXPECT_EQ(pids.value(), std::vector<pid_t>{child.pid()});
  // In every hierarchy, the unified one included.
  const auto membership = read_file("/proc/" + std::to_string(child.pid()) + "/cgroup");
  const auto& host = cgroup.host();
  for (const auto& hierarchy : host.hierarchies) {
    const auto directory = cgroup->directories().at(hierarchy.name);
    const auto relative = directory.substr(hierarchy.mount_point.size());
    EXPECT_NE(membership.find(relative + "\n"), std::string::npos) << hierarchy.name << " " << relative << "\n"
                                                                   << membership;
  }

  auto state = cgroup->freezer_state();
  ASSERT_TRUE(state) << state.error().message;
  EXPECT_EQ(state.value(), FreezerState::running);
  auto frozen = cgroup->freeze();
  ASSERT_TRUE(frozen) << frozen.error().message;
  EXPECT_EQ(cgroup->freezer_state().value(), FreezerState::paused);
  if (cgroup->mode() == CgroupMode::v2) {
    EXPECT_NE(read_file(cgroup->directory_of("unified") + "/cgroup.events").find("frozen 1"), std::string::npos);
  } else {
    EXPECT_EQ(read_file(cgroup->directory_of("freezer") + "/freezer.state"), "FROZEN");
  }
  auto thawed = cgroup->thaw();
  ASSERT_TRUE(thawed) << thawed.error().message;
  EXPECT_EQ(cgroup->freezer_state().value(), FreezerState::running);

  // A paused container stays paused after a non-fatal signal; SIGTERM is delivered once thawed.
  ASSERT_TRUE(cgroup->freeze());
  auto signalled = cgroup->kill_all(SIGTERM);
  ASSERT_TRUE(signalled) << signalled.error().message;
  EXPECT_EQ(cgroup->freezer_state().value(), FreezerState::paused);
  EXPECT_FALSE(child.wait(100ms)) << "a frozen child cannot exit";
  ASSERT_TRUE(cgroup->thaw());
  const auto status = child.wait(5s);
  ASSERT_TRUE(status);
  EXPECT_TRUE(WIFSIGNALED(*status) && WTERMSIG(*status) == SIGTERM) << *status;
}

TEST(Cgroup, KillAllReachesForkedDescendants) {
  CREATE_CGROUP(cgroup);
  Child child([] {
    for (int i = 0; i < 3; ++i) {
      if (::fork() == 0) sleep_forever();
    }
    return sleep_forever();
  });
  ASSERT_TRUE(cgroup->add_process(child.pid()));
  child.start();
  std::vector<pid_t> pids;
  for (int i = 0; i < 200 && pids.size() < 4; ++i) {
    std::this_thread::sleep_for(10ms);
    pids = cgroup->pids().value();
  }
  ASSERT_EQ(pids.size(), 4u);
  auto killed = cgroup->kill_all(SIGKILL);
  ASSERT_TRUE(killed) << killed.error().message;
  const auto status = child.wait(5s);
  ASSERT_TRUE(status);
  EXPECT_TRUE(WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL);
  // The grandchildren (reparented to init or a subreaper) leave the cgroup once reaped.
  for (int i = 0; i < 500 && !cgroup->pids().value().empty(); ++i) std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(cgroup->pids().value().empty());
  EXPECT_EQ(cgroup->freezer_state().value(), FreezerState::running);
}

TEST(Cgroup, PidsLimitMakesForkFailWithEagain) {
  CREATE_CGROUP(cgroup);
  oci::LinuxResources resources;
  resources.pids = oci::PidsResources{1};
  ASSERT_TRUE(cgroup->apply(resources));
  Child child([] {
    const pid_t pid = ::fork();
    if (pid == 0) ::_exit(0);
    if (pid < 0) return errno == EAGAIN ? 42 : 43;
    ::waitpid(pid, nullptr, 0);
    return 44;
  });
  ASSERT_TRUE(cgroup->add_process(child.pid()));
  child.start();
  const auto status = child.wait(5s);
  ASSERT_TRUE(status);
  ASSERT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 42) << "43: fork failed with another errno; 44: fork succeeded";
}

TEST(Cgroup, MemoryLimitOomKillsAndNotifies) {
  CREATE_CGROUP(cgroup);
  oci::LinuxResources resources;
  oci::MemoryResources memory;
  memory.limit = 16 << 20;
  const auto memory_dir = cgroup->directory_of("memory");
  const bool v1 = cgroup->mode() != CgroupMode::v2;
  if (::access((memory_dir + (v1 ? "/memory.memsw.limit_in_bytes" : "/memory.swap.max")).c_str(), F_OK) == 0) {
    memory.swap = 16 << 20;  // no swap: the kill comes at 16 MiB
  }
  resources.memory = memory;
  auto applied = cgroup->apply(resources);
  ASSERT_TRUE(applied) << applied.error().message;
  auto notifier = cgroup->oom_notifier();
  ASSERT_TRUE(notifier) << notifier.error().message;
  auto before = cgroup->oom_kill_count();
  ASSERT_TRUE(before) << before.error().message;
  EXPECT_EQ(before.value(), 0u);

  Child child([] {
    constexpr std::size_t size = 256 << 20;
    void* memory_block = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory_block == MAP_FAILED) return 50;
    auto* bytes = static_cast<volatile char*>(memory_block);
    for (std::size_t offset = 0; offset < size; offset += 4096) bytes[offset] = 1;
    return 51;  // not killed
  });
  ASSERT_TRUE(cgroup->add_process(child.pid()));
  child.start();
  const auto status = child.wait(20s);
  ASSERT_TRUE(status);
  EXPECT_TRUE(WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL) << "status " << *status;

  pollfd readable{notifier.value().fd(), POLLIN, 0};
  ASSERT_EQ(::poll(&readable, 1, 5000), 1) << "the OOM descriptor did not become readable";
  auto killed = notifier.value().consume();
  ASSERT_TRUE(killed) << killed.error().message;
  EXPECT_TRUE(killed.value());
  auto after = cgroup->oom_kill_count();
  ASSERT_TRUE(after);
  EXPECT_GE(after.value(), 1u);
  auto again = notifier.value().consume();
  ASSERT_TRUE(again);
  EXPECT_FALSE(again.value()) << "no new kill since the last consume()";

  auto stats = cgroup->stats();
  ASSERT_TRUE(stats) << stats.error().message;
  EXPECT_GE(stats.value().memory.oom_kill_count, 1u);
  EXPECT_EQ(stats.value().memory.limit, 16u << 20);
  if (v1) {
    EXPECT_GE(stats.value().memory.max_usage, 8u << 20);
  } else {
    EXPECT_GT(stats.value().memory.failcnt, 0u) << "memory.events max";
  }
}

TEST(Cgroup, StatsAreSane) {
  CREATE_CGROUP(cgroup);
  oci::LinuxResources resources;
  resources.pids = oci::PidsResources{50};
  oci::MemoryResources memory;
  memory.limit = 128 << 20;
  resources.memory = memory;
  ASSERT_TRUE(cgroup->apply(resources));
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  Child child([&] {
    // Some CPU and 8 MiB of touched memory, then say so and wait.
    constexpr std::size_t size = 8 << 20;
    auto* block = static_cast<volatile char*>(
        ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    for (std::size_t offset = 0; offset < size; offset += 4096) block[offset] = 1;
    const auto until = std::chrono::steady_clock::now() + 50ms;
    volatile unsigned long spin = 0;
    while (std::chrono::steady_clock::now() < until) spin = spin + 1;
    const char done = 'd';
    if (::write(ready[1], &done, 1) != 1) return 1;
    return sleep_forever();
  });
  ::close(ready[1]);
  ASSERT_TRUE(cgroup->add_process(child.pid()));
  child.start();
  char done = 0;
  ASSERT_EQ(::read(ready[0], &done, 1), 1);
  ::close(ready[0]);

  auto stats = cgroup->stats();
  ASSERT_TRUE(stats) << stats.error().message;
  const auto& s = stats.value();
  EXPECT_GE(s.memory.usage, 8u << 20);
  EXPECT_EQ(s.memory.limit, 128u << 20);
  EXPECT_GE(s.memory.rss, 4u << 20);
  EXPECT_FALSE(s.memory.stat.empty());
  EXPECT_GE(s.cpu.usage_total_ns, 20'000'000u);
  EXPECT_GE(s.cpu.usage_user_ns + s.cpu.usage_system_ns, 1u);
  EXPECT_LE(s.cpu.usage_user_ns + s.cpu.usage_system_ns, s.cpu.usage_total_ns * 2);
  if (cgroup->mode() != CgroupMode::v2) {
    EXPECT_EQ(s.cpu.usage_per_cpu_ns.size(), static_cast<std::size_t>(::sysconf(_SC_NPROCESSORS_CONF)));
  }
  EXPECT_EQ(s.pids.current, 1u);
  EXPECT_EQ(s.pids.limit, 50u);
  EXPECT_EQ(s.memory.oom_kill_count, 0u);
}

TEST(Cgroup, MountSourcesDescribeEveryHierarchy) {
  CREATE_CGROUP(cgroup);
  const auto sources = cgroup->mount_sources();
  ASSERT_EQ(sources.size(), cgroup->directories().size());
  for (const auto& source : sources) {
    EXPECT_TRUE(is_directory(source.host_directory)) << source.host_directory;
    if (source.filesystem_type == "cgroup2") {
      EXPECT_EQ(source.name, cgroup->mode() == CgroupMode::v2 ? "" : "unified");
      EXPECT_EQ(source.host_directory, cgroup->directory_of("unified"));
    } else {
      EXPECT_EQ(source.filesystem_type, "cgroup");
      EXPECT_EQ(cgroup->directories().at(source.name), source.host_directory);
      if (source.name == "systemd") { EXPECT_EQ(source.mount_options, "none,name=systemd"); }
      if (source.name == "memory") { EXPECT_EQ(source.mount_options, "memory"); }
      if (source.name.find(',') != std::string::npos) { EXPECT_FALSE(source.symlinks.empty()) << source.name; }
    }
  }
  if (cgroup->mode() == CgroupMode::hybrid) {
    EXPECT_TRUE(std::any_of(sources.begin(), sources.end(), [](const auto& s) { return s.name == "unified"; }));
  }
  auto host = CgroupHost::parse(kHybridMountinfo, kHybridProcCgroup, "");
  ASSERT_TRUE(host);
}

// The cgroup v2 code paths (freezer, cgroup.kill, cpu.stat, process lists) on this host's cgroup2 hierarchy,
// treated as a v2-only host without delegating any controller (so the host's subtree_control is left alone).
TEST(Cgroup, Cgroup2OnlyPathsOnThisHostsUnifiedHierarchy) {
  REQUIRE_ROOT();
  auto real = CgroupHost::detect();
  ASSERT_TRUE(real) << real.error().message;
  const auto* unified = real.value().unified();
  if (unified == nullptr) GTEST_SKIP() << "no cgroup2 hierarchy on this host";
  const std::string mountinfo = "40 30 0:37 " + unified->mount_root + " " + unified->mount_point +
                                " rw,relatime - cgroup2 cgroup2 rw\n";
  auto host = CgroupHost::parse(mountinfo, "0::" + unified->own_path + "\n", "");
  ASSERT_TRUE(host) << host.error().message;
  ASSERT_EQ(host.value().mode, CgroupMode::v2);
  CgroupGuard cgroup(host.value(), unique_name());
  ASSERT_TRUE(cgroup.ok()) << cgroup.error();
  const auto directory = cgroup->directory_of("unified");
  EXPECT_EQ(cgroup->directory_of("memory"), directory);
  ASSERT_EQ(cgroup->mount_sources().size(), 1u);
  EXPECT_EQ(cgroup->mount_sources()[0].name, "");
  EXPECT_EQ(cgroup->mount_sources()[0].filesystem_type, "cgroup2");

  // No controller delegated: a limit fails and says why and where.
  oci::LinuxResources pids_limit;
  pids_limit.pids = oci::PidsResources{10};
  auto refused = cgroup->apply(pids_limit);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("write " + directory + "/pids.max"), std::string::npos)
      << refused.error().message;
  EXPECT_NE(refused.error().message.find("not enabled"), std::string::npos) << refused.error().message;
  oci::LinuxResources devices;
  devices.devices.push_back({false, "", std::nullopt, std::nullopt, "rwm"});
  EXPECT_TRUE(cgroup->apply(devices)) << "v2 device rules are logged as not enforced, not an error";

  Child child([] {
    const auto until = std::chrono::steady_clock::now() + 30ms;
    volatile unsigned long spin = 0;
    while (std::chrono::steady_clock::now() < until) spin = spin + 1;
    return sleep_forever();
  });
  ASSERT_TRUE(cgroup->add_process(child.pid()));
  child.start();
  EXPECT_EQ(cgroup->pids().value(), std::vector<pid_t>{child.pid()});

  ASSERT_TRUE(cgroup->freeze());
  EXPECT_EQ(cgroup->freezer_state().value(), FreezerState::paused);
  EXPECT_NE(read_file(directory + "/cgroup.events").find("frozen 1"), std::string::npos);
  ASSERT_TRUE(cgroup->thaw());
  EXPECT_EQ(cgroup->freezer_state().value(), FreezerState::running);
  EXPECT_NE(read_file(directory + "/cgroup.events").find("frozen 0"), std::string::npos);

  std::this_thread::sleep_for(50ms);
  auto stats = cgroup->stats();
  ASSERT_TRUE(stats) << stats.error().message;
  EXPECT_GT(stats.value().cpu.usage_total_ns, 0u) << "cpu.stat usage_usec";
  EXPECT_EQ(stats.value().memory.usage, 0u) << "no memory controller here";

  auto killed = cgroup->kill_all(SIGKILL);
  ASSERT_TRUE(killed) << killed.error().message;
  const auto status = child.wait(5s);
  ASSERT_TRUE(status);
  EXPECT_TRUE(WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL);
}

}  // namespace
