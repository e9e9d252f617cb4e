// The seccomp filter (seccomp_filter.hpp, seccomp_listener.hpp): compiled here with libseccomp, loaded in a
// forked child through apply_process_plan or load_seccomp_program; the child reports the errno it sees.
#include <fcntl.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "litebox/linux/process_setup.hpp"
#include "litebox/linux/seccomp_filter.hpp"
#include "litebox/linux/seccomp_listener.hpp"
#include "process_child.hpp"

namespace lh = litebox::linux_host;
using namespace litebox::testing;  // NOLINT: the child helpers

TEST(Seccomp, UnknownActionArchitectureFlagAndOperatorAreClearErrors) {
  oci::Seccomp seccomp;
  seccomp.default_action = "SCMP_ACT_ALLOW";

  oci::Seccomp bad_action = seccomp;
  bad_action.syscalls = {{{"mkdir"}, "SCMP_ACT_FOO", {}, {}}};
  auto action = lh::compile_seccomp_filter(bad_action);
  ASSERT_FALSE(action.ok());
  EXPECT_NE(action.error().message.find("unknown seccomp action \"SCMP_ACT_FOO\""), std::string::npos)
      << action.error().message;

  oci::Seccomp bad_default = seccomp;
  bad_default.default_action = "SCMP_ACT_NOPE";
  ASSERT_FALSE(lh::compile_seccomp_filter(bad_default).ok());

  oci::Seccomp bad_arch = seccomp;
  bad_arch.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_Z80"};
  auto arch = lh::compile_seccomp_filter(bad_arch);
  ASSERT_FALSE(arch.ok());
  EXPECT_EQ(arch.error().message, "unknown seccomp architecture \"SCMP_ARCH_Z80\"");

  oci::Seccomp bad_flag = seccomp;
  bad_flag.flags = {"SECCOMP_FILTER_FLAG_FOO"};
  auto flag = lh::compile_seccomp_filter(bad_flag);
  ASSERT_FALSE(flag.ok());
  EXPECT_EQ(flag.error().message, "unknown seccomp flag \"SECCOMP_FILTER_FLAG_FOO\"");

  oci::Seccomp bad_op = seccomp;
  bad_op.syscalls = {{{"personality"}, "SCMP_ACT_ERRNO", {}, {{0, 8, 0, "SCMP_CMP_ALMOST"}}}};
  auto op = lh::compile_seccomp_filter(bad_op);
  ASSERT_FALSE(op.ok());
  EXPECT_NE(op.error().message.find("unknown seccomp operator \"SCMP_CMP_ALMOST\""), std::string::npos);

  oci::Seccomp bad_index = seccomp;
  bad_index.syscalls = {{{"personality"}, "SCMP_ACT_ERRNO", {}, {{6, 8, 0, "SCMP_CMP_EQ"}}}};
  ASSERT_FALSE(lh::compile_seccomp_filter(bad_index).ok());

  oci::Seccomp notify_default = seccomp;
  notify_default.default_action = "SCMP_ACT_NOTIFY";
  ASSERT_FALSE(lh::compile_seccomp_filter(notify_default).ok());
}

TEST(Seccomp, ArchitecturesFlagsAndUnknownSyscalls) {
  oci::Seccomp seccomp;
  seccomp.default_action = "SCMP_ACT_ALLOW";
  seccomp.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64"};
  seccomp.flags = {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
                   "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"};
  seccomp.syscalls = {{{"mkdir", "no_such_syscall_42"}, "SCMP_ACT_ERRNO", 1, {}},
                      {{"getcwd"}, "SCMP_ACT_ALLOW", {}, {}}};  // the default: skipped
  auto program = lh::compile_seccomp_filter(seccomp);
  ASSERT_TRUE(program.ok()) << program.error().message;
  EXPECT_FALSE(program.value().instructions.empty());
  EXPECT_EQ(program.value().load_flags, SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW);
  EXPECT_FALSE(program.value().has_listener);
  std::string notes;
  for (const auto& note : program.value().notes) notes += note + "\n";
  EXPECT_NE(notes.find("\"no_such_syscall_42\""), std::string::npos) << notes;
  EXPECT_NE(notes.find("WAIT_KILLABLE_RECV"), std::string::npos) << notes;
}

