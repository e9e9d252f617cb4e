// The core's kernel primitives (litebox/linux/core: seccomp_notify, guest_memory, guest_table,
// guest_credentials), against real guests: a forked child that installs a small seccomp filter with a user
// notification listener (openat, dup and getppid stop for us), hands the listener over a socketpair, makes
// calls and reports what it saw back over the same socketpair (SOCK_SEQPACKET: one message per report).
// The suites are named core_primitives_* so that `ctest -R core_primitives` selects them (ctest knows the
// tests by their GoogleTest names only).
#include <dirent.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "litebox/linux/core/guest_credentials.hpp"
#include "litebox/linux/core/guest_memory.hpp"
#include "litebox/linux/core/guest_table.hpp"
#include "litebox/linux/core/seccomp_notify.hpp"
#include "litebox/linux/unix_socket.hpp"
#include "process_child.hpp"

namespace lh = litebox::linux_host;
namespace core = litebox::linux_host::core;
using litebox::testing::status_field;

namespace {

// Whether the guest's kernel table has `fd` open.
bool guest_has(pid_t pid, int fd) {
  const auto numbers = core::guest_fd_numbers(pid);
  return std::find(numbers.begin(), numbers.end(), fd) != numbers.end();
}

#define REQUIRE_ROOT_FOR_CORE()                                                                  \
  do {                                                                                           \
    if (geteuid() != 0) GTEST_SKIP() << "needs root (switches credentials, reads other tasks)"; \
  } while (0)

constexpr int kTimeoutMs = 10000;

// ---- the child's seccomp filter, classic BPF by hand ----

constexpr sock_filter statement(unsigned code, std::uint32_t k) {
  return sock_filter{static_cast<std::uint16_t>(code), 0, 0, k};
}
constexpr sock_filter jump(unsigned code, std::uint32_t k, std::uint8_t jt, std::uint8_t jf) {
  return sock_filter{static_cast<std::uint16_t>(code), jt, jf, k};
}

// The listener's descriptor in the child, or -errno.
int install_notify_filter() {
  static constexpr std::array<sock_filter, 9> program = {
      statement(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      jump(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      statement(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
      statement(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      jump(BPF_JMP | BPF_JEQ | BPF_K, __NR_openat, 3, 0),
      jump(BPF_JMP | BPF_JEQ | BPF_K, __NR_dup, 2, 0),
      jump(BPF_JMP | BPF_JEQ | BPF_K, __NR_getppid, 1, 0),
      statement(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      statement(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
  };
  sock_fprog fprog{static_cast<unsigned short>(program.size()), const_cast<sock_filter*>(program.data())};
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -errno;
  const long listener = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &fprog);
  return listener < 0 ? -errno : static_cast<int>(listener);
}

// ---- the channel: SOCK_SEQPACKET, one message per report or command ----

void child_send(int channel, const std::string& text) {
  if (::send(channel, text.data(), text.size(), MSG_NOSIGNAL) < 0) ::_exit(90);
}

std::string child_receive(int channel) {
  char buffer[256];
  const ssize_t n = ::recv(channel, buffer, sizeof buffer, 0);
  if (n <= 0) ::_exit(91);
  return std::string(buffer, static_cast<std::size_t>(n));
}

std::string report(const std::string& key, long value) { return key + "=" + std::to_string(value); }

// A forked guest. The destructor kills and reaps it if the test did not.
class Guest {
 public:
  // `filter`: the child installs the notify filter first and hands us its listener.
  Guest(bool filter, const std::function<void(int channel)>& body) {
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(pair[0]);
      if (filter) {
        const int listener = install_notify_filter();
        if (listener < 0) ::_exit(92);
        if (lh::send_with_descriptor(pair[1], "L", listener) != 0) ::_exit(93);
        ::close(listener);
      } else {
        child_send(pair[1], "R");
      }
      body(pair[1]);
      ::_exit(0);
    }
    ::close(pair[1]);
    channel_ = pair[0];
    if (pid_ < 0) return;
    char ready = 0;
    if (wait_readable(channel_) && lh::receive_with_descriptor(channel_, &ready, 1, listener_) == 1) ok_ = true;
    if (filter && listener_ < 0) ok_ = false;
  }
  ~Guest() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (listener_ >= 0) ::close(listener_);
    if (channel_ >= 0) ::close(channel_);
  }
  Guest(const Guest&) = delete;
  Guest& operator=(const Guest&) = delete;

  bool ok() const { return ok_; }
  pid_t pid() const { return pid_; }
  int listener() const { return listener_; }

  // The next report, "" on timeout or EOF.
  std::string next() {
    if (!wait_readable(channel_)) return "";
    char buffer[4096];
    const ssize_t n = ::recv(channel_, buffer, sizeof buffer, 0);
    return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : "";
  }
  void command(const std::string& text) { ASSERT_GE(::send(channel_, text.data(), text.size(), MSG_NOSIGNAL), 0); }

  // The next notification (waits at most kTimeoutMs); 0 or -errno.
  int notification(core::Notification& out) {
    if (!wait_readable(listener_)) return -ETIMEDOUT;
    return core::receive_notification(listener_, out);
  }

  // Waits for the child's exit; its status code, -signal when killed.
  int finish() {
    int status = 0;
    if (::waitpid(pid_, &status, 0) != pid_) return -1000;
    reaped_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  }

 private:
  static bool wait_readable(int fd) {
    pollfd entry{fd, POLLIN, 0};
    int n;
    do {
      n = ::poll(&entry, 1, kTimeoutMs);
    } while (n < 0 && errno == EINTR);
    return n == 1;
  }

  pid_t pid_ = -1;
  int channel_ = -1;
  int listener_ = -1;
  bool ok_ = false;
  bool reaped_ = false;
};

// A scratch directory under /tmp (every user can reach it), removed afterwards.
class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/litebox-core-XXXXXX";
    if (::mkdtemp(pattern) != nullptr) path_ = pattern;
    ::chmod(path_.c_str(), 0777);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name, const std::string& content, mode_t mode = 0644) const {
    const std::string full = path_ + "/" + name;
    std::ofstream(full) << content;
    ::chmod(full.c_str(), mode);
    return full;
  }

 private:
  std::string path_;
};

std::string read_all(int fd) {
  char buffer[256];
  const ssize_t n = ::pread(fd, buffer, sizeof buffer, 0);
  return n >= 0 ? std::string(buffer, static_cast<std::size_t>(n)) : "error " + std::to_string(errno);
}

std::size_t page_size() { return static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)); }

