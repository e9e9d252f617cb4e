// The container process's set-up (process_setup.hpp and its pieces): plans are built here and applied in a
// forked child that reports what it sees (/proc/self/status, getresuid, ...) through a pipe. The seccomp
// filter has its own file (seccomp_filter_test.cpp).
#include <fcntl.h>
#include <linux/ioprio.h>
#include <sched.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <linux/capability.h>

#include "litebox/linux/capabilities.hpp"
#include "litebox/linux/executable_lookup.hpp"
#include "litebox/linux/process_attributes.hpp"
#include "litebox/linux/process_credentials.hpp"
#include "litebox/linux/process_setup.hpp"
#include "litebox/linux/rlimits.hpp"
#include "process_child.hpp"

namespace lh = litebox::linux_host;
using namespace litebox::testing;  // NOLINT: the child helpers

TEST(Capabilities, NamesMapToKernelNumbers) {
  EXPECT_EQ(lh::capability_number("CAP_CHOWN"), 0);
  EXPECT_EQ(lh::capability_number("CAP_SYS_ADMIN"), 21);
  EXPECT_EQ(lh::capability_number("CAP_CHECKPOINT_RESTORE"), 40);
  // Every capability of the kernel headers has its spec name, at its number.
  for (int number = 0; number <= CAP_LAST_CAP; ++number) EXPECT_FALSE(lh::capability_name(number).empty()) << number;
  EXPECT_EQ(lh::capability_name(CAP_LAST_CAP + 1), "");
  EXPECT_EQ(lh::capability_number("CAP_FOO"), std::nullopt);
  EXPECT_EQ(lh::capability_number("chown"), std::nullopt);
  EXPECT_EQ(lh::capability_name(13), "CAP_NET_RAW");
  EXPECT_EQ(lh::capability_name(99), "");
}

TEST(Capabilities, UnknownNameIsAClearError) {
  oci::Process process = base_process();
  process.capabilities = oci::Capabilities{};
  process.capabilities->effective = {"CAP_CHOWN", "CAP_FOO"};
  auto plan = lh::make_process_plan(process, {}, {});
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.error().message.find("unknown capability \"CAP_FOO\""), std::string::npos) << plan.error().message;
}

TEST(Capabilities, AboveTheKernelsLastCapAreSkippedWithANote) {
  oci::Capabilities caps;
  caps.bounding = {"CAP_CHOWN", "CAP_PERFMON", "CAP_BPF"};  // 0, 38, 39
  auto plan = lh::make_capability_plan(caps, 37);
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  EXPECT_EQ(plan.value().bounding, 1u);
  ASSERT_EQ(plan.value().notes.size(), 2u);
  EXPECT_NE(plan.value().notes[0].find("CAP_PERFMON"), std::string::npos) << plan.value().notes[0];
}

TEST(Capabilities, NoSectionMeansEmptySets) {
  auto plan = lh::make_capability_plan(std::nullopt, 40);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan.value().bounding | plan.value().effective | plan.value().permitted | plan.value().ambient, 0u);
}

TEST(Rlimits, UnknownTypeSoftAboveHardAndDuplicatesAreErrors) {
  auto unknown = lh::make_rlimit_settings({{"RLIMIT_FOO", 1, 1}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().message, "unknown rlimit type \"RLIMIT_FOO\"");
  auto inverted = lh::make_rlimit_settings({{"RLIMIT_NOFILE", 10, 20}});
  ASSERT_FALSE(inverted.ok());
  EXPECT_NE(inverted.error().message.find("soft limit 20 is above the hard limit 10"), std::string::npos);
  auto twice = lh::make_rlimit_settings({{"RLIMIT_CORE", 0, 0}, {"RLIMIT_CORE", 1, 1}});
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.error().message.find("more than once"), std::string::npos);
  for (const char* name : {"RLIMIT_AS", "RLIMIT_CORE", "RLIMIT_CPU", "RLIMIT_DATA", "RLIMIT_FSIZE", "RLIMIT_LOCKS",
                           "RLIMIT_MEMLOCK", "RLIMIT_MSGQUEUE", "RLIMIT_NICE", "RLIMIT_NOFILE", "RLIMIT_NPROC",
                           "RLIMIT_RSS", "RLIMIT_RTPRIO", "RLIMIT_RTTIME", "RLIMIT_SIGPENDING", "RLIMIT_STACK"}) {
    EXPECT_TRUE(lh::rlimit_resource(name).has_value()) << name;
  }
  EXPECT_EQ(lh::rlimit_resource("RLIMIT_NOFILE"), RLIMIT_NOFILE);
}

