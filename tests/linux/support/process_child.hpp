// Helpers for tests that apply a process plan in a forked child, which reports what it sees ("key=value"
// lines: /proc/self/status fields, getresuid, ...) through a pipe.
#pragma once

#include <fcntl.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "litebox/linux/process_setup.hpp"

namespace litebox::testing {

namespace lh = litebox::linux_host;


// personality(2) values as plain numbers: the header's enums do not mix in C++20.
inline constexpr unsigned kPerLinux = PER_LINUX;
inline constexpr unsigned kPerLinux32 = PER_LINUX32;
inline constexpr unsigned kAddrCompatLayout = ADDR_COMPAT_LAYOUT;
inline constexpr unsigned kAddrNoRandomize = ADDR_NO_RANDOMIZE;

#define REQUIRE_ROOT()                                                                                   \
  do {                                                                                                   \
    if (geteuid() != 0) GTEST_SKIP() << "needs root (switches users, drops capabilities, loads seccomp)"; \
  } while (0)

struct ChildResult {
  int exit_code = -1;  // -1: killed by a signal
  std::map<std::string, std::string> report;
  std::string raw;
};

// Runs `body` in a forked child; it returns "key=value" lines, which come back through a pipe.
inline ChildResult run_in_child(const std::function<std::string()>& body) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return {};
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    std::string out = body();
    std::size_t done = 0;
    while (done < out.size()) {
      ssize_t n = write(fds[1], out.data() + done, out.size() - done);
      if (n <= 0) _exit(3);
      done += static_cast<std::size_t>(n);
    }
    _exit(0);
  }
  close(fds[1]);
  ChildResult result;
  char buffer[4096];
  for (ssize_t n; (n = read(fds[0], buffer, sizeof(buffer))) > 0;) {
    result.raw.append(buffer, static_cast<std::size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::istringstream lines(result.raw);
  for (std::string line; std::getline(lines, line);) {
    auto eq = line.find('=');
    if (eq != std::string::npos) result.report[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return result;
}

// A line of /proc/self/status ("CapEff"), value only.
// A field of a /proc status file, value only ("Uid" -> "0\t0\t0\t0"); "?" when it has none.
inline std::string status_field(const std::string& path, const std::string& name) {
  std::ifstream file(path);
  for (std::string line; std::getline(file, line);) {
    if (line.starts_with(name + ":")) {
      std::string value = line.substr(name.size() + 1);
      value.erase(0, value.find_first_not_of(" \t"));
      return value;
    }
  }
  return "?";
}

inline std::string status_field(const std::string& name) { return status_field("/proc/self/status", name); }

inline std::string kv(const std::string& key, const std::string& value) { return key + "=" + value + "\n"; }
inline std::string kv(const std::string& key, long value) { return kv(key, std::to_string(value)); }

// The child's view of its credentials and capabilities.
inline std::string credentials_report() {
  std::string out;
  for (const char* field : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp", "Umask"}) {
    out += kv(field, status_field(field));
  }
  uid_t ruid, euid, suid;
  gid_t rgid, egid, sgid;
  getresuid(&ruid, &euid, &suid);
  getresgid(&rgid, &egid, &sgid);
  out += kv("uids", std::to_string(ruid) + "," + std::to_string(euid) + "," + std::to_string(suid));
  out += kv("gids", std::to_string(rgid) + "," + std::to_string(egid) + "," + std::to_string(sgid));
  gid_t groups[64];
  int count = getgroups(64, groups);
  std::string list;
  for (int i = 0; i < count; ++i) list += (i ? "," : "") + std::to_string(groups[i]);
  out += kv("groups", list);
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  out += kv("nofile", std::to_string(limit.rlim_cur) + "/" + std::to_string(limit.rlim_max));
  return out;
}

inline std::string mask_hex(std::uint64_t mask) {
  char text[17];
  std::snprintf(text, sizeof(text), "%016llx", static_cast<unsigned long long>(mask));
  return text;
}

inline oci::Process base_process() {
  oci::Process process;
  process.args = {"sh"};
  process.cwd = "/";
  process.env = {"PATH=/usr/bin:/bin"};
  return process;
}

inline lh::ProcessSetupOptions test_options() {
  lh::ProcessSetupOptions options;
  options.fix_stdio_ownership = false;  // the child's stdio is the test runner's: leave its owner alone
  return options;
}

inline lh::ProcessPlan plan_or_fail(const oci::Process& process, const std::optional<oci::Seccomp>& seccomp = {},
                             const std::optional<oci::Personality>& personality = {}) {
  auto plan = lh::make_process_plan(process, seccomp, personality);
  EXPECT_TRUE(plan.ok()) << (plan.ok() ? "" : plan.error().message);
  return plan.ok() ? plan.value() : lh::ProcessPlan{};
}

inline std::string apply_and_report(const lh::ProcessPlan& plan, const std::function<std::string()>& extra = {}) {
  auto applied = lh::apply_process_plan(plan, test_options());
  if (!applied) return kv("error", applied.error().message);
  std::string out = kv("executable", applied.value().executable) + kv("listener", applied.value().seccomp_listener_fd);
  out += credentials_report();
  if (extra) out += extra();
  return out;
}

inline std::string errno_of(long rc) { return rc < 0 ? std::to_string(errno) : "ok"; }

}  // namespace litebox::testing