// ---- calling-thread credentials, raw ----

struct Caps {
  std::uint64_t effective = 0, permitted = 0, inheritable = 0;
};

Caps thread_caps() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  std::array<__user_cap_data_struct, _LINUX_CAPABILITY_U32S_3> data{};
  ::syscall(SYS_capget, &header, data.data());
  return Caps{data[0].effective | (std::uint64_t{data[1].effective} << 32),
              data[0].permitted | (std::uint64_t{data[1].permitted} << 32),
              data[0].inheritable | (std::uint64_t{data[1].inheritable} << 32)};
}

int set_thread_caps(const Caps& caps) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  std::array<__user_cap_data_struct, _LINUX_CAPABILITY_U32S_3> data{};
  data[0].effective = static_cast<std::uint32_t>(caps.effective);
  data[1].effective = static_cast<std::uint32_t>(caps.effective >> 32);
  data[0].permitted = static_cast<std::uint32_t>(caps.permitted);
  data[1].permitted = static_cast<std::uint32_t>(caps.permitted >> 32);
  data[0].inheritable = static_cast<std::uint32_t>(caps.inheritable);
  data[1].inheritable = static_cast<std::uint32_t>(caps.inheritable >> 32);
  return ::syscall(SYS_capset, &header, data.data()) == 0 ? 0 : errno;
}

constexpr auto kUnchanged = static_cast<unsigned long>(static_cast<std::uint32_t>(-1));
uid_t thread_fsuid() { return static_cast<uid_t>(::syscall(SYS_setfsuid, kUnchanged)); }
gid_t thread_fsgid() { return static_cast<gid_t>(::syscall(SYS_setfsgid, kUnchanged)); }

std::vector<gid_t> thread_groups() {
  std::vector<gid_t> groups(static_cast<std::size_t>(std::max(::getgroups(0, nullptr), 0)));
  groups.resize(static_cast<std::size_t>(std::max(::getgroups(static_cast<int>(groups.size()), groups.data()), 0)));
  return groups;
}