TEST(ProcessAttributes, UnknownNamesAreErrors) {
  EXPECT_FALSE(lh::make_personality_setting({"LINUX64", {}}).ok());
  EXPECT_EQ(lh::make_personality_setting({"LINUX32", {}}).value().persona, static_cast<unsigned long>(PER_LINUX32));
  EXPECT_FALSE(lh::make_io_priority({"IOPRIO_CLASS_FOO", 0}).ok());
  EXPECT_FALSE(lh::make_io_priority({"IOPRIO_CLASS_BE", 8}).ok());
  EXPECT_EQ(lh::make_io_priority({"IOPRIO_CLASS_BE", 6}).value(), (IOPRIO_CLASS_BE << 13) | 6);
  oci::Scheduler scheduler;
  scheduler.policy = "SCHED_FOO";
  EXPECT_FALSE(lh::make_scheduler_setting(scheduler).ok());
  scheduler.policy = "SCHED_OTHER";
  scheduler.priority = 5;
  EXPECT_FALSE(lh::make_scheduler_setting(scheduler).ok());
  scheduler.policy = "SCHED_FIFO";
  EXPECT_TRUE(lh::make_scheduler_setting(scheduler).ok());
  scheduler.flags = {"SCHED_FLAG_NOPE"};
  auto bad_flag = lh::make_scheduler_setting(scheduler);
  ASSERT_FALSE(bad_flag.ok());
  EXPECT_EQ(bad_flag.error().message, "unknown scheduler flag \"SCHED_FLAG_NOPE\"");
}

// ---- linux.memoryPolicy ----

TEST(MemoryPolicy, ModeFlagsAndNodeListBecomeSetMempolicysArguments) {
  auto bind = lh::make_memory_policy_setting({"MPOL_BIND", "0-3,7", {"MPOL_F_STATIC_NODES"}});
  ASSERT_TRUE(bind.ok()) << bind.error().message;
  EXPECT_EQ(bind.value().mode, 2 | (1 << 15));  // MPOL_BIND | MPOL_F_STATIC_NODES
  ASSERT_EQ(bind.value().nodemask.size(), 1U);
  EXPECT_EQ(bind.value().nodemask[0], 0x8fUL);
  EXPECT_EQ(bind.value().maxnode, sizeof(unsigned long) * 8 + 1);  // the kernel reads maxnode - 1 bits
  EXPECT_EQ(bind.value().request, "MPOL_BIND|MPOL_F_STATIC_NODES nodes \"0-3,7\"");

  // Spaces around items, a node in the second word, every flag.
  auto wide = lh::make_memory_policy_setting(
      {"MPOL_PREFERRED_MANY", " 1 , 64-65 ", {"MPOL_F_NUMA_BALANCING", "MPOL_F_RELATIVE_NODES"}});
  ASSERT_TRUE(wide.ok()) << wide.error().message;
  EXPECT_EQ(wide.value().mode, 5 | (1 << 13) | (1 << 14));
  ASSERT_EQ(wide.value().nodemask.size(), 64 / (sizeof(unsigned long) * 8) + 1);
  EXPECT_EQ(wide.value().nodemask.front(), 0x2UL);
  EXPECT_EQ(wide.value().nodemask.back(), 0x3UL);  // nodes 64 and 65: bits 0 and 1 of the last word

  // No nodes: a null mask, maxnode 0.
  for (const char* mode : {"MPOL_DEFAULT", "MPOL_LOCAL", "MPOL_PREFERRED"}) {
    auto none = lh::make_memory_policy_setting({mode, "", {}});
    ASSERT_TRUE(none.ok()) << mode;
    EXPECT_TRUE(none.value().nodemask.empty());
    EXPECT_EQ(none.value().maxnode, 0U);
  }
  EXPECT_EQ(lh::make_memory_policy_setting({"MPOL_INTERLEAVE", "0", {}}).value().mode, 3);
  EXPECT_EQ(lh::make_memory_policy_setting({"MPOL_LOCAL", "", {}}).value().mode, 4);
  EXPECT_EQ(lh::make_memory_policy_setting({"MPOL_WEIGHTED_INTERLEAVE", "0", {}}).value().mode, 6);
}

