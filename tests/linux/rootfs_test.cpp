// The container's root file system (rootfs_setup.hpp and its parts). Each test that mounts forks a child
// that unshares a mount namespace (and pid, network, IPC, UTS namespaces), forks again to be the new pid
// namespace's init, builds the root on a fresh busybox tree, looks around inside and writes what it saw to a
// pipe as "key=value" lines; the test process asserts on them. The namespaces die with the children, so the
// host keeps no mount: every test checks that nothing under its scratch directory is left mounted.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>

#include "busybox_rootfs.hpp"
#include "litebox/linux/devices.hpp"
#include "litebox/linux/mount_options.hpp"
#include "litebox/linux/path_in_root.hpp"
#include "litebox/linux/rootfs_setup.hpp"

namespace fs = std::filesystem;
using namespace litebox::linux_host;

namespace {

using Report = std::map<std::string, std::string>;

// What a child writes: lines "key=value".
class ReportWriter {
 public:
  void add(const std::string& key, const std::string& value) { text_ += key + "=" + value + "\n"; }
  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

void write_all(int fd, const std::string& text) {
  for (std::size_t done = 0; done < text.size();) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

// Runs `body` in a grandchild that is pid 1 of new pid, mount, network, IPC and UTS namespaces (plus `extra`
// namespaces) and returns its report and exit status.
Report run_in_namespaces(const std::function<void(ReportWriter&)>& body, int extra = 0) {
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) return {{"harness", "pipe failed"}};
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(pipefd[0]);
    if (::unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | extra) != 0) {
      write_all(pipefd[1], std::string("harness=unshare: ") + std::strerror(errno) + "\n");
      ::_exit(2);
    }
    const pid_t init = ::fork();
    if (init == 0) {
      ReportWriter writer;
      body(writer);
      write_all(pipefd[1], writer.text());
      ::_exit(0);
    }
    int status = 0;
    ::waitpid(init, &status, 0);
    ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 3);
  }
  ::close(pipefd[1]);
  std::string text;
  char buffer[4096];
  for (ssize_t n; (n = ::read(pipefd[0], buffer, sizeof buffer)) > 0;) text.append(buffer, static_cast<std::size_t>(n));
  ::close(pipefd[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  Report report;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    const auto equals = line.find('=');
    if (equals != std::string::npos) report[line.substr(0, equals)] = line.substr(equals + 1);
  }
  report["exit"] = std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  return report;
}

oci::Mount make_mount(const std::string& destination, const std::string& type, const std::string& source,
                      std::vector<std::string> options) {
  oci::Mount mount;
  mount.destination = destination;
  mount.type = type;
  mount.source = source;
  mount.options = std::move(options);
  return mount;
}

// The spec `runc spec` writes (its mounts, masked and read-only paths), with a read-only root.
oci::Spec default_spec() {
  oci::Spec spec;
  spec.oci_version = "1.2.0";
  spec.root = oci::Root{"rootfs", true};
  spec.mounts = {
      make_mount("/proc", "proc", "proc", {}),
      make_mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
      make_mount("/dev/pts", "devpts", "devpts",
                 {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}),
      make_mount("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}),
      make_mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
      make_mount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}),
      make_mount("/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"}),
  };
  oci::Linux linux_config;
  for (const char* type : {"pid", "network", "ipc", "uts", "mount"}) linux_config.namespaces.push_back({type, ""});
  linux_config.masked_paths = {"/proc/acpi",          "/proc/asound",     "/proc/kcore",       "/proc/keys",
                               "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
                               "/sys/firmware",       "/proc/scsi"};
  linux_config.readonly_paths = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};
  spec.linux_config = linux_config;
  return spec;
}