mode_t thread_umask() {
  const mode_t mask = ::umask(0);
  ::umask(mask);
  return mask;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------
// seccomp_notify

TEST(core_primitives_notify, ReceiveAndAnswerWithValueErrorOrContinue) {
  REQUIRE_ROOT_FOR_CORE();
  Guest guest(true, [](int channel) {
    child_send(channel, report("value", ::syscall(SYS_getppid)));
    errno = 0;
    const long failed = ::syscall(SYS_getppid);
    child_send(channel, report("error", failed < 0 ? errno : 0));
    child_send(channel, report("continue", ::syscall(SYS_getppid)));
  });
  ASSERT_TRUE(guest.ok());

  core::Notification first;
  ASSERT_EQ(guest.notification(first), 0);
  EXPECT_EQ(first.nr, __NR_getppid);
  EXPECT_EQ(first.pid, guest.pid());
  EXPECT_EQ(first.arch, AUDIT_ARCH_X86_64);
  EXPECT_NE(first.ip, 0U);
  EXPECT_EQ(core::notification_valid(guest.listener(), first.id), 0);
  ASSERT_EQ(core::respond_value(guest.listener(), first.id, 4242), 0);
  EXPECT_EQ(guest.next(), "value=4242");
  // Answered: no longer pending.
  EXPECT_EQ(core::notification_valid(guest.listener(), first.id), -ENOENT);
  EXPECT_EQ(core::respond_value(guest.listener(), first.id, 1), -ENOENT);

  core::Notification second;
  ASSERT_EQ(guest.notification(second), 0);
  EXPECT_NE(second.id, first.id);
  EXPECT_EQ(core::respond_error(guest.listener(), second.id, 0), -EINVAL);  // not an errno
  ASSERT_EQ(core::respond_error(guest.listener(), second.id, EXDEV), 0);
  EXPECT_EQ(guest.next(), report("error", EXDEV));

  core::Notification third;
  ASSERT_EQ(guest.notification(third), 0);
  ASSERT_EQ(core::respond_continue(guest.listener(), third.id), 0);
  EXPECT_EQ(guest.next(), report("continue", ::getpid()));  // the real getppid ran
  EXPECT_EQ(guest.finish(), 0);

  EXPECT_EQ(core::respond_value(-1, third.id, 0), -EBADF);
}

TEST(core_primitives_notify, SynchronousWakeUpKeepsEveryRoundTrip) {
  REQUIRE_ROOT_FOR_CORE();
  Guest guest(true, [](int channel) {
    for (int i = 0; i < 3; ++i) child_send(channel, report("value", ::syscall(SYS_getppid)));
  });
  ASSERT_TRUE(guest.ok());
  const int set = core::request_sync_wake_up(guest.listener());
  if (set == -EINVAL) GTEST_SKIP() << "this kernel has no SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (Linux 6.6+)";
  ASSERT_EQ(set, 0);
  for (int i = 0; i < 3; ++i) {
    core::Notification n;
    ASSERT_EQ(guest.notification(n), 0);
    EXPECT_EQ(n.nr, __NR_getppid);
    ASSERT_EQ(core::respond_value(guest.listener(), n.id, 100 + i), 0);
    EXPECT_EQ(guest.next(), report("value", 100 + i));
  }
  EXPECT_EQ(guest.finish(), 0);
  EXPECT_EQ(core::request_sync_wake_up(-1), -EBADF);
}

TEST(core_primitives_notify, AddDescriptorSendsReplacesAndTakesTheLowestFree) {
  REQUIRE_ROOT_FOR_CORE();
  TempDir dir;
  const int first = ::open(dir.file("first", "first file").c_str(), O_RDONLY | O_CLOEXEC);
  const int second = ::open(dir.file("second", "second file").c_str(), O_RDONLY | O_CLOEXEC);
  const int third = ::open(dir.file("third", "third file").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(first, 0);
  ASSERT_GE(second, 0);
  ASSERT_GE(third, 0);

  Guest guest(true, [](int channel) {
    const int sent = ::openat(AT_FDCWD, "/core/first", O_RDONLY);
    child_send(channel, report("send", sent));
    child_send(channel, "content=" + read_all(sent));
    const int duplicated = ::dup(0);
    child_send(channel, report("dup", duplicated));
    child_send(channel, report("cloexec", ::fcntl(100, F_GETFD) & FD_CLOEXEC));
    child_send(channel, "content=" + read_all(100));
    const int replaced = ::openat(AT_FDCWD, "/core/second", O_RDONLY);
    child_send(channel, report("replaced", replaced));
    child_send(channel, report("cloexec", ::fcntl(100, F_GETFD) & FD_CLOEXEC));
    child_send(channel, "content=" + read_all(100));
    const long lowest = ::syscall(SYS_getppid);
    child_send(channel, report("lowest", lowest));
    child_send(channel, "content=" + read_all(static_cast<int>(lowest)));
  });
  ASSERT_TRUE(guest.ok());
  const int listener = guest.listener();

  // send = true: the guest's openat returns the number ADDFD installed.
  core::Notification open_call;
  ASSERT_EQ(guest.notification(open_call), 0);
  ASSERT_EQ(open_call.nr, __NR_openat);
  const int installed = core::add_descriptor(listener, open_call.id, first, -1, false, true);
  ASSERT_GE(installed, 0);
  EXPECT_EQ(core::notification_valid(listener, open_call.id), -ENOENT);  // answered by the ADDFD
  EXPECT_EQ(guest.next(), report("send", installed));
  EXPECT_EQ(guest.next(), "content=first file");
  EXPECT_EQ(core::same_guest_description(::getpid(), first, guest.pid(), installed), 1);

  // A chosen number, close-on-exec, not answering: we answer afterwards.
  core::Notification dup_call;
  ASSERT_EQ(guest.notification(dup_call), 0);
  ASSERT_EQ(dup_call.nr, __NR_dup);
  ASSERT_EQ(core::add_descriptor(listener, dup_call.id, first, 100, true, false), 100);
  core::GuestFdInfo info;
  ASSERT_EQ(core::guest_fd_info(guest.pid(), 100, info), 0);
  EXPECT_TRUE(info.cloexec);
  EXPECT_EQ(info.flags & O_ACCMODE, static_cast<std::uint32_t>(O_RDONLY));
  EXPECT_EQ(info.flags & O_CLOEXEC, 0U);
  EXPECT_EQ(core::notification_valid(listener, dup_call.id), 0);  // still waiting for our answer
  ASSERT_EQ(core::respond_value(listener, dup_call.id, 100), 0);
  EXPECT_EQ(guest.next(), "dup=100");
  EXPECT_EQ(guest.next(), "cloexec=1");
  EXPECT_EQ(guest.next(), "content=first file");

  // SETFD over an open number replaces it (as dup2 does), and SEND answers with it.
  core::Notification replace_call;
  ASSERT_EQ(guest.notification(replace_call), 0);
  ASSERT_EQ(core::add_descriptor(listener, replace_call.id, second, 100, false, true), 100);
  EXPECT_EQ(guest.next(), "replaced=100");
  EXPECT_EQ(guest.next(), "cloexec=0");
  EXPECT_EQ(guest.next(), "content=second file");
  ASSERT_EQ(core::guest_fd_info(guest.pid(), 100, info), 0);
  EXPECT_FALSE(info.cloexec);

  // -1: the lowest free number of the guest's table.
  core::Notification lowest_call;
  ASSERT_EQ(guest.notification(lowest_call), 0);
  const std::vector<int> open_numbers = core::guest_fd_numbers(guest.pid());
  int expected = 0;
  while (std::find(open_numbers.begin(), open_numbers.end(), expected) != open_numbers.end()) ++expected;
  EXPECT_FALSE(guest_has(guest.pid(), expected));
  ASSERT_EQ(core::add_descriptor(listener, lowest_call.id, third, -1, false, false), expected);
  EXPECT_TRUE(guest_has(guest.pid(), expected));
  ASSERT_EQ(core::respond_value(listener, lowest_call.id, expected), 0);
  EXPECT_EQ(guest.next(), report("lowest", expected));
  EXPECT_EQ(guest.next(), "content=third file");
  EXPECT_EQ(guest.finish(), 0);

  // The guest is gone: nothing to install into.
  EXPECT_EQ(core::add_descriptor(listener, lowest_call.id, third, -1, false, false), -ENOENT);
  ::close(first);
  ::close(second);
  ::close(third);
}

// ADDFD runs in the guest task: the guest's RLIMIT_NOFILE applies, not ours.
TEST(core_primitives_notify, AddDescriptorObeysTheGuestsDescriptorLimit) {
  REQUIRE_ROOT_FOR_CORE();
  Guest guest(true, [](int channel) {
    const rlimit limit{16, 16};
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) ::_exit(80);
    const int filler = ::fcntl(0, F_DUPFD, 0);
    while (::fcntl(0, F_DUPFD, 0) >= 0) {
    }
    child_send(channel, report("full", errno));
    child_send(channel, report("filler", filler));
    child_send(channel, report("answer", ::syscall(SYS_getppid)));
  });
  ASSERT_TRUE(guest.ok());
  EXPECT_EQ(guest.next(), report("full", EMFILE));
  const std::string filler_report = guest.next();
  ASSERT_TRUE(filler_report.starts_with("filler=")) << filler_report;
  const int filler = std::stoi(filler_report.substr(7));
  ASSERT_GE(filler, 0);
  ASSERT_LT(filler, 16);
  rlimit ours{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &ours), 0);
  ASSERT_GT(ours.rlim_cur, 64U);  // so an EMFILE below is the guest's limit

  core::Notification call;
  ASSERT_EQ(guest.notification(call), 0);
  const int listener = guest.listener();
  EXPECT_EQ(core::add_descriptor(listener, call.id, 0, -1, false, false), -EMFILE);
  // A number at or above the limit: EBADF, as dup2 says natively (the kernel's replace_fd).
  EXPECT_EQ(core::add_descriptor(listener, call.id, 0, 16, false, false), -EBADF);
  EXPECT_EQ(core::add_descriptor(listener, call.id, 0, 200, false, false), -EBADF);
  // Below the limit, replacing an open number still works in a full table.
  EXPECT_EQ(core::add_descriptor(listener, call.id, 0, filler, false, false), filler);
  ASSERT_EQ(core::respond_value(listener, call.id, 0), 0);
  EXPECT_EQ(guest.next(), "answer=0");
  EXPECT_EQ(guest.finish(), 0);
}

void ignore_signal(int) {}