TEST(MemoryPolicy, UnknownNamesAndBadNodeListsAreClearErrors) {
  auto mode = lh::make_memory_policy_setting({"INTERLEAVE", "0", {}});
  ASSERT_FALSE(mode.ok());
  EXPECT_EQ(mode.error().message, "unknown memory policy mode \"INTERLEAVE\"");
  auto flag = lh::make_memory_policy_setting({"MPOL_PREFERRED", "0", {"MPOL_F_RELATIVE_NODES", "badflag"}});
  ASSERT_FALSE(flag.ok());
  EXPECT_EQ(flag.error().message, "unknown memory policy flag \"badflag\"");
  for (const char* nodes : {"0-", "-1", "3-1", "a", "0,,1", "1,", "0-1-2", "+1"}) {
    auto bad = lh::make_memory_policy_setting({"MPOL_BIND", nodes, {}});
    ASSERT_FALSE(bad.ok()) << nodes;
    EXPECT_EQ(bad.error().message.rfind("memory policy nodes \"" + std::string(nodes) + "\": ", 0), 0U)
        << bad.error().message;
  }
  // runc's "way too large a node number": refused before the kernel is asked.
  auto huge = lh::make_memory_policy_setting({"MPOL_BIND", "0-9876543210", {}});
  ASSERT_FALSE(huge.ok());
  EXPECT_NE(huge.error().message.find("cannot be given to set_mempolicy(2)"), std::string::npos)
      << huge.error().message;
}

TEST(MemoryPolicy, AppliedInTheChildAsGetMempolicyReportsIt) {
  // set_mempolicy needs no privilege: the step alone, in a forked child.
  auto setting = lh::make_memory_policy_setting({"MPOL_BIND", "0", {"MPOL_F_STATIC_NODES"}});
  ASSERT_TRUE(setting.ok());
  ChildResult child = run_in_child([&] {
    if (auto applied = lh::apply_memory_policy(setting.value()); !applied) return kv("error", applied.error().message);
    int mode = -1;
    unsigned long mask[16] = {};
    if (syscall(SYS_get_mempolicy, &mode, mask, sizeof(mask) * 8, nullptr, 0UL) != 0) return kv("error", "get_mempolicy");
    return kv("mode", mode) + kv("mask", static_cast<long>(mask[0]));
  });
  ASSERT_EQ(child.exit_code, 0) << child.raw;
  ASSERT_EQ(child.report.count("error"), 0U) << child.report["error"];
  EXPECT_EQ(child.report["mode"], std::to_string(2 | (1 << 15)));
  EXPECT_EQ(child.report["mask"], "1");
}

TEST(MemoryPolicy, ANodeTheKernelRefusesNamesTheErrnoAndTheRequest) {
  // Node 99: no such node on a machine with fewer (the kernel answers EINVAL).
  std::ifstream possible("/sys/devices/system/node/possible");
  std::string nodes;
  possible >> nodes;
  if (nodes.find('-') != std::string::npos && std::stoi(nodes.substr(nodes.find('-') + 1)) >= 99) {
    GTEST_SKIP() << "this machine has a node 99 (possible nodes " << nodes << ")";
  }
  auto setting = lh::make_memory_policy_setting({"MPOL_BIND", "99", {}});
  ASSERT_TRUE(setting.ok());
  ChildResult child = run_in_child([&] {
    auto applied = lh::apply_memory_policy(setting.value());
    return applied ? kv("applied", "yes") : kv("error", applied.error().message) + kv("code", applied.error().code);
  });
  EXPECT_EQ(child.report["code"], std::to_string(EINVAL)) << child.raw;
  EXPECT_EQ(child.report["error"].rfind("set_mempolicy MPOL_BIND nodes \"99\": Invalid argument (a node that does "
                                        "not exist",
                                        0),
            0U)
      << child.report["error"];
}