// The host's cgroup v1 hierarchies (and the hybrid cgroup2), at their roots: what a container gets as
// CgroupMountSource, without needing a cgroup of its own for the test.
std::vector<CgroupMountSource> host_cgroup_sources() {
  std::vector<CgroupMountSource> sources;
  std::ifstream mounts("/proc/self/mounts");
  for (std::string line; std::getline(mounts, line);) {
    std::istringstream fields(line);
    std::string device, mount_point, type, options;
    fields >> device >> mount_point >> type >> options;
    if (type != "cgroup" && type != "cgroup2") continue;
    if (mount_point.rfind("/sys/fs/cgroup", 0) != 0) continue;
    CgroupMountSource source;
    source.host_directory = mount_point;
    source.filesystem_type = type;
    source.name = mount_point == "/sys/fs/cgroup" ? "" : fs::path(mount_point).filename().string();
    sources.push_back(source);
  }
  return sources;
}

std::string stat_device(const char* path) {
  struct stat status {};
  if (::lstat(path, &status) != 0) return std::string("missing: ") + std::strerror(errno);
  if (!S_ISCHR(status.st_mode)) return "not a char device";
  std::ostringstream out;
  out << "char:" << major(status.st_rdev) << ":" << minor(status.st_rdev) << ":" << std::oct
      << (status.st_mode & 07777);
  return out.str();
}

std::string link_target(const char* path) {
  char target[4096];
  const ssize_t n = ::readlink(path, target, sizeof target - 1);
  return n < 0 ? std::string("not a link: ") + std::strerror(errno) : std::string(target, static_cast<std::size_t>(n));
}

// "ok", or the errno name an attempt to create `path` for writing failed with.
std::string try_write(const char* path) {
  const int fd = ::open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return errno == EROFS ? "EROFS" : std::string("errno ") + std::strerror(errno);
  const bool wrote = ::write(fd, "x", 1) == 1;
  ::close(fd);
  return wrote ? "ok" : "write failed";
}

// The file's text without trailing newlines (reports are line based).
std::string read_text(const char* path) {
  std::ifstream in(path);
  if (!in) return "<unreadable>";
  std::ostringstream out;
  out << in.rdbuf();
  std::string text = out.str();
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

std::string fs_type(const char* path) {
  struct statfs status {};
  if (::statfs(path, &status) != 0) return "missing";
  if (status.f_type == TMPFS_MAGIC) return "tmpfs";
  if (status.f_type == PROC_SUPER_MAGIC) return "proc";
  if (status.f_type == SYSFS_MAGIC) return "sysfs";
  if (status.f_type == CGROUP_SUPER_MAGIC) return "cgroup";
  if (status.f_type == CGROUP2_SUPER_MAGIC) return "cgroup2";
  return "other";
}

// Mount points under `directory` in this (the host's) mount namespace.
std::vector<std::string> host_mounts_under(const fs::path& directory) {
  std::vector<std::string> found;
  std::ifstream mountinfo("/proc/self/mountinfo");
  for (std::string line; std::getline(mountinfo, line);) {
    std::istringstream fields(line);
    std::string id, parent, device, root, mount_point;
    fields >> id >> parent >> device >> root >> mount_point;
    if (mount_point.rfind(directory.string(), 0) == 0) found.push_back(mount_point);
  }
  return found;
}

class RootfsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "building a container's root file system needs root (mounts, pivot_root)";
    if (!litebox::testing::have_busybox())
      GTEST_SKIP() << "busybox-static is not installed (apt install busybox-static)";
    scratch_ = fs::canonical(litebox::testing::make_scratch_dir("rootfs"));
    rootfs_ = scratch_ / "rootfs";
    litebox::testing::make_busybox_rootfs(rootfs_);
    setup_.rootfs = rootfs_.string();
    setup_.bundle = scratch_.string();
    setup_.cgroup_mounts = host_cgroup_sources();
  }
  void TearDown() override {
    if (scratch_.empty()) return;
    EXPECT_TRUE(host_mounts_under(scratch_).empty()) << "a mount under " << scratch_ << " leaked to the host";
    std::error_code ignored;
    fs::remove_all(scratch_, ignored);
  }

  // Sets the root up with `spec` in new namespaces; on success runs `inspect` inside.
  Report run(const oci::Spec& spec, const std::function<void(ReportWriter&)>& inspect, int extra = 0) {
    return run_in_namespaces(
        [&](ReportWriter& out) {
          auto done = setup_rootfs(spec, setup_);
          out.add("setup", done ? "ok" : done.error().message);
          if (done) inspect(out);
        },
        extra);
  }

  fs::path scratch_;
  fs::path rootfs_;
  RootfsSetup setup_;
};