TEST(core_primitives_notify, NotificationStopsBeingValidWhenTheGuestIsInterruptedOrKilled) {
  REQUIRE_ROOT_FOR_CORE();
  Guest guest(true, [](int channel) {
    struct sigaction action {};
    action.sa_handler = ignore_signal;  // no SA_RESTART: the waiting call fails with EINTR
    ::sigaction(SIGUSR1, &action, nullptr);
    errno = 0;
    const long result = ::syscall(SYS_getppid);
    child_send(channel, report("interrupted", result < 0 ? errno : 0));
    ::syscall(SYS_getppid);  // killed while waiting
    ::_exit(1);
  });
  ASSERT_TRUE(guest.ok());
  const int listener = guest.listener();

  core::Notification call;
  ASSERT_EQ(guest.notification(call), 0);
  EXPECT_EQ(core::notification_valid(listener, call.id), 0);
  ASSERT_EQ(::kill(guest.pid(), SIGUSR1), 0);
  int valid = 0;
  for (int i = 0; i < 5000 && (valid = core::notification_valid(listener, call.id)) == 0; ++i) ::usleep(1000);
  EXPECT_EQ(valid, -ENOENT);
  EXPECT_EQ(guest.next(), report("interrupted", EINTR));
  EXPECT_EQ(core::respond_value(listener, call.id, 0), -ENOENT);
  EXPECT_EQ(core::add_descriptor(listener, call.id, 0, -1, false, true), -ENOENT);

  core::Notification last;
  ASSERT_EQ(guest.notification(last), 0);
  EXPECT_EQ(core::notification_valid(listener, last.id), 0);
  ASSERT_EQ(::kill(guest.pid(), SIGKILL), 0);
  EXPECT_EQ(guest.finish(), -SIGKILL);
  EXPECT_EQ(core::notification_valid(listener, last.id), -ENOENT);
  EXPECT_EQ(core::add_descriptor(listener, last.id, 0, -1, false, false), -ENOENT);
}

// ---------------------------------------------------------------------------------------------------------
// guest_memory