TEST(Seccomp, NotifyAsksTheKernelForAListener) {
  oci::Seccomp seccomp;
  seccomp.default_action = "SCMP_ACT_ERRNO";
  seccomp.default_errno_ret = ENOSYS;
  seccomp.flags = {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", "SECCOMP_FILTER_FLAG_TSYNC"};
  seccomp.syscalls = {{{"openat"}, "SCMP_ACT_NOTIFY", {}, {}}, {{"read", "write"}, "SCMP_ACT_ALLOW", {}, {}}};
  auto unanswered = lh::compile_seccomp_filter(seccomp);
  ASSERT_FALSE(unanswered.ok());
  EXPECT_EQ(unanswered.error().message, "seccomp: SCMP_ACT_NOTIFY is used but listenerPath is not set");
  seccomp.listener_path = "/run/agent.sock";
  auto program = lh::compile_seccomp_filter(seccomp);
  if (!program.ok() && program.error().message.find("running kernel") != std::string::npos) {
    GTEST_SKIP() << "needs Linux 5.19 (SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV): " << program.error().message;
  }
  ASSERT_TRUE(program.ok()) << program.error().message;
  EXPECT_TRUE(program.value().has_listener);
  EXPECT_EQ(program.value().load_flags,
            SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV);  // TSYNC not passed
  EXPECT_TRUE(program.value().notes.empty());
}

TEST(Seccomp, LoadPointFollowsRunc) {
  EXPECT_EQ(lh::seccomp_load_point(false), lh::SeccompLoadPoint::before_user_switch);
  EXPECT_EQ(lh::seccomp_load_point(true), lh::SeccompLoadPoint::just_before_exec);
}

TEST(SeccompInChild, LateSeccompCanBeLeftToTheCaller) {
  REQUIRE_ROOT();
  oci::Process process = base_process();
  process.no_new_privileges = true;
  oci::Seccomp seccomp;
  seccomp.default_action = "SCMP_ACT_ALLOW";
  seccomp.syscalls = {{{"getcwd"}, "SCMP_ACT_ERRNO", ENOTSUP, {}}};
  lh::ProcessPlan plan = plan_or_fail(process, seccomp);
  ChildResult child = run_in_child([&] {
    lh::ProcessSetupOptions options = test_options();
    options.load_late_seccomp = false;
    auto applied = lh::apply_process_plan(plan, options);
    if (!applied) return kv("error", applied.error().message);
    std::string out = kv("before", status_field("Seccomp"));
    auto loaded = lh::load_seccomp_program(*plan.seccomp);
    char cwd[256];
    return out + kv("loaded", loaded.ok() ? std::to_string(loaded.value()) : loaded.error().message) +
           kv("after", status_field("Seccomp")) + kv("getcwd", getcwd(cwd, sizeof(cwd)) ? "ok" : std::to_string(errno));
  });
  ASSERT_EQ(child.exit_code, 0) << child.raw;
  EXPECT_EQ(child.report["before"], "0") << child.raw;
  EXPECT_EQ(child.report["loaded"], "-1");
  EXPECT_EQ(child.report["after"], "2");
  EXPECT_EQ(child.report["getcwd"], std::to_string(ENOTSUP));
}

TEST(SeccompInChild, ErrnoRuleDeniesOnlyThatSyscall) {
  REQUIRE_ROOT();
  oci::Process process = base_process();
  oci::Seccomp seccomp;
  seccomp.default_action = "SCMP_ACT_ALLOW";
  seccomp.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
  seccomp.syscalls = {{{"mkdir", "mkdirat"}, "SCMP_ACT_ERRNO", ENOTSUP, {}},
                      {{"getcwd"}, "SCMP_ACT_ERRNO", {}, {}}};  // no errnoRet: EPERM, as runc
  lh::ProcessPlan plan = plan_or_fail(process, seccomp);
  auto dir = std::filesystem::temp_directory_path() / ("ps-mkdir-" + std::to_string(getpid()));
  ChildResult child = run_in_child([&] {
    return apply_and_report(plan, [&] {
      char cwd[256];
      return kv("mkdir", errno_of(mkdir(dir.c_str(), 0700))) +
             kv("getcwd", getcwd(cwd, sizeof(cwd)) ? "ok" : std::to_string(errno)) +
             kv("getpid", errno_of(syscall(SYS_getpid))) + kv("rmdir", errno_of(rmdir(dir.c_str())));
    });
  });
  ASSERT_EQ(child.exit_code, 0) << child.raw;
  auto& r = child.report;
  ASSERT_EQ(r.count("error"), 0u) << r["error"];
  EXPECT_EQ(r["Seccomp"], "2");
  EXPECT_EQ(r["mkdir"], std::to_string(ENOTSUP));
  EXPECT_EQ(r["getcwd"], std::to_string(EPERM));
  EXPECT_EQ(r["getpid"], "ok");
  EXPECT_EQ(r["rmdir"], std::to_string(ENOENT));  // allowed, and nothing was created
  EXPECT_FALSE(std::filesystem::exists(dir));
}

TEST(SeccompInChild, ArgumentConditions) {
  REQUIRE_ROOT();
  oci::Process process = base_process();
  oci::Seccomp seccomp;
  seccomp.default_action = "SCMP_ACT_ALLOW";
  // Two conditions on argument 0: like runc, one rule each (either value is denied).
  seccomp.syscalls = {{{"personality"}, "SCMP_ACT_ERRNO", EACCES,
                       {{0, kPerLinux32, 0, "SCMP_CMP_EQ"}, {0, kPerLinux32 | kAddrCompatLayout, 0, "SCMP_CMP_EQ"}}},
                      {{"personality"}, "SCMP_ACT_ERRNO", EXDEV,
                       {{0, kAddrNoRandomize, kAddrNoRandomize, "SCMP_CMP_MASKED_EQ"}}},
                      {{"setpgid"}, "SCMP_ACT_ERRNO", ENOTSUP,
                       {{0, 0, 0, "SCMP_CMP_EQ"}, {1, 100000, 0, "SCMP_CMP_GT"}}}};  // both must hold
  lh::ProcessPlan plan = plan_or_fail(process, seccomp);
  ChildResult child = run_in_child([&] {
    return apply_and_report(plan, [] {
      return kv("linux32", errno_of(personality(kPerLinux32))) +
             kv("linux32_compat", errno_of(personality(kPerLinux32 | kAddrCompatLayout))) +
             kv("no_randomize", errno_of(personality(kPerLinux | kAddrNoRandomize))) +
             kv("linux", errno_of(personality(kPerLinux))) +
             kv("setpgid_both", errno_of(setpgid(0, 200000))) + kv("setpgid_one", errno_of(setpgid(0, 0)));
    });
  });
  ASSERT_EQ(child.exit_code, 0) << child.raw;
  auto& r = child.report;
  ASSERT_EQ(r.count("error"), 0u) << r["error"];
  EXPECT_EQ(r["linux32"], std::to_string(EACCES));
  EXPECT_EQ(r["linux32_compat"], std::to_string(EACCES));
  EXPECT_EQ(r["no_randomize"], std::to_string(EXDEV));
  EXPECT_EQ(r["linux"], "ok");
  EXPECT_EQ(r["setpgid_both"], std::to_string(ENOTSUP));
  EXPECT_EQ(r["setpgid_one"], "ok");
}

TEST(SeccompInChild, LoadsBeforeTheUserSwitchWithoutNoNewPrivileges) {
  REQUIRE_ROOT();
  oci::Seccomp seccomp;
  seccomp.default_action = "SCMP_ACT_ALLOW";
  seccomp.syscalls = {{{"setresuid"}, "SCMP_ACT_ERRNO", ENOTSUP, {}}};
  oci::Process process = base_process();
  process.user.uid = 1000;
  lh::ProcessPlan early = plan_or_fail(process, seccomp);
  ChildResult child = run_in_child([&] { return apply_and_report(early); });
  EXPECT_EQ(child.report["error"], "switch user: setresuid 1000: Operation not supported") << child.raw;

  process.no_new_privileges = true;  // now the filter comes last, after the switch
  lh::ProcessPlan late = plan_or_fail(process, seccomp);
  child = run_in_child([&] {
    return apply_and_report(late, [] { return kv("setresuid", errno_of(setresuid(-1, -1, -1))); });
  });
  ASSERT_EQ(child.report.count("error"), 0u) << child.raw;
  EXPECT_EQ(child.report["uids"], "1000,1000,1000");
  EXPECT_EQ(child.report["setresuid"], std::to_string(ENOTSUP));
}

TEST(SeccompInChild, NotifyListenerGoesToListenerPath) {
  REQUIRE_ROOT();
  auto socket_path = std::filesystem::temp_directory_path() / ("ps-listener-" + std::to_string(getpid()) + ".sock");
  std::filesystem::remove(socket_path);
  int server = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(server, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, socket_path.c_str(), sizeof(address.sun_path) - 1);
  ASSERT_EQ(bind(server, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(listen(server, 1), 0);

  oci::Seccomp seccomp;
  seccomp.default_action = "SCMP_ACT_ALLOW";
  seccomp.listener_path = socket_path.string();
  seccomp.syscalls = {{{"getppid"}, "SCMP_ACT_NOTIFY", {}, {}}};
  oci::Process process = base_process();
  process.no_new_privileges = true;
  lh::ProcessPlan plan = plan_or_fail(process, seccomp);
  ASSERT_TRUE(plan.seccomp && plan.seccomp->has_listener);
  const std::string state = R"({"ociVersion":"1.2.0","fds":["seccompFd"],"pid":1,"metadata":"","state":{}})";

  int report_pipe[2];
  ASSERT_EQ(pipe2(report_pipe, O_CLOEXEC), 0);
  pid_t pid = fork();
  if (pid == 0) {
    auto applied = lh::apply_process_plan(plan, test_options());
    std::string out;
    if (!applied) {
      out = "error=" + applied.error().message;
    } else if (auto sent = lh::send_seccomp_listener(plan.seccomp->listener_path, state,
                                                      applied.value().seccomp_listener_fd);
               !sent) {
      out = "error=" + sent.error().message;
    } else {
      close(applied.value().seccomp_listener_fd);
      out = "getppid=" + std::to_string(syscall(SYS_getppid));  // answered by the test below
    }
    (void)!write(report_pipe[1], out.data(), out.size());
    _exit(0);
  }
  close(report_pipe[1]);

  int connection = accept4(server, nullptr, nullptr, SOCK_CLOEXEC);
  ASSERT_GE(connection, 0);
  char payload[512] = {};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  iovec iov{payload, sizeof(payload) - 1};
  msghdr message{};
  message.msg_iov = &iov;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof(control);
  ssize_t received = recvmsg(connection, &message, MSG_CMSG_CLOEXEC);
  ASSERT_GT(received, 0);
  EXPECT_EQ(std::string(payload, static_cast<std::size_t>(received)), state);
  cmsghdr* header = CMSG_FIRSTHDR(&message);
  ASSERT_NE(header, nullptr);
  ASSERT_EQ(header->cmsg_type, SCM_RIGHTS);
  int listener = -1;
  std::memcpy(&listener, CMSG_DATA(header), sizeof(int));

  seccomp_notif notification{};
  ASSERT_EQ(ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &notification), 0) << std::strerror(errno);
  EXPECT_EQ(notification.pid, static_cast<std::uint32_t>(pid));
  seccomp_notif_resp response{};
  response.id = notification.id;
  response.val = 4242;
  ASSERT_EQ(ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &response), 0) << std::strerror(errno);

  std::string out;
  char buffer[512];
  for (ssize_t n; (n = read(report_pipe[0], buffer, sizeof(buffer))) > 0;) {
    out.append(buffer, static_cast<std::size_t>(n));
  }
  int status = 0;
  waitpid(pid, &status, 0);
  close(report_pipe[0]);
  close(listener);
  close(connection);
  close(server);
  std::filesystem::remove(socket_path);
  EXPECT_EQ(out, "getppid=4242");
}