TEST(ProcessSetup, MemoryPolicyIsPartOfThePlanAndAFailureNamesTheStep) {
  REQUIRE_ROOT();
  oci::Process process = base_process();
  auto plan = lh::make_process_plan(process, {}, {}, oci::MemoryPolicy{"MPOL_INTERLEAVE", "0", {}});
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  ASSERT_TRUE(plan.value().memory_policy);
  ChildResult child = run_in_child([&] {
    return apply_and_report(plan.value(), [] {
      int mode = -1;
      unsigned long mask[16] = {};
      syscall(SYS_get_mempolicy, &mode, mask, sizeof(mask) * 8, nullptr, 0UL);
      return kv("mempolicy", mode);
    });
  });
  ASSERT_EQ(child.report.count("error"), 0U) << child.report["error"];
  EXPECT_EQ(child.report["mempolicy"], "3");  // MPOL_INTERLEAVE

  auto bad = lh::make_process_plan(process, {}, {}, oci::MemoryPolicy{"MPOL_BIND", "99", {}});
  ASSERT_TRUE(bad.ok());
  ChildResult failed = run_in_child([&] { return apply_and_report(bad.value()); });
  EXPECT_EQ(failed.report["error"].rfind("set memory policy: set_mempolicy MPOL_BIND nodes \"99\": ", 0), 0U)
      << failed.report["error"];
  // Unknown names are the parent's errors.
  EXPECT_FALSE(lh::make_process_plan(process, {}, {}, oci::MemoryPolicy{"MPOL_NONE", "", {}}).ok());
}

TEST(ExecutableLookup, ErrorsAreWordedLikeRuncs) {
  auto scratch = std::filesystem::temp_directory_path() / ("ps-exec-" + std::to_string(getpid()));
  std::filesystem::create_directories(scratch);
  std::ofstream(scratch / "not-executable") << "#!/bin/sh\n";
  std::filesystem::permissions(scratch / "not-executable", std::filesystem::perms(0644));

  auto missing = lh::find_executable("foo-not-here", "/nonexistent-dir:" + scratch.string());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message, "exec: \"foo-not-here\": executable file not found in $PATH");

  auto absent = lh::find_executable("/nonexistent", lh::kDefaultContainerPath);
  ASSERT_FALSE(absent.ok());
  EXPECT_EQ(absent.error().message, "exec: \"/nonexistent\": stat /nonexistent: no such file or directory");

  const std::string denied_path = (scratch / "not-executable").string();
  auto denied = lh::find_executable(denied_path, lh::kDefaultContainerPath);
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.error().message, "exec: \"" + denied_path + "\": permission denied");
  // Found by name but not executable: skipped, like Go's LookPath.
  EXPECT_FALSE(lh::find_executable("not-executable", scratch.string()).ok());

  auto directory = lh::find_executable(scratch.string(), lh::kDefaultContainerPath);
  ASSERT_FALSE(directory.ok());
  EXPECT_EQ(directory.error().message, "exec: \"" + scratch.string() + "\": is a directory");

  auto found = lh::find_executable("sh", "/nonexistent-dir:/bin/");
  ASSERT_TRUE(found.ok()) << found.error().message;
  EXPECT_EQ(found.value(), "/bin/sh");

  EXPECT_EQ(lh::container_path_variable({"A=1", "PATH=/x", "PATH=/y"}), "/y");
  EXPECT_EQ(lh::container_path_variable({"A=1"}), lh::kDefaultContainerPath);
  std::filesystem::remove_all(scratch);
}

TEST(ExecutableLookup, ExecuteReportsErrnoOrRunsTheProgram) {
  lh::Error error = lh::execute("/nonexistent", {"x"}, {});
  EXPECT_EQ(error.code, ENOENT);
  EXPECT_EQ(error.message, "exec /nonexistent: no such file or directory");

  pid_t pid = fork();
  if (pid == 0) {
    (void)lh::execute("/bin/sh", {"sh", "-c", "test \"$GREETING\" = hello && exit 7"}, {"GREETING=hello"});
    _exit(99);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 7);
}