TEST_F(RootfsTest, DefaultSpecGivesDevicesProcSysAndMasks) {
  ASSERT_FALSE(setup_.cgroup_mounts.empty()) << "the test expects cgroup hierarchies under /sys/fs/cgroup";
  const std::string first_hierarchy = setup_.cgroup_mounts.front().name;
  auto report = run(default_spec(), [&](ReportWriter& out) {
    out.add("null", stat_device("/dev/null"));
    out.add("zero", stat_device("/dev/zero"));
    out.add("full", stat_device("/dev/full"));
    out.add("random", stat_device("/dev/random"));
    out.add("urandom", stat_device("/dev/urandom"));
    out.add("tty", stat_device("/dev/tty"));
    out.add("ptmx", link_target("/dev/ptmx"));
    out.add("pts_ptmx", stat_device("/dev/pts/ptmx"));
    out.add("fd", link_target("/dev/fd"));
    out.add("stdin", link_target("/dev/stdin"));
    out.add("stderr", link_target("/dev/stderr"));
    out.add("core", link_target("/dev/core"));
    out.add("proc_self", link_target("/proc/self"));
    out.add("proc_type", fs_type("/proc"));
    out.add("kcore", read_text("/proc/kcore"));
    out.add("keys", read_text("/proc/keys"));
    out.add("timer_list", read_text("/proc/timer_list"));
    out.add("firmware_type", fs_type("/sys/firmware"));
    out.add("firmware_write", try_write("/sys/firmware/litebox"));
    out.add("proc_sys_write", try_write("/proc/sys/kernel/domainname"));
    out.add("proc_sys_readable", read_text("/proc/sys/kernel/ostype"));
    out.add("acpi_type", ::access("/proc/acpi", F_OK) == 0 ? fs_type("/proc/acpi") : "absent");
    out.add("root_write", try_write("/litebox-root-write"));
    out.add("dev_write", try_write("/dev/litebox-dev-write"));
    out.add("shm_mode", [] {
      struct stat status {};
      return ::stat("/dev/shm", &status) == 0 ? std::to_string(status.st_mode & 07777) : "missing";
    }());
    out.add("shm_type", fs_type("/dev/shm"));
    out.add("sys_type", fs_type("/sys"));
    out.add("sys_write", try_write("/sys/kernel/litebox"));
    out.add("cgroup_type", fs_type("/sys/fs/cgroup"));
    const std::string hierarchy = "/sys/fs/cgroup/" + first_hierarchy;
    out.add("cgroup_hierarchy_type", fs_type(hierarchy.c_str()));
    out.add("cgroup_procs", ::access((hierarchy + "/cgroup.procs").c_str(), F_OK) == 0 ? "present" : "missing");
    out.add("cgroup_write", try_write((hierarchy + "/rootfs-test-write-probe").c_str()));
    out.add("host_invisible", ::access("/work", F_OK) == 0 || ::access(rootfs_.c_str(), F_OK) == 0 ? "no" : "yes");
    char cwd[4096];
    out.add("cwd", ::getcwd(cwd, sizeof cwd) != nullptr ? cwd : "?");
    out.add("busybox", ::access("/bin/busybox", X_OK) == 0 ? "present" : "missing");
  });
  ASSERT_EQ(report["setup"], "ok");
  EXPECT_EQ(report["null"], "char:1:3:666");
  EXPECT_EQ(report["zero"], "char:1:5:666");
  EXPECT_EQ(report["full"], "char:1:7:666");
  EXPECT_EQ(report["random"], "char:1:8:666");
  EXPECT_EQ(report["urandom"], "char:1:9:666");
  EXPECT_EQ(report["tty"], "char:5:0:666");
  EXPECT_EQ(report["ptmx"], "pts/ptmx");
  EXPECT_EQ(report["pts_ptmx"], "char:5:2:666");
  EXPECT_EQ(report["fd"], "/proc/self/fd");
  EXPECT_EQ(report["stdin"], "/proc/self/fd/0");
  EXPECT_EQ(report["stderr"], "/proc/self/fd/2");
  const bool host_has_kcore = ::access("/proc/kcore", F_OK) == 0;
  EXPECT_EQ(report["core"], host_has_kcore ? "/proc/kcore" : "not a link: No such file or directory");
  EXPECT_EQ(report["proc_self"], "1");
  EXPECT_EQ(report["proc_type"], "proc");
  EXPECT_EQ(report["kcore"], host_has_kcore ? "" : "<unreadable>");
  if (::access("/proc/keys", F_OK) == 0) {
    EXPECT_EQ(report["keys"], "") << "masked by /dev/null";
  }
  if (::access("/proc/timer_list", F_OK) == 0) {
    EXPECT_EQ(report["timer_list"], "") << "masked by /dev/null";
  }
  EXPECT_EQ(report["firmware_type"], "tmpfs");
  EXPECT_EQ(report["firmware_write"], "EROFS");
  EXPECT_EQ(report["proc_sys_write"], "EROFS");
  EXPECT_EQ(report["proc_sys_readable"], "Linux");
  EXPECT_TRUE(report["acpi_type"] == "tmpfs" || report["acpi_type"] == "absent") << report["acpi_type"];
  EXPECT_EQ(report["root_write"], "EROFS");
  EXPECT_EQ(report["dev_write"], "ok");
  EXPECT_EQ(report["shm_mode"], std::to_string(01777));
  EXPECT_EQ(report["shm_type"], "tmpfs");
  EXPECT_EQ(report["sys_type"], "sysfs");
  EXPECT_EQ(report["sys_write"], "EROFS");
  EXPECT_EQ(report["cgroup_type"], "tmpfs");
  EXPECT_TRUE(report["cgroup_hierarchy_type"] == "cgroup" || report["cgroup_hierarchy_type"] == "cgroup2");
  EXPECT_EQ(report["cgroup_procs"], "present");
  EXPECT_EQ(report["cgroup_write"], "EROFS");
  EXPECT_EQ(report["host_invisible"], "yes");
  EXPECT_EQ(report["cwd"], "/");
  EXPECT_EQ(report["busybox"], "present");
  EXPECT_EQ(report["exit"], "0");
}

