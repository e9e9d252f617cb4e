// litebox-runtime end to end, as root, on busybox bundles: what runc's users rely on, seen from inside the
// container and from the host.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>
#include <vector>

#include "busybox_rootfs.hpp"
#include "container_bundle.hpp"
#include "litebox/linux/unix_socket.hpp"

namespace litebox::testing {
namespace {

namespace fs = std::filesystem;

class Runtime : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: containers need namespaces, mounts and cgroups";
    if (!have_busybox()) GTEST_SKIP() << "needs Debian's busybox-static (/bin/busybox)";
    ::setenv("LITEBOX_TEST_TMPDIR", LITEBOX_TEST_SCRATCH, 1);
    bundle_ = std::make_unique<Bundle>("bundle");
    root_ = make_scratch_dir("state");
    static std::atomic<int> counter{0};
    id_ = "t" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  }
  void TearDown() override {
    if (!bundle_) return;
    (void)cli({"delete", "--force", id_});
    std::error_code ignored;
    fs::remove_all(root_, ignored);
  }

  CommandResult cli(std::vector<std::string> args, const std::string& input = {}, int timeout_s = 60) {
    args.insert(args.begin(), {LITEBOX_RUNTIME_BINARY, "--root", root_.string()});
    return run_command(args, input, timeout_s);
  }
  // `run` of a spec built from the defaults and changed by `edit`.
  CommandResult run(std::vector<std::string> args, const std::function<void(oci::Spec&)>& edit = {},
                    const std::string& input = {}) {
    auto spec = default_spec(std::move(args));
    if (edit) edit(spec);
    bundle_->write(spec);
    return cli({"run", "--bundle", bundle_->dir().string(), id_}, input);
  }
  CommandResult sh(const std::string& script, const std::function<void(oci::Spec&)>& edit = {}) {
    return run({"sh", "-c", script}, edit);
  }
  // A created container whose stdio is files in the bundle (inheriting ours would keep our pipes open
  // for as long as it runs, as with runc).
  void create_detached(const std::string& script, const std::function<void(oci::Spec&)>& edit = {}) {
    auto spec = default_spec({"sh", "-c", script});
    if (edit) edit(spec);
    bundle_->write(spec);
    const std::string out = (bundle_->dir() / "container.out").string();
    const std::string err = (bundle_->dir() / "container.err").string();
    auto created = run_command({"/bin/sh", "-c",
                                std::string("exec ") + LITEBOX_RUNTIME_BINARY + " --root " + root_.string() +
                                    " create --bundle " + bundle_->dir().string() + " " + id_ + " </dev/null >" +
                                    out + " 2>" + err});
    std::ifstream err_file(err);
    std::string err_text((std::istreambuf_iterator<char>(err_file)), std::istreambuf_iterator<char>());
    ASSERT_EQ(created.exit_code, 0) << err_text;
  }
  std::string status() {
    auto st = cli({"state", id_});
    const auto at = st.out.find("\"status\":\"");
    if (at == std::string::npos) return "?";
    const auto from = at + 10;
    return st.out.substr(from, st.out.find('"', from) - from);
  }

  std::unique_ptr<Bundle> bundle_;
  fs::path root_;
  std::string id_;
};

TEST_F(Runtime, ExitCodesAndOutput) {
  auto ok = sh("echo out; echo err >&2");
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ok.out, "out\n");
  EXPECT_EQ(ok.err, "err\n");
  EXPECT_EQ(sh("exit 3").exit_code, 3);
  // Without a pid namespace the shell is no namespace init, which signals from inside cannot kill.
  auto killed = sh("kill -9 $$", [](oci::Spec& s) {
    std::erase_if(s.linux_config->namespaces, [](const oci::Namespace& n) { return n.type == "pid"; });
  });
  EXPECT_EQ(killed.exit_code, 137) << killed.err;
}