TEST(core_primitives_memory, ReadsStringsAndWritesBuffersOfAStoppedGuest) {
  REQUIRE_ROOT_FOR_CORE();
  Guest guest(true, [](int channel) {
    const std::size_t page = page_size();
    // Three pages: a long string crossing the first boundary; the third unmapped.
    auto* pages = static_cast<char*>(::mmap(nullptr, 3 * page, PROT_READ | PROT_WRITE,
                                             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    if (pages == MAP_FAILED) ::_exit(81);
    ::munmap(pages + 2 * page, page);

    char path[] = "/litebox/core/path";  // 18 characters and the NUL
    ::openat(AT_FDCWD, path, O_RDONLY);
    // A string whose NUL is the last byte before the unmapped page.
    char* edge = pages + 2 * page - 5;
    std::memcpy(edge, "edge", 5);
    ::openat(AT_FDCWD, edge, O_RDONLY);
    // No NUL before the unmapped page.
    std::memset(pages + 2 * page - 4, 'x', 4);
    ::openat(AT_FDCWD, pages + 2 * page - 4, O_RDONLY);
    // 5000 bytes over a page boundary.
    std::memset(pages + page - 2500, 'a', 5000);
    pages[page + 2500] = '\0';
    ::openat(AT_FDCWD, pages + page - 2500, O_RDONLY);
    ::syscall(SYS_openat, AT_FDCWD, 0, O_RDONLY);
    char buffer[32] = "................";
    ::openat(AT_FDCWD, buffer, O_RDONLY);
    child_send(channel, std::string("buffer=") + buffer);
  });
  ASSERT_TRUE(guest.ok());
  const int listener = guest.listener();
  const pid_t pid = guest.pid();
  std::string text;
  // The core's own way: a /proc/<pid>/mem kept open, bound to this address space.
  const std::string mem_path = "/proc/" + std::to_string(pid) + "/mem";
  const int mem = ::open(mem_path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(mem, 0) << std::strerror(errno);

  core::Notification call;
  ASSERT_EQ(guest.notification(call), 0);
  ASSERT_EQ(call.nr, __NR_openat);
  EXPECT_EQ(static_cast<int>(call.args[0]), AT_FDCWD);
  EXPECT_EQ(core::read_guest_string(pid, call.args[1], PATH_MAX, text), 0);
  EXPECT_EQ(text, "/litebox/core/path");
  EXPECT_EQ(core::read_guest_string_at(mem, call.args[1], PATH_MAX, text), 0);
  EXPECT_EQ(text, "/litebox/core/path");
  EXPECT_EQ(core::read_guest_string_at(mem, call.args[1], 18, text), -ENAMETOOLONG);
  EXPECT_EQ(core::read_guest_string(pid, call.args[1], 19, text), 0);  // the NUL counts
  EXPECT_EQ(text, "/litebox/core/path");
  EXPECT_EQ(core::read_guest_string(pid, call.args[1], 18, text), -ENAMETOOLONG);
  EXPECT_EQ(core::read_guest_string(pid, call.args[1], 0, text), -ENAMETOOLONG);
  char raw[8] = {};
  EXPECT_EQ(core::read_guest(pid, call.args[1], raw, 8), 0);
  EXPECT_EQ(std::string(raw, 8), "/litebox");
  ASSERT_EQ(core::respond_error(listener, call.id, ENOENT), 0);

  ASSERT_EQ(guest.notification(call), 0);
  EXPECT_EQ(core::read_guest_string(pid, call.args[1], PATH_MAX, text), 0);
  EXPECT_EQ(text, "edge");
  EXPECT_EQ(core::read_guest_string(pid, call.args[1], 3, text), -ENAMETOOLONG);
  EXPECT_EQ(core::read_guest(pid, call.args[1], raw, 5), 0);
  EXPECT_EQ(core::read_guest(pid, call.args[1], raw, 6), -EFAULT);  // one byte into the unmapped page
  EXPECT_EQ(core::read_guest_string_at(mem, call.args[1], PATH_MAX, text), 0);
  EXPECT_EQ(text, "edge");
  EXPECT_EQ(core::read_guest_at(mem, call.args[1], raw, 5), 0);
  EXPECT_EQ(core::read_guest_at(mem, call.args[1], raw, 6), -EFAULT);
  ASSERT_EQ(core::respond_error(listener, call.id, ENOENT), 0);

  ASSERT_EQ(guest.notification(call), 0);
  EXPECT_EQ(core::read_guest_string(pid, call.args[1], PATH_MAX, text), -EFAULT);
  EXPECT_EQ(core::read_guest_string(pid, call.args[1], 4, text), -ENAMETOOLONG);  // `max` comes first
  EXPECT_EQ(core::read_guest_string_at(mem, call.args[1], PATH_MAX, text), -EFAULT);
  ASSERT_EQ(core::respond_error(listener, call.id, EFAULT), 0);

  ASSERT_EQ(guest.notification(call), 0);
  EXPECT_EQ(core::read_guest_string(pid, call.args[1], PATH_MAX, text), -ENAMETOOLONG);
  ASSERT_EQ(core::read_guest_string(pid, call.args[1], 8192, text), 0);
  EXPECT_EQ(text, std::string(5000, 'a'));
  ASSERT_EQ(core::read_guest_string_at(mem, call.args[1], 8192, text), 0);
  EXPECT_EQ(text, std::string(5000, 'a'));
  ASSERT_EQ(core::respond_error(listener, call.id, ENAMETOOLONG), 0);

  ASSERT_EQ(guest.notification(call), 0);
  EXPECT_EQ(call.args[1], 0U);
  EXPECT_EQ(core::read_guest_string(pid, call.args[1], PATH_MAX, text), -EFAULT);
  EXPECT_EQ(core::read_guest(pid, 0, raw, 1), -EFAULT);
  EXPECT_EQ(core::read_guest(pid, ~std::uint64_t{0} - 2, raw, 8), -EFAULT);  // wraps around
  ASSERT_EQ(core::respond_error(listener, call.id, EFAULT), 0);

  ASSERT_EQ(guest.notification(call), 0);
  static constexpr char kWritten[] = "written";
  ASSERT_EQ(core::write_guest(pid, call.args[1], kWritten, sizeof kWritten), 0);
  EXPECT_EQ(core::write_guest(pid, 0, kWritten, sizeof kWritten), -EFAULT);
  // The /proc/<pid>/mem fallback sees the same memory.
  char through_proc[8] = {};
  ASSERT_EQ(core::detail::proc_mem_read(pid, call.args[1], through_proc, sizeof through_proc), 0);
  EXPECT_STREQ(through_proc, "written");
  ASSERT_EQ(core::detail::proc_mem_write(pid, call.args[1], "WR", 2), 0);
  ASSERT_EQ(core::read_guest(pid, call.args[1], through_proc, sizeof through_proc), 0);
  EXPECT_STREQ(through_proc, "WRitten");
  ASSERT_EQ(core::detail::proc_mem_write(pid, call.args[1], kWritten, 2), 0);
  EXPECT_EQ(core::detail::proc_mem_read(pid, 0, through_proc, 1), -EFAULT);
  EXPECT_EQ(core::detail::proc_mem_write(pid, 0, kWritten, 1), -EFAULT);
  ASSERT_EQ(core::respond_error(listener, call.id, ENOENT), 0);
  EXPECT_EQ(guest.next(), "buffer=written");
  EXPECT_EQ(guest.finish(), 0);

  EXPECT_EQ(core::read_guest(pid, call.args[1], raw, 1), -ESRCH);
  EXPECT_EQ(core::detail::proc_mem_read(pid, call.args[1], raw, 1), -ESRCH);
  // The kept descriptor outlives the address space: it reads nothing, and says the guest is gone.
  EXPECT_EQ(core::read_guest_at(mem, call.args[1], raw, 1), -ESRCH);
  ::close(mem);
}

// ---------------------------------------------------------------------------------------------------------
// guest_table

TEST(core_primitives_table, ParsesFdinfoAndChildren) {
  core::GuestFdInfo info;
  ASSERT_EQ(core::parse_fdinfo("pos:\t0\nflags:\t02004002\nmnt_id:\t25\n", info), 0);
  EXPECT_TRUE(info.cloexec);
  EXPECT_EQ(info.flags, static_cast<std::uint32_t>(O_RDWR | O_NONBLOCK));
  ASSERT_EQ(core::parse_fdinfo("flags:\t01\n", info), 0);
  EXPECT_FALSE(info.cloexec);
  EXPECT_EQ(info.flags, static_cast<std::uint32_t>(O_WRONLY));
  for (std::string_view bad : {"", "pos:\t0\n", "flags:\t09\n", "flags:\t\n", "flags:\t1", "xflags:\t1\n",
                               "flags:\t77777777777777\n", "flags: 1\n"}) {
    EXPECT_EQ(core::parse_fdinfo(bad, info), -EIO) << bad;
  }
  EXPECT_EQ(core::parse_children("12 345 6789 "), (std::vector<pid_t>{12, 345, 6789}));
  EXPECT_EQ(core::parse_children("7\n"), (std::vector<pid_t>{7}));
  EXPECT_TRUE(core::parse_children("").empty());
  EXPECT_EQ(core::parse_children("0 -3 x 99999999999 4"), (std::vector<pid_t>{4}));
}

TEST(core_primitives_table, InspectsAndTakesAGuestsDescriptors) {
  REQUIRE_ROOT_FOR_CORE();
  Guest guest(false, [](int channel) {
    int ends[2];
    if (::pipe2(ends, O_NONBLOCK) != 0) ::_exit(82);
    ::fcntl(ends[1], F_SETFD, FD_CLOEXEC);
    child_send(channel, report("read", ends[0]));
    child_send(channel, report("write", ends[1]));
    child_receive(channel);  // we wrote into it
    char buffer[64];
    const ssize_t n = ::read(ends[0], buffer, sizeof buffer);
    child_send(channel, "got=" + std::string(buffer, n > 0 ? static_cast<std::size_t>(n) : 0U));
    child_receive(channel);
  });
  ASSERT_TRUE(guest.ok());
  const pid_t pid = guest.pid();
  const std::string read_report = guest.next();
  const std::string write_report = guest.next();
  ASSERT_TRUE(read_report.starts_with("read=") && write_report.starts_with("write=")) << read_report;
  const int read_end = std::stoi(read_report.substr(5));
  const int write_end = std::stoi(write_report.substr(6));

  EXPECT_TRUE(guest_has(pid, read_end));
  EXPECT_TRUE(guest_has(pid, write_end));
  EXPECT_TRUE(guest_has(pid, 0));
  EXPECT_FALSE(guest_has(pid, 999));
  
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  ASSERT_GE(pidfd, 0);
  const int ours = core::take_guest_fd(pidfd, write_end);
  ASSERT_GE(ours, 0);
  EXPECT_EQ(::fcntl(ours, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  EXPECT_EQ(core::same_guest_description(::getpid(), ours, pid, write_end), 1);
  EXPECT_EQ(core::same_guest_description(::getpid(), ours, pid, read_end), 0);
  EXPECT_EQ(core::same_guest_description(::getpid(), ours, pid, 999), -EBADF);
  EXPECT_EQ(core::take_guest_fd(pidfd, 999), -EBADF);
  ASSERT_EQ(::write(ours, "through", 7), 7);
  guest.command("go");
  EXPECT_EQ(guest.next(), "got=through");

  const std::vector<int> numbers = core::guest_fd_numbers(pid);
  EXPECT_TRUE(std::is_sorted(numbers.begin(), numbers.end()));
  for (const int expected : {0, 1, 2, read_end, write_end}) {
    EXPECT_NE(std::find(numbers.begin(), numbers.end(), expected), numbers.end()) << expected;
  }
  for (const int number : numbers) EXPECT_TRUE(guest_has(pid, number)) << number;

  core::GuestFdInfo info;
  ASSERT_EQ(core::guest_fd_info(pid, read_end, info), 0);
  EXPECT_EQ(info.flags & O_ACCMODE, static_cast<std::uint32_t>(O_RDONLY));
  EXPECT_NE(info.flags & O_NONBLOCK, 0U);
  EXPECT_FALSE(info.cloexec);
  ASSERT_EQ(core::guest_fd_info(pid, write_end, info), 0);
  EXPECT_EQ(info.flags & O_ACCMODE, static_cast<std::uint32_t>(O_WRONLY));
  EXPECT_TRUE(info.cloexec);
  EXPECT_EQ(info.flags & O_CLOEXEC, 0U);
  EXPECT_EQ(static_cast<int>(info.flags), ::fcntl(ours, F_GETFL));  // the same description: F_GETFL's view
  EXPECT_EQ(core::guest_fd_info(pid, 999, info), -ENOENT);

  const std::string target = core::descriptor_target(pid, read_end);
  EXPECT_TRUE(target.starts_with("pipe:[")) << target;
  EXPECT_EQ(core::descriptor_target(::getpid(), ours), target);  // both ends: one pipe inode
  EXPECT_EQ(core::descriptor_target(pid, 999), "");

  guest.command("done");
  EXPECT_EQ(guest.finish(), 0);
  EXPECT_TRUE(core::guest_fd_numbers(pid).empty());
  EXPECT_EQ(core::same_guest_description(::getpid(), ours, pid, 0), -ESRCH);
  EXPECT_TRUE(core::guest_fd_numbers(pid).empty());
  EXPECT_EQ(core::guest_fd_info(pid, 0, info), -ENOENT);
  ::close(ours);
  ::close(pidfd);
}

// ---------------------------------------------------------------------------------------------------------
// guest_credentials

TEST(core_primitives_credentials, ReadsAGuestThatSwitchedUser) {
  REQUIRE_ROOT_FOR_CORE();
  Guest guest(false, [](int channel) {
    const gid_t groups[] = {10, 20};
    if (::syscall(SYS_setgroups, 2, groups) != 0 || ::setresgid(1000, 1000, 1000) != 0 ||
        ::setresuid(1000, 1000, 1000) != 0) {
      ::_exit(83);
    }
    ::umask(027);
    child_send(channel, "ready");
    child_receive(channel);
  });
  ASSERT_TRUE(guest.ok());
  ASSERT_EQ(guest.next(), "ready");
  auto creds = core::read_guest_credentials(guest.pid());
  ASSERT_TRUE(creds.ok()) << creds.error().message;
  EXPECT_EQ(creds.value().tgid, guest.pid());
  EXPECT_EQ(creds.value().ppid, ::getpid());
  ASSERT_FALSE(creds.value().nspids.empty());
  EXPECT_EQ(creds.value().nspids.front(), guest.pid());
  ASSERT_FALSE(creds.value().nstgids.empty());
  EXPECT_EQ(creds.value().nstgids.front(), guest.pid());
  EXPECT_EQ(creds.value().fsuid, 1000U);
  EXPECT_EQ(creds.value().fsgid, 1000U);
  EXPECT_EQ(creds.value().groups, (std::vector<gid_t>{10, 20}));
  EXPECT_EQ(creds.value().effective_caps, 0U);  // dropped by setresuid away from 0
  EXPECT_EQ(creds.value().umask, 027U);
  EXPECT_FALSE(creds.value().own_user_namespace);

  auto self = core::read_guest_credentials(static_cast<pid_t>(::syscall(SYS_gettid)));
  ASSERT_TRUE(self.ok()) << self.error().message;
  EXPECT_EQ(self.value().effective_caps, thread_caps().effective);
  EXPECT_EQ(self.value().fsuid, 0U);

  guest.command("done");
  EXPECT_EQ(guest.finish(), 0);
  auto gone = core::read_guest_credentials(guest.pid());
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code, ESRCH);
}

TEST(core_primitives_credentials, SeesAGuestInItsOwnUserNamespace) {
  REQUIRE_ROOT_FOR_CORE();
  Guest guest(false, [](int channel) {
    child_send(channel, report("unshare", ::unshare(CLONE_NEWUSER) == 0 ? 0 : errno));
    child_receive(channel);
  });
  ASSERT_TRUE(guest.ok());
  const std::string unshared = guest.next();
  if (unshared != "unshare=0") GTEST_SKIP() << "no user namespaces here: " << unshared;
  auto creds = core::read_guest_credentials(guest.pid());
  ASSERT_TRUE(creds.ok()) << creds.error().message;
  EXPECT_TRUE(creds.value().own_user_namespace);
  const std::string dir_path = "/proc/" + std::to_string(guest.pid());
  const int dir = ::open(dir_path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(dir, 0);
  EXPECT_EQ(core::in_own_user_namespace(dir), 1);
  const int self = ::open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC);
  EXPECT_EQ(core::in_own_user_namespace(self), 0);
  ::close(self);
  guest.command("done");
  EXPECT_EQ(guest.finish(), 0);
  EXPECT_EQ(core::in_own_user_namespace(dir), -ESRCH);  // bound to the task, which is gone
  ::close(dir);
}

TEST(core_primitives_credentials, ParsesStatusTextAndRefusesGarbage) {
  const std::string good =
      "Name:\tsh\nUmask:\t0027\nState:\tS (sleeping)\nTgid:\t42\nNgid:\t0\nPid:\t43\nPPid:\t1\n"
      "TracerPid:\t0\nUid:\t1000\t1001\t1002\t1003\nGid:\t2000\t2001\t2002\t2003\nFDSize:\t64\n"
      "Groups:\t10 20 4294967294 \nNStgid:\t42\t7\nNSpid:\t43\t8\nCapInh:\t0000000000000000\n"
      "CapPrm:\t000001ffffffffff\nCapEff:\t000001ffffffffff\n";
  auto parsed = core::parse_guest_status(good);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  const core::GuestCredentials& creds = parsed.value();
  EXPECT_EQ(creds.tgid, 42);
  EXPECT_EQ(creds.ppid, 1);
  EXPECT_EQ(creds.nstgids, (std::vector<pid_t>{42, 7}));
  EXPECT_EQ(creds.nspids, (std::vector<pid_t>{43, 8}));
  EXPECT_EQ(creds.fsuid, 1003U);
  EXPECT_EQ(creds.fsgid, 2003U);
  EXPECT_EQ(creds.groups, (std::vector<gid_t>{10, 20, 4294967294U}));
  EXPECT_EQ(creds.effective_caps, 0x1ffffffffffULL);
  EXPECT_EQ(creds.umask, 027U);
  EXPECT_FALSE(creds.own_user_namespace);

  // Optional lines missing, empty groups, CRLF and no final newline.
  auto minimal = core::parse_guest_status("Tgid:\t5\r\nPPid:\t0\r\nUid:\t0 0 0 0\r\nGid:\t0 0 0 0\r\nGroups:\t\r\n"
                                          "junk without a colon\r\n\x01\x02:\xff\r\nCapEff:\t0");
  ASSERT_TRUE(minimal.ok()) << minimal.error().message;
  EXPECT_TRUE(minimal.value().nspids.empty());
  EXPECT_TRUE(minimal.value().nstgids.empty());
  EXPECT_TRUE(minimal.value().groups.empty());
  EXPECT_EQ(minimal.value().umask, 022U);
  EXPECT_EQ(minimal.value().effective_caps, 0U);

  const auto refused = [&](const std::string& from, const std::string& to, const std::string& field) {
    std::string text = good;
    const std::size_t at = text.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    text.replace(at, from.size(), to);
    auto result = core::parse_guest_status(text);
    ASSERT_FALSE(result.ok()) << "accepted " << to;
    EXPECT_EQ(result.error().code, EINVAL);
    EXPECT_NE(result.error().message.find("\"" + field + "\""), std::string::npos) << result.error().message;
  };
  refused("Uid:\t1000\t1001\t1002\t1003\n", "", "Uid");                                     // missing
  refused("Uid:\t1000\t1001\t1002\t1003", "Uid:\t1000\t1001\t1002", "Uid");                 // three ids
  refused("Uid:\t1000\t1001\t1002\t1003", "Uid:\t0\t0\t0\t99999999999999999999", "Uid");    // huge
  refused("Uid:\t1000\t1001\t1002\t1003", "Uid:\t0\t0\t0\t4294967296", "Uid");              // over uid_t
  refused("Uid:\t1000\t1001\t1002\t1003", "Uid:\t0\t0\t0\t-1", "Uid");
  refused("Gid:\t2000\t2001\t2002\t2003", "Gid:\t2000\t2001\t2002\t2003\t2004", "Gid");
  refused("Tgid:\t42", "Tgid:\t-5", "Tgid");
  refused("Tgid:\t42", "Tgid:\t99999999999", "Tgid");
  refused("Tgid:\t42\n", "", "Tgid");
  refused("PPid:\t1\n", "", "PPid");
  refused("CapEff:\t000001ffffffffff", "CapEff:\tzz", "CapEff");
  refused("CapEff:\t000001ffffffffff", "CapEff:\t1ffffffffffffffffff", "CapEff");  // over 64 bits
  refused("CapEff:\t000001ffffffffff\n", "", "CapEff");
  refused("Umask:\t0027", "Umask:\t0999", "Umask");
  refused("Umask:\t0027", "Umask:\t7777", "Umask");
  refused("Groups:\t10 20 4294967294 ", "Groups:\t10 x", "Groups");
  refused("Groups:\t10 20 4294967294 ", "Groups:\t10 99999999999999999999999", "Groups");
  refused("NSpid:\t43\t8", "NSpid:\t", "NSpid");
  refused("NSpid:\t43\t8", "NSpid:\t43\t0", "NSpid");
  refused("NStgid:\t42\t7", "NStgid:\t42\tseven", "NStgid");

  EXPECT_FALSE(core::parse_guest_status("").ok());
  EXPECT_FALSE(core::parse_guest_status(std::string(10000, ':')).ok());
  EXPECT_FALSE(core::parse_guest_status(std::string("\0\0\0Tgid:\t1\n", 11)).ok());
}

namespace {

// Opens `path` read-only: 0, or the errno.
int open_error(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  ::close(fd);
  return 0;
}

core::GuestCredentials user_1000() {
  core::GuestCredentials guest;
  guest.fsuid = 1000;
  guest.fsgid = 1000;
  guest.groups = {4242};
  guest.effective_caps = 0;
  guest.umask = 077;
  return guest;
}

}  // namespace

TEST(core_primitives_credentials, ActingAsSwitchesOnlyTheCallingThread) {
  REQUIRE_ROOT_FOR_CORE();
  TempDir dir;
  const std::string secret = dir.file("secret", "root only", 0600);
  ASSERT_EQ(open_error(secret), 0);
  const std::string main_status = "/proc/thread-self/status";
  const std::string main_uid = status_field(main_status, "Uid");
  const std::string main_groups = status_field(main_status, "Groups");
  const std::string main_caps = status_field(main_status, "CapEff");
  const std::string main_umask = status_field(main_status, "Umask");

  std::promise<pid_t> inside;
  std::promise<void> checked;
  std::thread worker([&] {
    auto prepared = core::prepare_worker_thread();
    ASSERT_TRUE(prepared.ok()) << prepared.error().message;
    const Caps caps_before = thread_caps();
    const std::vector<gid_t> groups_before = thread_groups();
    const mode_t umask_before = thread_umask();
    {
      core::ActingAs acting(user_1000());
      ASSERT_EQ(acting.error(), 0);
      EXPECT_EQ(open_error(secret), EACCES);
      EXPECT_EQ(thread_fsuid(), 1000U);
      EXPECT_EQ(thread_fsgid(), 1000U);
      EXPECT_EQ(thread_groups(), (std::vector<gid_t>{4242}));
      EXPECT_EQ(thread_caps().effective, 0U);
      EXPECT_EQ(thread_caps().permitted, caps_before.permitted);  // kept: we can come back
      const int made = ::open((dir.path() + "/made").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
      EXPECT_GE(made, 0) << std::strerror(errno);
      struct stat info {};
      EXPECT_EQ(::fstat(made, &info), 0);
      EXPECT_EQ(info.st_uid, 1000U);
      EXPECT_EQ(info.st_gid, 1000U);
      EXPECT_EQ(info.st_mode & 0777, 0600U);  // 0666 under the guest's umask 077
      ::close(made);
      inside.set_value(static_cast<pid_t>(::syscall(SYS_gettid)));
      checked.get_future().wait();
    }
    EXPECT_EQ(open_error(secret), 0);
    EXPECT_EQ(thread_fsuid(), 0U);
    EXPECT_EQ(thread_fsgid(), 0U);
    EXPECT_EQ(thread_groups(), groups_before);
    EXPECT_EQ(thread_caps().effective, caps_before.effective);
    EXPECT_EQ(thread_caps().permitted, caps_before.permitted);
    EXPECT_EQ(thread_caps().inheritable, caps_before.inheritable);
    EXPECT_EQ(thread_umask(), umask_before);
  });
  auto tid_future = inside.get_future();
  if (tid_future.wait_for(std::chrono::seconds(10)) == std::future_status::ready) {
    const pid_t tid = tid_future.get();
    // This thread keeps its identity while the worker acts as the guest.
    EXPECT_EQ(status_field(main_status, "Uid"), main_uid);
    EXPECT_EQ(status_field(main_status, "Groups"), main_groups);
    EXPECT_EQ(status_field(main_status, "CapEff"), main_caps);
    EXPECT_EQ(status_field(main_status, "Umask"), main_umask);
    EXPECT_EQ(open_error(secret), 0);
    // The worker, seen from outside as the core sees a guest thread.
    auto worker_creds = core::read_guest_credentials(tid);
    EXPECT_TRUE(worker_creds.ok());
    if (worker_creds.ok()) {
      EXPECT_EQ(worker_creds.value().tgid, ::getpid());
      EXPECT_EQ(worker_creds.value().fsuid, 1000U);
      EXPECT_EQ(worker_creds.value().fsgid, 1000U);
      EXPECT_EQ(worker_creds.value().groups, (std::vector<gid_t>{4242}));
      EXPECT_EQ(worker_creds.value().effective_caps, 0U);
      EXPECT_EQ(worker_creds.value().umask, 077U);
    }
    checked.set_value();
  } else {
    ADD_FAILURE() << "the worker never got inside";
    checked.set_value();
  }
  worker.join();
}

TEST(core_primitives_credentials, ActingAsKeepsTheGuestsCapabilitiesWithinOurs) {
  REQUIRE_ROOT_FOR_CORE();
  TempDir dir;
  // Someone else's: root gets in by CAP_DAC_OVERRIDE only, not as the owner.
  const std::string secret = dir.file("secret", "someone else's", 0600);
  ASSERT_EQ(::chown(secret.c_str(), 2000, 2000), 0);
  std::thread worker([&] {
    ASSERT_TRUE(core::prepare_worker_thread().ok());
    const Caps before = thread_caps();
    // A non-root guest with CAP_DAC_OVERRIDE: capset after setfsuid gives it back.
    core::GuestCredentials capable = user_1000();
    capable.effective_caps = ~std::uint64_t{0};
    {
      core::ActingAs acting(capable);
      ASSERT_EQ(acting.error(), 0);
      EXPECT_EQ(thread_caps().effective, before.permitted);  // within ours
      EXPECT_EQ(open_error(secret), 0);
    }
    // The same guest in its own user namespace: its capabilities mean nothing here.
    capable.own_user_namespace = true;
    {
      core::ActingAs acting(capable);
      ASSERT_EQ(acting.error(), 0);
      EXPECT_EQ(thread_caps().effective, 0U);
      EXPECT_EQ(open_error(secret), EACCES);
    }
    // A root guest in our namespace with no capabilities at all.
    core::GuestCredentials powerless;
    powerless.effective_caps = 0;
    {
      core::ActingAs acting(powerless);
      ASSERT_EQ(acting.error(), 0);
      EXPECT_EQ(thread_fsuid(), 0U);
      EXPECT_EQ(open_error(secret), EACCES);
    }
    EXPECT_EQ(thread_caps().effective, before.effective);
    EXPECT_EQ(open_error(secret), 0);
  });
  worker.join();
}

TEST(core_primitives_credentials, ActingAsUndoesTheFirstStepsWhenALaterOneFails) {
  REQUIRE_ROOT_FOR_CORE();
  std::thread worker([&] {
    ASSERT_TRUE(core::prepare_worker_thread().ok());
    const Caps before = thread_caps();
    const std::vector<gid_t> groups_before = thread_groups();
    const mode_t umask_before = thread_umask();
    // Without CAP_SETUID in effect, setgroups and setfsgid work and setfsuid(1000) does not.
    Caps limited = before;
    limited.effective &= ~(std::uint64_t{1} << CAP_SETUID);
    ASSERT_EQ(set_thread_caps(limited), 0);
    {
      core::ActingAs acting(user_1000());
      EXPECT_EQ(acting.error(), EPERM);
      // Already undone: the caller must not act, but nothing is left switched either.
      EXPECT_EQ(thread_fsuid(), 0U);
      EXPECT_EQ(thread_fsgid(), 0U);
      EXPECT_EQ(thread_groups(), groups_before);
      EXPECT_EQ(thread_caps().effective, limited.effective);
      EXPECT_EQ(thread_umask(), umask_before);
    }
    EXPECT_EQ(thread_fsgid(), 0U);
    EXPECT_EQ(thread_groups(), groups_before);
    EXPECT_EQ(thread_caps().effective, limited.effective);
    ASSERT_EQ(set_thread_caps(before), 0);
  });
  worker.join();
}