TEST_F(RootfsTest, CgroupNamespaceMountsHierarchiesAfresh) {
  for (auto& source : setup_.cgroup_mounts) {
    if (source.filesystem_type == "cgroup") {
      source.mount_options = source.name == "systemd" ? "none,name=systemd" : source.name;
    }
  }
  auto spec = default_spec();
  spec.root->readonly = false;
  spec.linux_config->namespaces.push_back({"cgroup", ""});
  const std::string first_hierarchy = setup_.cgroup_mounts.front().name;
  auto report = run(
      spec,
      [&](ReportWriter& out) {
        const std::string hierarchy = "/sys/fs/cgroup/" + first_hierarchy;
        out.add("hierarchy_type", fs_type(hierarchy.c_str()));
        out.add("cgroup_procs", ::access((hierarchy + "/cgroup.procs").c_str(), F_OK) == 0 ? "present" : "missing");
        out.add("cgroup_write", try_write((hierarchy + "/rootfs-test-write-probe").c_str()));
      },
      CLONE_NEWCGROUP);
  ASSERT_EQ(report["setup"], "ok");
  EXPECT_TRUE(report["hierarchy_type"] == "cgroup" || report["hierarchy_type"] == "cgroup2");
  EXPECT_EQ(report["cgroup_procs"], "present");
  EXPECT_EQ(report["cgroup_write"], "EROFS");
}