TEST_F(Runtime, StdinReachesTheContainer) {
  auto spec = default_spec({"cat"});
  bundle_->write(spec);
  auto r = cli({"run", "--bundle", bundle_->dir().string(), id_}, "piped in\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "piped in\n");
}

TEST_F(Runtime, ProcessSettingsSeenFromInside) {
  auto r = sh("echo env=$FOO; pwd; id -u; id -g; id -G; umask; ulimit -n; hostname", [](oci::Spec& s) {
    s.process->env.push_back("FOO=bar baz");
    s.process->cwd = "/tmp";
    s.process->user = oci::User{1000, 1000, 027, {1000, 2000}, ""};
    s.process->rlimits = {oci::Rlimit{"RLIMIT_NOFILE", 512, 256}};
    s.hostname = "box1";
  });
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "env=bar baz\n/tmp\n1000\n1000\n1000 2000\n0027\n256\nbox1\n");
}

TEST_F(Runtime, InitIsPid1AndSeesOnlyItsStdio) {
  auto r = sh("echo pid=$$; ls /proc/self/fd | tr '\\n' ' '");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // 0, 1, 2 and ls's own directory handle: nothing of the runtime leaks in.
  EXPECT_EQ(r.out, "pid=1\n0 1 2 3 ");
}

TEST_F(Runtime, PreservedDescriptorsAreTheOnlyExtraOnes) {
  auto spec = default_spec({"sh", "-c", "ls /proc/self/fd | tr '\\n' ' '; cat <&3"});
  bundle_->write(spec);
  // Hand descriptor 3 (a file) and 4 through --preserve-fds 2.
  const auto file = bundle_->dir() / "passed.txt";
  std::ofstream(file) << "through fd 3\n";
  auto r = run_command({"/bin/sh", "-c",
                        std::string("exec 3<") + file.string() + " 4</dev/null; exec " + LITEBOX_RUNTIME_BINARY +
                            " --root " + root_.string() + " run --preserve-fds 2 --bundle " +
                            bundle_->dir().string() + " " + id_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "0 1 2 3 4 5 through fd 3\n");
}

TEST_F(Runtime, ReadOnlyRootAndMaskedPaths) {
  auto r = sh("touch /x 2>/dev/null && echo wrote || echo read-only; cat /proc/kcore | wc -c;"
              " echo 1 > /proc/sys/kernel/domainname 2>/dev/null && echo sys-writable || echo sys-ro",
              [](oci::Spec& s) { s.root->readonly = true; });
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "read-only\n0\nsys-ro\n");
}

TEST_F(Runtime, CapabilitiesAreThoseOfTheSpec) {
  auto r = sh("grep -E '^Cap(Prm|Eff|Bnd)' /proc/self/status");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // CAP_KILL (5), CAP_NET_BIND_SERVICE (10), CAP_AUDIT_WRITE (29).
  EXPECT_EQ(r.out, "CapPrm:\t0000000020000420\nCapEff:\t0000000020000420\nCapBnd:\t0000000020000420\n");
}

TEST_F(Runtime, SeccompProfileDeniesWithTheGivenErrno) {
  auto r = sh("mkdir /tmp/d; echo rc=$?; echo still-running", [](oci::Spec& s) {
    oci::Seccomp seccomp;
    seccomp.default_action = "SCMP_ACT_ALLOW";
    seccomp.architectures = {"SCMP_ARCH_X86_64"};
    oci::SeccompSyscall rule;
    rule.names = {"mkdir", "mkdirat"};
    rule.action = "SCMP_ACT_ERRNO";
    rule.errno_ret = 13;  // EACCES
    seccomp.syscalls.push_back(rule);
    s.linux_config->seccomp = seccomp;
  });
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("Permission denied"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "rc=1\nstill-running\n");
}