TEST(ProcessCredentials, HomeDirectoryFromPasswd) {
  auto file = std::filesystem::temp_directory_path() / ("ps-passwd-" + std::to_string(getpid()));
  std::ofstream(file) << "root:x:0:0:root:/root:/bin/sh\n# comment\nbroken line\n"
                      << "app:x:1000:1000:App User:/home/app:/bin/sh\nnohome:x:1001:1001:::/bin/sh\n";
  EXPECT_EQ(lh::home_directory_for(0, file.string()), "/root");
  EXPECT_EQ(lh::home_directory_for(1000, file.string()), "/home/app");
  EXPECT_EQ(lh::home_directory_for(1001, file.string()), "/");
  EXPECT_EQ(lh::home_directory_for(4242, file.string()), "/");
  EXPECT_EQ(lh::home_directory_for(0, "/nonexistent/passwd"), "/");
  std::filesystem::remove(file);
}

TEST(ProcessCredentials, UmaskAboveOctal777IsAnError) {
  oci::User user;
  user.umask = 01000;
  EXPECT_FALSE(lh::make_user_plan(user).ok());
  user.umask = std::nullopt;
  EXPECT_EQ(lh::make_user_plan(user).value().umask, 022u);
}

TEST(ProcessSetup, UserCapabilitiesNoNewPrivsUmaskAndRlimits) {
  REQUIRE_ROOT();
  oci::Process process = base_process();
  process.user.uid = 1000;
  process.user.gid = 1000;
  process.user.additional_gids = {10, 20};
  process.no_new_privileges = true;
  process.rlimits = {{"RLIMIT_NOFILE", 200, 100}};
  process.capabilities = oci::Capabilities{};
  process.capabilities->bounding = {"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  process.capabilities->permitted = {"CAP_CHOWN", "CAP_NET_BIND_SERVICE"};
  process.capabilities->effective = {"CAP_CHOWN", "CAP_NET_BIND_SERVICE"};
  process.capabilities->inheritable = {"CAP_NET_BIND_SERVICE"};
  process.capabilities->ambient = {"CAP_NET_BIND_SERVICE"};
  lh::ProcessPlan plan = plan_or_fail(process);

  ChildResult child = run_in_child([&] { return apply_and_report(plan); });
  ASSERT_EQ(child.exit_code, 0) << child.raw;
  auto& r = child.report;
  ASSERT_EQ(r.count("error"), 0u) << r["error"];
  EXPECT_EQ(r["executable"], "/usr/bin/sh");
  EXPECT_EQ(r["listener"], "-1");
  EXPECT_EQ(r["uids"], "1000,1000,1000");
  EXPECT_EQ(r["gids"], "1000,1000,1000");
  EXPECT_EQ(r["groups"], "10,20");
  EXPECT_EQ(r["CapBnd"], mask_hex((1u << 0) | (1u << 5) | (1u << 10)));
  EXPECT_EQ(r["CapPrm"], mask_hex((1u << 0) | (1u << 10)));
  EXPECT_EQ(r["CapEff"], mask_hex((1u << 0) | (1u << 10)));
  EXPECT_EQ(r["CapInh"], mask_hex(1u << 10));
  EXPECT_EQ(r["CapAmb"], mask_hex(1u << 10));
  EXPECT_EQ(r["NoNewPrivs"], "1");
  EXPECT_EQ(r["Seccomp"], "0");
  EXPECT_EQ(r["Umask"], "0022");
  EXPECT_EQ(r["nofile"], "100/200");
}

TEST(ProcessSetup, WithoutCapabilitiesSectionRootKeepsNone) {
  REQUIRE_ROOT();
  oci::Process process = base_process();
  process.user.umask = 077;
  lh::ProcessPlan plan = plan_or_fail(process);
  ChildResult child = run_in_child([&] { return apply_and_report(plan); });
  ASSERT_EQ(child.exit_code, 0) << child.raw;
  auto& r = child.report;
  ASSERT_EQ(r.count("error"), 0u) << r["error"];
  EXPECT_EQ(r["uids"], "0,0,0");
  EXPECT_EQ(r["groups"], "");
  EXPECT_EQ(r["CapEff"], mask_hex(0));
  EXPECT_EQ(r["CapPrm"], mask_hex(0));
  EXPECT_EQ(r["CapBnd"], mask_hex(0));
  EXPECT_EQ(r["NoNewPrivs"], "0");
  EXPECT_EQ(r["Umask"], "0077");
}

TEST(Capabilities, EffectiveOutsidePermittedIsAnErrorAmbientOutsideInheritableIsSkipped) {
  oci::Capabilities caps;
  caps.effective = {"CAP_KILL"};
  auto bad = lh::make_capability_plan(caps, 40);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "capability CAP_KILL is in the effective set but not in the permitted set");

  caps.permitted = {"CAP_KILL", "CAP_CHOWN"};
  caps.inheritable = {"CAP_CHOWN"};
  caps.ambient = {"CAP_KILL", "CAP_CHOWN"};
  auto plan = lh::make_capability_plan(caps, 40);
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  EXPECT_EQ(plan.value().ambient, 1u);  // CAP_CHOWN only
  ASSERT_EQ(plan.value().notes.size(), 1u);
  EXPECT_NE(plan.value().notes[0].find("CAP_KILL"), std::string::npos);
}