TEST_F(RootfsTest, BindMountsOfHostDirectoriesAndFiles) {
  const fs::path shared = scratch_ / "shared";
  const fs::path read_only = scratch_ / "read-only";
  fs::create_directories(shared);
  fs::create_directories(read_only);
  std::ofstream(shared / "hello.txt") << "from the host";
  std::ofstream(read_only / "data.txt") << "read only";
  std::ofstream(scratch_ / "single-file") << "one file";
  auto spec = default_spec();
  spec.root->readonly = false;
  spec.mounts.push_back(make_mount("/mnt/shared", "bind", shared.string(), {"rbind", "rw"}));
  spec.mounts.push_back(make_mount("/mnt/ro", "none", "read-only", {"bind", "ro", "nosuid", "nodev"}));  // relative
  spec.mounts.push_back(make_mount("/etc/single-file", "bind", (scratch_ / "single-file").string(), {"bind", "ro"}));
  auto report = run(spec, [](ReportWriter& out) {
    out.add("shared", read_text("/mnt/shared/hello.txt"));
    out.add("shared_write", try_write("/mnt/shared/written-inside"));
    out.add("ro", read_text("/mnt/ro/data.txt"));
    out.add("ro_write", try_write("/mnt/ro/nope"));
    struct statvfs status {};
    const bool have = ::statvfs("/mnt/ro", &status) == 0;
    out.add("ro_flags",
            have && (status.f_flag & ST_NOSUID) != 0 && (status.f_flag & ST_NODEV) != 0 ? "nosuid,nodev" : "missing");
    out.add("file", read_text("/etc/single-file"));
    out.add("file_write", try_write("/etc/single-file"));
  });
  ASSERT_EQ(report["setup"], "ok");
  EXPECT_EQ(report["shared"], "from the host");
  EXPECT_EQ(report["shared_write"], "ok");
  EXPECT_TRUE(fs::exists(shared / "written-inside"));
  EXPECT_EQ(report["ro"], "read only");
  EXPECT_EQ(report["ro_write"], "EROFS");
  EXPECT_EQ(report["ro_flags"], "nosuid,nodev");
  EXPECT_EQ(report["file"], "one file");
  EXPECT_EQ(report["file_write"], "EROFS");
  EXPECT_TRUE(fs::is_regular_file(rootfs_ / "etc/single-file")) << "the mount point for a file is a file";
}

TEST_F(RootfsTest, SymlinkInTheImageCannotLeadAMountOutside) {
  // The image's /evil points at the host's /etc as seen from the rootfs directory; a spec mount through it
  // must land in the rootfs's own /etc.
  fs::create_symlink("/../../../../../../etc", rootfs_ / "evil");
  fs::create_symlink("../../../../../../../tmp", rootfs_ / "evil-relative");
  const fs::path marker = scratch_ / "marker";
  fs::create_directories(marker);
  std::ofstream(marker / "inside") << "marker";
  const std::string name = "litebox-rootfs-test-" + std::to_string(::getpid());
  auto spec = default_spec();
  spec.root->readonly = false;
  spec.mounts.push_back(make_mount("/evil/" + name, "bind", marker.string(), {"rbind"}));
  spec.mounts.push_back(make_mount("/evil-relative/" + name, "tmpfs", "tmpfs", {}));
  auto report = run(spec, [&](ReportWriter& out) {
    out.add("through_link", read_text(("/etc/" + name + "/inside").c_str()));
    out.add("tmpfs", fs_type(("/tmp/" + name).c_str()));
  });
  ASSERT_EQ(report["setup"], "ok");
  EXPECT_EQ(report["through_link"], "marker");
  EXPECT_EQ(report["tmpfs"], "tmpfs");
  EXPECT_FALSE(fs::exists("/etc/" + name)) << "a mount point was created on the host";
  EXPECT_FALSE(fs::exists("/tmp/" + name)) << "a mount point was created on the host";
  EXPECT_TRUE(fs::is_directory(rootfs_ / "etc" / name));
  EXPECT_TRUE(fs::is_directory(rootfs_ / "tmp" / name));
}

TEST_F(RootfsTest, DestinationClimbingAboveTheRootIsRefused) {
  auto spec = default_spec();
  spec.mounts.push_back(make_mount("/../etc", "tmpfs", "tmpfs", {}));
  auto report = run(spec, [](ReportWriter&) {});
  EXPECT_EQ(report["setup"], "mount destination: /../etc escapes the root");
}