TEST_F(Runtime, MissingExecutableIsReportedLikeRunc) {
  auto r = run({"nosuchprogram"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("exec: \"nosuchprogram\": executable file not found in $PATH"), std::string::npos) << r.err;
  auto bad_cwd = run({"true"}, [](oci::Spec& s) { s.process->cwd = "/nonexistent"; });
  EXPECT_NE(bad_cwd.exit_code, 0);
  EXPECT_NE(bad_cwd.err.find("/nonexistent"), std::string::npos) << bad_cwd.err;
  // Nothing of the failed containers is left.
  EXPECT_EQ(cli({"state", id_}).exit_code, 1);
}

TEST_F(Runtime, PidsLimitStopsAForkBomb) {
  // The bomb runs in a subshell (busybox sh gives up when fork fails); the count uses only builtins, since
  // no fork is possible once the limit is reached.
  auto r = sh("(for i in $(seq 1 40); do sleep 5 & done) 2>/dev/null; set -- /proc/[0-9]*; echo procs=$#",
              [](oci::Spec& s) {
                s.linux_config->resources = oci::LinuxResources{};
                s.linux_config->resources->pids = oci::PidsResources{10};
              });
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
  ASSERT_EQ(r.out.rfind("procs=", 0), 0u) << r.out;
  const int procs = std::stoi(r.out.substr(6));
  EXPECT_LE(procs, 10);
  EXPECT_GE(procs, 5);  // the bomb did start processes: the limit, not a failure, stopped it
}

TEST_F(Runtime, CreateStartStateKillDelete) {
  create_detached("sleep 100");
  EXPECT_EQ(status(), "created");
  auto state = cli({"state", id_});
  EXPECT_NE(state.out.find("\"bundle\":\"" + bundle_->dir().string() + "\""), std::string::npos) << state.out;
  ASSERT_EQ(cli({"start", id_}).exit_code, 0);
  EXPECT_EQ(status(), "running");
  auto ps = cli({"ps", "--format", "json", id_});
  EXPECT_EQ(ps.exit_code, 0) << ps.err;
  EXPECT_EQ(std::count(ps.out.begin(), ps.out.end(), ','), 0) << ps.out;  // one process
  ASSERT_EQ(cli({"kill", id_, "KILL"}).exit_code, 0);
  for (int i = 0; i < 100 && status() != "stopped"; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(status(), "stopped");
  auto del = cli({"delete", id_});
  EXPECT_EQ(del.exit_code, 0) << del.err;
  EXPECT_FALSE(fs::exists(root_ / id_));
  auto gone = cli({"state", id_});
  EXPECT_NE(gone.err.find("does not exist"), std::string::npos) << gone.err;
}

TEST_F(Runtime, ExecJoinsTheContainer) {
  create_detached("sleep 100");
  ASSERT_EQ(cli({"start", id_}).exit_code, 0);
  auto r = cli({"exec", id_, "sh", "-c", "hostname; ls /proc | grep -c '^[0-9]'; echo $$"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // Same uts and pid namespaces: the init (sleep) and this shell are the only processes (ls, grep too).
  EXPECT_EQ(r.out.substr(0, 8), "litebox\n") << r.out;
  EXPECT_EQ(cli({"exec", id_, "sh", "-c", "exit 7"}).exit_code, 7);
  auto missing = cli({"exec", id_, "nosuch"});
  EXPECT_NE(missing.err.find("executable file not found"), std::string::npos) << missing.err;
}

TEST_F(Runtime, PauseFreezesAndResumeThaws) {
  create_detached("while true; do echo tick >> /tmp/ticks; sleep 0.05; done");
  ASSERT_EQ(cli({"start", id_}).exit_code, 0);
  ASSERT_EQ(cli({"pause", id_}).exit_code, 0);
  EXPECT_EQ(status(), "paused");
  auto count = [&] { return cli({"exec", id_, "sh", "-c", "wc -l < /tmp/ticks"}); };
  EXPECT_NE(cli({"pause", id_}).exit_code, 0);  // already paused
  ASSERT_EQ(cli({"resume", id_}).exit_code, 0);
  EXPECT_EQ(status(), "running");
  const auto before = count();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto after = count();
  EXPECT_LT(std::stoi(before.out), std::stoi(after.out));
}

TEST_F(Runtime, DeleteOfARunningContainerNeedsForce) {
  create_detached("sleep 100");
  ASSERT_EQ(cli({"start", id_}).exit_code, 0);
  auto refused = cli({"delete", id_});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("not stopped"), std::string::npos) << refused.err;
  auto forced = cli({"delete", "--force", id_});
  EXPECT_EQ(forced.exit_code, 0) << forced.err;
  EXPECT_FALSE(fs::exists(root_ / id_));
}

TEST_F(Runtime, DuplicateIdAndBadConfigAreClearErrors) {
  create_detached("sleep 100");
  auto again = cli({"create", "--bundle", bundle_->dir().string(), id_});
  EXPECT_NE(again.err.find("already exists"), std::string::npos) << again.err;
  std::ofstream(bundle_->dir() / "config.json") << "{\"ociVersion\": \"2.0.0\"}";
  auto bad = cli({"create", "--bundle", bundle_->dir().string(), id_ + "b"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("/ociVersion"), std::string::npos) << bad.err;
}

// linux.memoryPolicy (runtime-spec 1.3.0), seen by the kernel: /proc/<pid>/numa_maps names each mapping's
// policy ("bind:0", "bind=static:0", "prefer=relative:0", "default"). One node (0) is enough: every machine
// has it.
std::function<void(oci::Spec&)> memory_policy(std::string mode, std::string nodes, std::vector<std::string> flags = {}) {
  return [=](oci::Spec& s) {
    s.oci_version = "1.3.0";
    s.linux_config->memory_policy = oci::MemoryPolicy{mode, nodes, flags};
  };
}
constexpr const char* kFirstPolicy = "head -n 1 /proc/self/numa_maps | cut -d ' ' -f 2";

TEST_F(Runtime, MemoryPolicyBindsTheContainersProcesses) {
  auto bind = sh(kFirstPolicy, memory_policy("MPOL_BIND", "0"));
  EXPECT_EQ(bind.exit_code, 0) << bind.err;
  EXPECT_EQ(bind.out, "bind:0\n");
  auto bind_static = sh(kFirstPolicy, memory_policy("MPOL_BIND", "0", {"MPOL_F_STATIC_NODES"}));
  EXPECT_EQ(bind_static.exit_code, 0) << bind_static.err;
  EXPECT_EQ(bind_static.out, "bind=static:0\n");
  auto interleave = sh(kFirstPolicy, memory_policy("MPOL_INTERLEAVE", "0"));
  EXPECT_EQ(interleave.exit_code, 0) << interleave.err;
  EXPECT_EQ(interleave.out, "interleave:0\n");
  auto by_default = sh(kFirstPolicy, memory_policy("MPOL_DEFAULT", ""));
  EXPECT_EQ(by_default.exit_code, 0) << by_default.err;
  EXPECT_EQ(by_default.out, "default\n");
  // 1.3.0 is this runtime's own version: no "newer than" warning.
  EXPECT_EQ(bind.err.find("newer than"), std::string::npos) << bind.err;
}

TEST_F(Runtime, MemoryPolicyAppliesToTheInitAndExecdProcesses) {
  create_detached("sleep 100", memory_policy("MPOL_PREFERRED", "0", {"MPOL_F_RELATIVE_NODES"}));
  ASSERT_EQ(cli({"start", id_}).exit_code, 0);
  auto r = cli({"exec", id_, "sh", "-c",
                "head -n 1 /proc/1/numa_maps | cut -d ' ' -f 2; head -n 1 /proc/self/numa_maps | cut -d ' ' -f 2"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "prefer=relative:0\nprefer=relative:0\n");
}

TEST_F(Runtime, MemoryPolicyTheKernelRefusesFailsCreateWithTheErrnoAndTheRequest) {
  // Node 99 passes validation (the node list is well formed) and set_mempolicy refuses it in the init.
  std::ifstream possible("/sys/devices/system/node/possible");
  std::string nodes;
  possible >> nodes;
  if (nodes.find('-') != std::string::npos && std::stoi(nodes.substr(nodes.find('-') + 1)) >= 99) {
    GTEST_SKIP() << "this machine has a node 99 (possible nodes " << nodes << ")";
  }
  auto spec = default_spec({"sh", "-c", "echo should-not-run"});
  memory_policy("MPOL_BIND", "99")(spec);
  bundle_->write(spec);
  auto created = cli({"create", "--bundle", bundle_->dir().string(), id_});
  EXPECT_NE(created.exit_code, 0);
  EXPECT_NE(created.err.find("set memory policy: set_mempolicy MPOL_BIND nodes \"99\": Invalid argument"),
            std::string::npos)
      << created.err;
  EXPECT_EQ(created.out.find("should-not-run"), std::string::npos);
  EXPECT_EQ(cli({"state", id_}).exit_code, 1);  // nothing of the failed container is left
  auto run_bad = sh("echo should-not-run", memory_policy("MPOL_INTERLEAVE", "99"));
  EXPECT_NE(run_bad.exit_code, 0);
  EXPECT_NE(run_bad.err.find("set_mempolicy MPOL_INTERLEAVE nodes \"99\": Invalid argument"), std::string::npos)
      << run_bad.err;
  EXPECT_EQ(run_bad.out, "");
}

TEST_F(Runtime, DenyAllDeviceRulesStillAllowTheDefaultDevices) {
  // CRI's specs deny every device and list only their own; the standard nodes and the terminal ones stay
  // usable, as under runc (its AllowedDevices).
  auto run = sh("head -c 3 /dev/zero | wc -c; echo x > /dev/null && echo null-ok; exec 3<>/dev/ptmx && echo ptmx-ok",
                [](oci::Spec& s) {
                  if (!s.linux_config->resources) s.linux_config->resources = oci::LinuxResources{};
                  s.linux_config->resources->devices = {oci::DeviceCgroup{false, "a", std::nullopt, std::nullopt, "rwm"}};
                });
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "3\nnull-ok\nptmx-ok\n") << run.err;
}

TEST_F(Runtime, NetDevicesAndIntelRdtAreRefusedNotIgnored) {
  auto net = sh("echo should-not-run", [](oci::Spec& s) {
    s.oci_version = "1.3.0";
    if (std::none_of(s.linux_config->namespaces.begin(), s.linux_config->namespaces.end(),
                     [](const oci::Namespace& n) { return n.type == "network"; })) {
      s.linux_config->namespaces.push_back(oci::Namespace{"network", ""});
    }
    s.linux_config->net_devices["eth9"] = oci::NetDevice{};
  });
  EXPECT_NE(net.exit_code, 0);
  EXPECT_NE(net.err.find("linux.netDevices (moving host network devices into the container) is not supported yet"),
            std::string::npos)
      << net.err;
  EXPECT_EQ(net.out, "");
  auto rdt = sh("echo should-not-run", [](oci::Spec& s) { s.linux_config->intel_rdt = oci::IntelRdt{}; });
  EXPECT_NE(rdt.exit_code, 0);
  EXPECT_NE(rdt.err.find("linux.intelRdt"), std::string::npos) << rdt.err;
  EXPECT_EQ(rdt.out, "");
}

TEST_F(Runtime, MemoryPolicyAgainstTheSpecIsAValidationErrorWithItsPointer) {
  auto nodes_for_default = sh("true", memory_policy("MPOL_DEFAULT", "0-7"));
  EXPECT_NE(nodes_for_default.exit_code, 0);
  EXPECT_NE(nodes_for_default.err.find("/linux/memoryPolicy/nodes: must be empty with mode MPOL_DEFAULT"),
            std::string::npos)
      << nodes_for_default.err;
  auto unknown_mode = sh("true", memory_policy("INTERLEAVE", "0"));
  EXPECT_NE(unknown_mode.exit_code, 0);
  EXPECT_NE(unknown_mode.err.find("/linux/memoryPolicy/mode: unknown memory policy mode \"INTERLEAVE\""),
            std::string::npos)
      << unknown_mode.err;
  auto bad_flag = sh("true", memory_policy("MPOL_PREFERRED", "0", {"MPOL_F_RELATIVE_NODES", "badflag"}));
  EXPECT_NE(bad_flag.exit_code, 0);
  EXPECT_NE(bad_flag.err.find("/linux/memoryPolicy/flags/1: unknown memory policy flag \"badflag\""),
            std::string::npos)
      << bad_flag.err;
}

TEST_F(Runtime, Spec130IsKnownAndAdvertised) {
  // Warnings go to the --log file (stderr has errors only, as with runc): 1.3.0, what containerd 2.4
  // writes, gives none; 1.4.0 still does.
  const auto log_of_run = [&](const std::string& version) {
    auto spec = default_spec({"true"});
    spec.oci_version = version;
    bundle_->write(spec);
    const fs::path log = bundle_->dir() / ("log-" + version + ".txt");
    auto r = cli({"--log", log.string(), "run", "--bundle", bundle_->dir().string(), id_});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::ifstream in(log);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  const std::string current = log_of_run("1.3.0");
  EXPECT_EQ(current.find("newer than"), std::string::npos) << current;
  const std::string newer = log_of_run("1.4.0");
  EXPECT_NE(newer.find("/ociVersion: version 1.4.0 is newer than 1.3.0"), std::string::npos) << newer;
  auto features = cli({"features"});
  ASSERT_EQ(features.exit_code, 0) << features.err;
  EXPECT_NE(features.out.find("\"ociVersionMax\": \"1.3.0\""), std::string::npos) << features.out;
  EXPECT_NE(features.out.find("\"memoryPolicy\""), std::string::npos) << features.out;
  EXPECT_NE(features.out.find("\"MPOL_WEIGHTED_INTERLEAVE\""), std::string::npos) << features.out;
  EXPECT_NE(features.out.find("\"MPOL_F_NUMA_BALANCING\""), std::string::npos) << features.out;
  create_detached("sleep 100");
  EXPECT_NE(cli({"state", id_}).out.find("\"ociVersion\":\"1.3.0\""), std::string::npos);
}

}  // namespace
}  // namespace litebox::testing

namespace litebox::testing {
namespace {

// Alive: /proc has it and it is not a zombie.
bool process_alive(int pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("State:", 0) == 0) return line.find('Z') == std::string::npos;
  }
  return false;
}

TEST_F(Runtime, MemoryHogIsOomKilledAndReported) {
  // 64 MiB of a string in a 16 MiB cgroup: the kernel kills the shell.
  auto r = sh("x=$(head -c 67108864 /dev/zero | tr '\\0' a); echo survived", [](oci::Spec& s) {
    s.linux_config->resources = oci::LinuxResources{};
    s.linux_config->resources->memory = oci::MemoryResources{};
    s.linux_config->resources->memory->limit = 16 * 1024 * 1024;
    s.linux_config->resources->memory->swap = 16 * 1024 * 1024;
  });
  EXPECT_EQ(r.exit_code, 137) << r.err << r.out;
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("killed by the OOM killer"), std::string::npos) << r.err;
}

TEST_F(Runtime, TerminalGivesATty) {
  auto r = sh("tty; test -t 0 && test -t 1 && echo is-a-tty", [](oci::Spec& s) { s.process->terminal = true; });
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("/dev/pts/0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("is-a-tty"), std::string::npos) << r.out;
}

TEST_F(Runtime, HooksRunWithTheStateOnStdin) {
  const auto log = bundle_->dir() / "hooks.log";
  auto hook = [&](const std::string& name) {
    return oci::Hook{"/bin/sh", {"sh", "-c", "echo " + name + " $(cat) >> " + log.string()}, {}, 5};
  };
  auto r = sh("echo ran", [&](oci::Spec& s) {
    s.hooks = oci::Hooks{};
    s.hooks->prestart = {hook("prestart")};
    s.hooks->create_runtime = {hook("createRuntime")};
    s.hooks->poststart = {hook("poststart")};
    s.hooks->poststop = {hook("poststop")};
  });
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::ifstream in(log);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0].rfind("prestart {", 0), 0u) << lines[0];
  EXPECT_NE(lines[0].find("\"id\":\"" + id_ + "\""), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("\"pid\":"), std::string::npos) << lines[0];
  EXPECT_EQ(lines[1].rfind("createRuntime {", 0), 0u) << lines[1];
  EXPECT_EQ(lines[2].rfind("poststart {", 0), 0u) << lines[2];
  EXPECT_EQ(lines[3].rfind("poststop {", 0), 0u) << lines[3];
  EXPECT_NE(lines[3].find("\"status\":\"stopped\""), std::string::npos) << lines[3];
}

TEST_F(Runtime, AFailingOrSlowHookFailsCreate) {
  auto failing = sh("echo never", [](oci::Spec& s) {
    s.hooks = oci::Hooks{};
    s.hooks->prestart = {oci::Hook{"/bin/sh", {"sh", "-c", "exit 4"}, {}, std::nullopt}};
  });
  EXPECT_NE(failing.exit_code, 0);
  EXPECT_EQ(failing.out, "");
  EXPECT_NE(failing.err.find("prestart hook #0 (/bin/sh) exited with status 4"), std::string::npos) << failing.err;
  auto slow = sh("echo never", [](oci::Spec& s) {
    s.hooks = oci::Hooks{};
    s.hooks->create_runtime = {oci::Hook{"/bin/sleep", {"sleep", "10"}, {}, 1}};
  });
  EXPECT_NE(slow.exit_code, 0);
  EXPECT_NE(slow.err.find("timed out after 1s"), std::string::npos) << slow.err;
}

TEST_F(Runtime, KillAndDeleteLeaveNothingBehind) {
  create_detached("sleep 100 & sleep 100");
  ASSERT_EQ(cli({"start", id_}).exit_code, 0);
  auto pids = cli({"ps", "--format", "json", id_});
  ASSERT_EQ(pids.exit_code, 0) << pids.err;
  ASSERT_EQ(cli({"kill", "--all", id_, "KILL"}).exit_code, 0);
  for (int i = 0; i < 100 && status() != "stopped"; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_EQ(cli({"delete", id_}).exit_code, 0);
  // No process of it, no cgroup directory in any hierarchy, no mount under the bundle, no state.
  std::string list = pids.out.substr(1, pids.out.find(']') - 1);
  std::replace(list.begin(), list.end(), ',', ' ');
  std::istringstream each(list);
  for (int pid; each >> pid;) EXPECT_FALSE(process_alive(pid)) << "process " << pid << " is still alive";
  for (const auto& hierarchy : fs::directory_iterator("/sys/fs/cgroup")) {
    EXPECT_FALSE(fs::exists(hierarchy.path() / "litebox" / id_)) << hierarchy.path();
  }
  std::ifstream mountinfo("/proc/self/mountinfo");
  for (std::string line; std::getline(mountinfo, line);) {
    EXPECT_EQ(line.find(bundle_->dir().string()), std::string::npos) << line;
  }
  EXPECT_FALSE(fs::exists(root_ / id_));
}

}  // namespace
}  // namespace litebox::testing