TEST(ProcessSetup, AmbientCapabilityTheKernelRefusesIsLeftOutLikeRunc) {
  REQUIRE_ROOT();
  oci::Process process = base_process();
  process.capabilities = oci::Capabilities{};
  process.capabilities->bounding = {"CAP_KILL", "CAP_CHOWN"};
  process.capabilities->permitted = {"CAP_KILL", "CAP_CHOWN"};
  process.capabilities->inheritable = {"CAP_KILL", "CAP_CHOWN"};
  lh::ProcessPlan plan = plan_or_fail(process);
  // Bypass the plan's own check: the kernel refuses CAP_KILL (not inheritable), raises CAP_CHOWN.
  plan.capabilities.ambient = (1u << 5) | (1u << 0);
  plan.capabilities.inheritable = 1u << 0;
  ChildResult child = run_in_child([&] { return apply_and_report(plan); });
  ASSERT_EQ(child.exit_code, 0) << child.raw;
  ASSERT_EQ(child.report.count("error"), 0u) << child.raw;
  EXPECT_EQ(child.report["CapAmb"], mask_hex(1u << 0));
}

TEST(ProcessSetup, RlimitsOomScorePersonalitySchedulerAndIoPriority) {
  REQUIRE_ROOT();
  oci::Process process = base_process();
  process.rlimits = {{"RLIMIT_CORE", 4096, 1024}, {"RLIMIT_NOFILE", 128, 64}};
  process.oom_score_adj = 500;  // raising needs no CAP_SYS_RESOURCE
  process.scheduler = oci::Scheduler{};
  process.scheduler->policy = "SCHED_BATCH";
  process.scheduler->nice = 5;
  process.io_priority = oci::IoPriority{"IOPRIO_CLASS_BE", 6};
  oci::Personality linux32{"LINUX32", {}};
  lh::ProcessPlan plan = plan_or_fail(process, {}, linux32);
  ChildResult child = run_in_child([&] {
    return apply_and_report(plan, [] {
      std::string out;
      rlimit core{};
      getrlimit(RLIMIT_CORE, &core);
      out += kv("core", std::to_string(core.rlim_cur) + "/" + std::to_string(core.rlim_max));
      std::ifstream oom("/proc/self/oom_score_adj");
      std::string score;
      oom >> score;
      out += kv("oom", score);
      out += kv("persona", personality(0xffffffff) & PER_MASK);
      utsname name{};
      uname(&name);
      out += kv("machine", name.machine);
      out += kv("policy", sched_getscheduler(0));
      errno = 0;
      out += kv("nice", getpriority(PRIO_PROCESS, 0));
      out += kv("ioprio", syscall(SYS_ioprio_get, IOPRIO_WHO_PROCESS, 0));
      return out;
    });
  });
  ASSERT_EQ(child.exit_code, 0) << child.raw;
  auto& r = child.report;
  ASSERT_EQ(r.count("error"), 0u) << r["error"];
  EXPECT_EQ(r["nofile"], "64/128");
  EXPECT_EQ(r["core"], "1024/4096");
  EXPECT_EQ(r["oom"], "500");
  EXPECT_EQ(r["persona"], std::to_string(PER_LINUX32));
#if defined(__x86_64__)
  EXPECT_EQ(r["machine"], "i686");
#endif
  EXPECT_EQ(r["policy"], std::to_string(SCHED_BATCH));
  EXPECT_EQ(r["nice"], "5");
  EXPECT_EQ(r["ioprio"], std::to_string((IOPRIO_CLASS_BE << 13) | 6));
}