TEST_F(RootfsTest, MountsInsideProcAreRefused) {
  auto spec = default_spec();
  spec.mounts.push_back(make_mount("/proc/sys/kernel/core_pattern", "bind", "/etc/hostname", {"bind"}));
  auto report = run(spec, [](ReportWriter&) {});
  EXPECT_NE(report["setup"].find("cannot be mounted because it is inside /proc"), std::string::npos) << report["setup"];
}

TEST_F(RootfsTest, TmpCopyUpKeepsTheImageContent) {
  fs::create_directories(rootfs_ / "data/sub");
  std::ofstream(rootfs_ / "data/a.txt") << "alpha";
  std::ofstream(rootfs_ / "data/sub/b.txt") << "beta";
  fs::create_symlink("a.txt", rootfs_ / "data/link");
  fs::permissions(rootfs_ / "data/sub", fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec);
  auto spec = default_spec();
  spec.root->readonly = false;
  spec.mounts.push_back(make_mount("/data", "tmpfs", "tmpfs", {"tmpcopyup", "mode=755"}));
  auto report = run(spec, [](ReportWriter& out) {
    out.add("type", fs_type("/data"));
    out.add("a", read_text("/data/a.txt"));
    out.add("b", read_text("/data/sub/b.txt"));
    out.add("link", link_target("/data/link"));
    struct stat status {};
    out.add("sub_mode", ::stat("/data/sub", &status) == 0 ? std::to_string(status.st_mode & 0777) : "missing");
    out.add("write", try_write("/data/new.txt"));
  });
  ASSERT_EQ(report["setup"], "ok");
  EXPECT_EQ(report["type"], "tmpfs");
  EXPECT_EQ(report["a"], "alpha");
  EXPECT_EQ(report["b"], "beta");
  EXPECT_EQ(report["link"], "a.txt");
  EXPECT_EQ(report["sub_mode"], std::to_string(0750));
  EXPECT_EQ(report["write"], "ok");
  EXPECT_FALSE(fs::exists(rootfs_ / "data/new.txt")) << "the write went to the image, not the tmpfs";
}

TEST_F(RootfsTest, ReadOnlyTmpfsIsReadOnlyAfterFinish) {
  auto spec = default_spec();
  spec.root->readonly = false;
  spec.mounts.push_back(make_mount("/scratch", "tmpfs", "tmpfs", {"ro", "mode=700"}));
  auto report = run(spec, [](ReportWriter& out) {
    out.add("write", try_write("/scratch/file"));
    struct stat status {};
    out.add("mode", ::stat("/scratch", &status) == 0 ? std::to_string(status.st_mode & 0777) : "missing");
    out.add("root_write", try_write("/root/file"));
  });
  ASSERT_EQ(report["setup"], "ok");
  EXPECT_EQ(report["write"], "EROFS");
  EXPECT_EQ(report["mode"], std::to_string(0700));
  EXPECT_EQ(report["root_write"], "ok");
}

TEST_F(RootfsTest, SysctlInTheContainersNetworkNamespace) {
  auto spec = default_spec();
  spec.root->readonly = false;
  spec.linux_config->sysctl["net.ipv4.ip_forward"] = "1";
  spec.linux_config->sysctl["kernel.shmmni"] = "2048";
  const std::string host_shmmni = read_text("/proc/sys/kernel/shmmni");
  const std::string host_ip_forward = read_text("/proc/sys/net/ipv4/ip_forward");
  auto report = run(spec, [](ReportWriter& out) {
    out.add("ip_forward", read_text("/proc/sys/net/ipv4/ip_forward"));
    out.add("shmmni", read_text("/proc/sys/kernel/shmmni"));
  });
  ASSERT_EQ(report["setup"], "ok");
  EXPECT_EQ(report["ip_forward"], "1");
  EXPECT_EQ(report["shmmni"], "2048");
  EXPECT_EQ(read_text("/proc/sys/kernel/shmmni"), host_shmmni) << "the host's IPC namespace changed";
  EXPECT_EQ(read_text("/proc/sys/net/ipv4/ip_forward"), host_ip_forward) << "the host's network namespace changed";
}

