// `start`: what containerd runs to get a shim. It must print only the address and exit, while the server
// it leaves behind keeps nothing of containerd's stdout/stderr pipe open.
#include <fcntl.h>
#include <limits.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "commands/bootstrap_common.hpp"
#include "commands/commands.hpp"
#include "commands/containerd_version.hpp"
#include "commands/shim_log.hpp"
#include "shim_config.hpp"
#include "shim_group.hpp"
#include "shim_socket.hpp"

namespace litebox::shim {
namespace {

constexpr std::size_t kMaxOptionsBytes = 1024 * 1024;
std::string read_stdin() {
  std::string data;
  char buffer[4096];
  while (data.size() < kMaxOptionsBytes) {
    const ssize_t n = ::read(0, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    data.append(buffer, static_cast<std::size_t>(n));
  }
  return data;
}

int fail(const std::string& message) {
  std::fprintf(stderr, "containerd-shim-litebox-v1 start: %s\n", message.c_str());
  return 1;
}

std::string self_executable() {
  char path[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1);
  if (n <= 0) return "/proc/self/exe";
  return std::string(path, static_cast<std::size_t>(n));
}

// The server: a new session (containerd's signals to its process group stay with containerd), fd 3 the
// listener, 0-2 on /dev/null until it opens the log FIFO.
pid_t spawn_server(const ShimArgs& args, const ShimConfig& config, const std::string& socket_path, int listener) {
  std::vector<std::string> words = {self_executable(), "-namespace", args.namespace_name, "-id", args.id,
                                    "-address", args.address, "-publish-binary", args.publish_binary,
                                    "-socket-path", socket_path, "-transport", config.transport,
                                    "-runtime-root", config.runtime_root, "-core", config.core ? "on" : "off",
                                    "-core-budget", std::to_string(config.core_descriptor_budget)};
  if (!config.log_level.empty()) {
    words.push_back("-log-level");
    words.push_back(config.log_level);
  }
  if (args.debug) words.push_back("-debug");
  words.push_back("serve");
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);

  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  ::setsid();
  const int devnull = ::open("/dev/null", O_RDWR);
  // Move the listener out of the way of 0-3 first.
  const int l = ::fcntl(listener, F_DUPFD, 10);
  if (devnull < 0 || l < 0) ::_exit(120);
  ::dup2(devnull, 0);
  ::dup2(devnull, 1);
  ::dup2(devnull, 2);
  ::dup2(l, 3);
  ::execv(argv[0], argv.data());
  ::_exit(127);
}

}  // namespace

int start_command(const ShimArgs& args) {
  const std::string input = read_stdin();
  if (args.id.empty()) return fail("-id is required");
  if (args.namespace_name.empty()) return fail("-namespace is required");
  auto start_input = parse_start_input(input);
  if (!start_input) return fail(start_input.error().message);
  const ShimConfig& config = start_input.value().config;

  char cwd[PATH_MAX];
  if (::getcwd(cwd, sizeof cwd) == nullptr) return fail("getcwd: " + std::string(std::strerror(errno)));
  const std::filesystem::path bundle = cwd;

  const std::string& socket_dir = start_input.value().socket_dir;
  const std::string path = shim_socket_path(args.address, args.namespace_name, shim_group_of(bundle, args.id),
                                            socket_dir.empty() ? kSocketDirectory : socket_dir);
  const std::string address = socket_address(path);
  const bool grpc = config.transport == "grpc";
  // ttrpc: "unix:///path" (without the scheme containerd would dial an abstract socket). gRPC: the bare path,
  // which containerd (1.7 and 2.x) dials as is and then prefixes with unix:// itself.
  const std::string printed_address = grpc ? path : address;
  // The JSON form's version for gRPC: 2 for containerd 1.7 (which refuses 3), 3 for 2.x (which requires it).
  const int grpc_json_version =
      grpc && !start_input.value().bootstrap_params && containerd_major_version(args.publish_binary) == 1 ? 2 : 3;
  // What `start` answers and the bundle's address file holds: containerd 1.7 re-reads the file after a restart
  // as it read the answer (JSON for gRPC); 2.x keeps its own bootstrap.json.
  const std::string answer =
      grpc ? "{\"version\":" + std::to_string(grpc_json_version) + ",\"address\":\"" + printed_address +
                 "\",\"protocol\":\"grpc\"}"
           : address;
  auto print_address = [&] {
    std::string out = answer;
    if (start_input.value().bootstrap_params) {
      out = bootstrap_result(grpc ? 3 : 2, printed_address, grpc ? "grpc" : "ttrpc");
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
  };
  // The runtime root the server uses, for `delete` (which gets no options) to find the container.
  {
    std::ofstream root_file(bundle / "litebox-runtime-root", std::ios::trunc);
    root_file << config.runtime_root;
  }

  if (std::filesystem::exists(path)) {
    if (socket_is_served(path)) {
      // Another container of the same group: its shim serves this one too.
      if (auto written = write_address_file(bundle, answer); !written) return fail(written.error().message);
      print_address();
      return 0;
    }
    ::unlink(path.c_str());  // left by a shim that died
  }

  // Both transports serve the listener bound here: mode 0600 from the start, and containerd can dial as soon
  // as the address is printed.
  auto bound = listen_on(path);
  if (!bound) return fail(bound.error().message);
  const pid_t server = spawn_server(args, config, path, bound.value());
  ::close(bound.value());
  if (server < 0) {
    ::unlink(path.c_str());
    return fail("fork: " + std::string(std::strerror(errno)));
  }
  if (auto written = write_address_file(bundle, answer); !written) {
    ::kill(server, SIGKILL);
    ::unlink(path.c_str());
    return fail(written.error().message);
  }
  print_address();
  return 0;
}

}  // namespace litebox::shim