TEST(ProcessSetup, ExecutableNotFoundIsReportedWithRuncsWording) {
  REQUIRE_ROOT();
  oci::Process process = base_process();
  process.args = {"definitely-not-a-program"};
  lh::ProcessPlan plan = plan_or_fail(process);
  ChildResult child = run_in_child([&] { return apply_and_report(plan); });
  EXPECT_EQ(child.report["error"], "exec: \"definitely-not-a-program\": executable file not found in $PATH");
}

TEST(ProcessSetup, StdioOwnershipFollowsTheUser) {
  REQUIRE_ROOT();
  ChildResult child = run_in_child([] {
    // Give the child its own stdio: a pipe (chowned) and /dev/null (left alone).
    int fds[2];
    if (pipe(fds) != 0) return kv("error", "pipe");
    int null_fd = open("/dev/null", O_RDWR);
    struct stat null_before {};
    fstat(null_fd, &null_before);
    int saved = dup(2);
    dup2(fds[0], 0);
    dup2(null_fd, 1);
    dup2(fds[1], 2);
    auto fixed = lh::fix_stdio_ownership(1000);
    struct stat in {}, out {}, err {};
    fstat(0, &in);
    fstat(1, &out);
    fstat(2, &err);
    dup2(saved, 2);
    return kv("fixed", fixed.ok() ? "ok" : fixed.error().message) + kv("stdin", in.st_uid) +
           kv("stdout", out.st_uid) + kv("null_before", null_before.st_uid) + kv("stderr", err.st_uid);
  });
  ASSERT_EQ(child.exit_code, 0) << child.raw;
  EXPECT_EQ(child.report["fixed"], "ok");
  EXPECT_EQ(child.report["stdin"], "1000");
  EXPECT_EQ(child.report["stderr"], "1000");
  EXPECT_EQ(child.report["stdout"], child.report["null_before"]);
}

TEST(Rlimits, ParentSetsThemOnTheChildWithPrlimit) {
  int go[2];
  ASSERT_EQ(pipe2(go, O_CLOEXEC), 0);
  auto settings = lh::make_rlimit_settings({{"RLIMIT_NOFILE", 96, 48}, {"RLIMIT_CORE", 0, 0}});
  ASSERT_TRUE(settings.ok()) << settings.error().message;
  int report[2];
  ASSERT_EQ(pipe2(report, O_CLOEXEC), 0);
  pid_t pid = fork();
  if (pid == 0) {
    char byte = 0;
    (void)!read(go[0], &byte, 1);  // wait until the parent has set the limits
    rlimit nofile{};
    getrlimit(RLIMIT_NOFILE, &nofile);
    std::string out = std::to_string(nofile.rlim_cur) + "/" + std::to_string(nofile.rlim_max);
    (void)!write(report[1], out.data(), out.size());
    _exit(0);
  }
  close(report[1]);
  auto applied = lh::apply_rlimits_to(pid, settings.value());
  (void)!write(go[1], "x", 1);
  char buffer[64] = {};
  ssize_t n = read(report[0], buffer, sizeof(buffer) - 1);
  int status = 0;
  waitpid(pid, &status, 0);
  close(go[0]);
  close(go[1]);
  close(report[0]);
  ASSERT_TRUE(applied.ok()) << applied.error().message;
  ASSERT_GT(n, 0);
  EXPECT_STREQ(buffer, "48/96");
}