TEST_F(RootfsTest, SpecDevicesAndConsole) {
  auto spec = default_spec();
  oci::Device custom;
  custom.type = "c";
  custom.path = "/dev/custom/null";
  custom.major = 1;
  custom.minor = 3;
  custom.file_mode = 0600;
  custom.uid = 1000;
  custom.gid = 100;
  oci::Device fifo;
  fifo.type = "p";
  fifo.path = "/dev/litebox-fifo";
  fifo.file_mode = 0640;
  spec.linux_config->devices = {custom, fifo};
  auto report = run_in_namespaces([&](ReportWriter& out) {
    // A terminal opened on the host, as a runtime would before pivot_root.
    const int master = ::posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || ::grantpt(master) != 0 || ::unlockpt(master) != 0) {
      out.add("setup", "no pty");
      return;
    }
    const std::string slave = ::ptsname(master);
    struct stat slave_status {};
    ::stat(slave.c_str(), &slave_status);
    RootfsSetup setup = setup_;
    setup.console_slave = slave;
    auto done = setup_rootfs(spec, setup);
    out.add("setup", done ? "ok" : done.error().message);
    if (!done) return;
    struct stat status {};
    out.add("custom", stat_device("/dev/custom/null"));
    out.add("custom_owner", ::stat("/dev/custom/null", &status) == 0
                                ? std::to_string(status.st_uid) + ":" + std::to_string(status.st_gid)
                                : "missing");
    out.add("fifo", ::lstat("/dev/litebox-fifo", &status) == 0 && S_ISFIFO(status.st_mode)
                        ? std::to_string(status.st_mode & 0777)
                        : "missing");
    out.add("console",
            ::stat("/dev/console", &status) == 0 && status.st_rdev == slave_status.st_rdev ? "the pty" : "wrong");
    out.add("null", stat_device("/dev/null"));
  });
  ASSERT_EQ(report["setup"], "ok");
  EXPECT_EQ(report["custom"], "char:1:3:600");
  EXPECT_EQ(report["custom_owner"], "1000:100");
  EXPECT_EQ(report["fifo"], std::to_string(0640));
  EXPECT_EQ(report["console"], "the pty");
  EXPECT_EQ(report["null"], "char:1:3:666");
}

TEST_F(RootfsTest, NoPivotMovesTheRootAndChroots) {
  setup_.no_pivot = true;
  auto spec = default_spec();
  auto report = run(spec, [&](ReportWriter& out) {
    out.add("busybox", ::access("/bin/busybox", X_OK) == 0 ? "present" : "missing");
    out.add("host_invisible", ::access("/work", F_OK) == 0 || ::access(rootfs_.c_str(), F_OK) == 0 ? "no" : "yes");
    out.add("null", stat_device("/dev/null"));
    out.add("proc_self", link_target("/proc/self"));
    out.add("root_write", try_write("/litebox-root-write"));
  });
  ASSERT_EQ(report["setup"], "ok");
  EXPECT_EQ(report["busybox"], "present");
  EXPECT_EQ(report["host_invisible"], "yes");
  EXPECT_EQ(report["null"], "char:1:3:666");
  EXPECT_EQ(report["proc_self"], "1");
  EXPECT_EQ(report["root_write"], "EROFS");
}

TEST_F(RootfsTest, WithoutADevMountDevIsLeftAsIs) {
  oci::Spec spec;
  spec.root = oci::Root{"rootfs", false};
  spec.mounts = {make_mount("/proc", "proc", "proc", {})};
  spec.linux_config = oci::Linux{};
  auto report = run(spec, [](ReportWriter& out) {
    out.add("null", ::access("/dev/null", F_OK) == 0 ? "present" : "absent");
    out.add("ptmx", ::access("/dev/ptmx", F_OK) == 0 ? "present" : "absent");
  });
  ASSERT_EQ(report["setup"], "ok");
  EXPECT_EQ(report["null"], "absent");
  EXPECT_EQ(report["ptmx"], "absent");
}