namespace litebox::testing {
namespace {

TEST_F(Runtime, UserNamespaceMapsRootToAnUnprivilegedRange) {
  // The mapped root (host uid 100000) must be able to reach the root filesystem, as with runc.
  fs::permissions(bundle_->dir(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                      fs::perms::others_read | fs::perms::others_exec);
  auto r = sh("id -u; awk '{print $1, $2, $3}' /proc/self/uid_map /proc/self/gid_map; touch /bin/x 2>/dev/null || echo "
              "image-files-not-ours",
              [](oci::Spec& s) {
                s.linux_config->namespaces.push_back({"user", ""});
                s.linux_config->uid_mappings = {oci::IdMapping{0, 100000, 65536}};
                s.linux_config->gid_mappings = {oci::IdMapping{0, 100000, 65536}};
              });
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "0\n0 100000 65536\n0 100000 65536\nimage-files-not-ours\n");
}

// runc's console-socket protocol: the runtime sends the terminal's master over a unix socket we listen on.
TEST_F(Runtime, ConsoleSocketReceivesTheTerminal) {
  const auto socket_path = bundle_->dir() / "console.sock";
  const int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, socket_path.c_str(), sizeof address.sun_path - 1);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(listener, 1), 0);

  auto spec = default_spec({"sh", "-c", "tty; echo hello-through-the-pty"});
  spec.process->terminal = true;
  bundle_->write(spec);
  auto created = cli({"create", "--bundle", bundle_->dir().string(), "--console-socket", socket_path.string(), id_});
  ASSERT_EQ(created.exit_code, 0) << created.err;

  const int connection = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  ASSERT_GE(connection, 0);
  char name[64] = {};
  int master = -1;
  ASSERT_GT(linux_host::receive_with_descriptor(connection, name, sizeof name - 1, master), 0);
  ASSERT_GE(master, 0);
  ::close(connection);
  ::close(listener);
  EXPECT_STREQ(name, "/dev/ptmx");

  ASSERT_EQ(cli({"start", id_}).exit_code, 0);
  std::string output;
  char buf[256];
  for (ssize_t n; output.find("hello-through-the-pty") == std::string::npos &&
                  (n = ::read(master, buf, sizeof buf)) > 0;) {
    output.append(buf, static_cast<std::size_t>(n));
  }
  ::close(master);
  EXPECT_NE(output.find("/dev/pts/0"), std::string::npos) << output;
  EXPECT_NE(output.find("hello-through-the-pty"), std::string::npos) << output;
}

}  // namespace
}  // namespace litebox::testing
