#include "busybox_rootfs.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <vector>

namespace litebox::testing {
namespace fs = std::filesystem;

bool have_busybox() { return ::access(kBusybox, X_OK) == 0; }

namespace {

// The applet names busybox itself reports, one per line.
std::vector<std::string> busybox_applets() {
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(pipefd[1], STDOUT_FILENO);
    ::execl(kBusybox, "busybox", "--list", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(pipefd[1]);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(pipefd[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
  ::close(pipefd[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) throw std::runtime_error("busybox --list failed");
  std::vector<std::string> applets;
  std::size_t start = 0;
  for (std::size_t nl; (nl = out.find('\n', start)) != std::string::npos; start = nl + 1) {
    if (nl > start) applets.push_back(out.substr(start, nl - start));
  }
  return applets;
}

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

}  // namespace

void make_busybox_rootfs(const fs::path& dir) {
  fs::remove_all(dir);
  for (const char* sub : {"bin", "sbin", "usr/bin", "usr/sbin", "etc", "proc", "sys", "dev", "tmp", "root", "home",
                          "var", "run"}) {
    fs::create_directories(dir / sub);
  }
  fs::permissions(dir / "tmp", fs::perms::all | fs::perms::sticky_bit);
  fs::copy_file(kBusybox, dir / "bin/busybox");
  for (const auto& applet : busybox_applets()) {
    if (applet == "busybox") continue;
    std::error_code ignored;
    fs::create_symlink("busybox", dir / "bin" / applet, ignored);
  }
  write_file(dir / "etc/passwd",
             "root:x:0:0:root:/root:/bin/sh\n"
             "daemon:x:1:1:daemon:/usr/sbin:/bin/false\n"
             "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n");
  write_file(dir / "etc/group", "root:x:0:\ndaemon:x:1:\nnogroup:x:65534:\n");
  write_file(dir / "etc/hostname", "busybox\n");
}

fs::path make_scratch_dir(const std::string& tag) {
  const char* base = std::getenv("LITEBOX_TEST_TMPDIR");
  fs::path root = base != nullptr && *base != '\0' ? fs::path(base) : fs::temp_directory_path();
  fs::create_directories(root);
  std::string templ = (root / (tag + "-XXXXXX")).string();
  if (::mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp " + templ + " failed");
  return templ;
}

}  // namespace litebox::testing