// The optional fields ("shared:N master:M") of the mount at `mount_point` in this process's mountinfo.
std::string propagation_of(const std::string& mount_point) {
  std::ifstream mountinfo("/proc/self/mountinfo");
  for (std::string line; std::getline(mountinfo, line);) {
    std::istringstream fields(line);
    std::string id, parent, device, root, point, options, field, optional;
    fields >> id >> parent >> device >> root >> point >> options;
    if (point != mount_point) continue;
    optional.clear();
    while (fields >> field && field != "-") optional += (optional.empty() ? "" : " ") + field;
    return optional.empty() ? "private" : optional;
  }
  return "missing";
}

TEST_F(RootfsTest, RootfsPropagationAppliesToTheNewRoot) {
  if (propagation_of("/").find("shared:") != std::string::npos) {
    GTEST_SKIP() << "the host's / is shared: an rshared container root would be a peer of the host's";
  }
  for (const char* propagation : {"rshared", "rprivate", ""}) {
    auto spec = default_spec();
    spec.linux_config->rootfs_propagation = propagation;
    auto report = run(spec, [](ReportWriter& out) { out.add("root", propagation_of("/")); });
    ASSERT_EQ(report["setup"], "ok") << propagation;
    const std::string root = report["root"];
    if (std::string(propagation) == "rshared") {
      EXPECT_NE(root.find("shared:"), std::string::npos) << root;
    } else {
      EXPECT_EQ(root.find("shared:"), std::string::npos) << propagation << ": " << root;
    }
  }
}

TEST_F(RootfsTest, Cgroup2OnlyHostGetsTheUnifiedHierarchy) {
  // What a cgroup2-only host's runtime passes: one source, no name.
  const fs::path unified = "/sys/fs/cgroup/unified";
  if (fs_type(unified.c_str()) != "cgroup2") GTEST_SKIP() << "no cgroup2 hierarchy at " << unified;
  CgroupMountSource source;
  source.host_directory = unified.string();
  source.filesystem_type = "cgroup2";
  setup_.cgroup_mounts = {source};
  for (const bool cgroup_namespace : {false, true}) {
    auto spec = default_spec();
    if (cgroup_namespace) spec.linux_config->namespaces.push_back({"cgroup", ""});
    auto report = run(
        spec,
        [](ReportWriter& out) {
          out.add("type", fs_type("/sys/fs/cgroup"));
          out.add("controllers", ::access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0 ? "present" : "missing");
          out.add("write", try_write("/sys/fs/cgroup/rootfs-test-write-probe"));
        },
        cgroup_namespace ? CLONE_NEWCGROUP : 0);
    ASSERT_EQ(report["setup"], "ok") << "cgroup namespace: " << cgroup_namespace;
    EXPECT_EQ(report["type"], "cgroup2");
    EXPECT_EQ(report["controllers"], "present");
    EXPECT_EQ(report["write"], "EROFS");
  }
}

TEST_F(RootfsTest, DevicesAreBoundFromTheHostInAUserNamespace) {
  // With bind_from_host (what a user namespace needs), each node is the host's, bound onto an empty file.
  auto report = run_in_namespaces([&](ReportWriter& out) {
    if (::mount(nullptr, "/", nullptr, MS_SLAVE | MS_REC, nullptr) != 0) {
      out.add("result", "cannot make / rslave");
      return;
    }
    OwnedFd root(::open(rootfs_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    auto created = create_devices(root.get(), rootfs_.string(), default_devices(), /*bind_from_host=*/true);
    out.add("result", created ? "ok" : created.error().message);
    out.add("null", stat_device((rootfs_ / "dev/null").c_str()));
    out.add("tty", stat_device((rootfs_ / "dev/tty").c_str()));
  });
  ASSERT_EQ(report["result"], "ok");
  EXPECT_EQ(report["null"].substr(0, 9), "char:1:3:");
  EXPECT_EQ(report["tty"].substr(0, 9), "char:5:0:");
  struct stat status {};
  ASSERT_EQ(::lstat((rootfs_ / "dev/null").c_str(), &status), 0);
  EXPECT_TRUE(S_ISREG(status.st_mode)) << "outside the namespace the mount point is an empty file";
}

}  // namespace
