// create, start, run, state, list, kill, delete.
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "args.hpp"
#include "cli.hpp"
#include "oci/version.hpp"

namespace litebox::cli {
namespace lh = linux_host;

namespace {

const std::vector<FlagSpec> kCreateFlags{
    {"bundle", "b", true, false},       {"console-socket", "", true, false}, {"pid-file", "", true, false},
    {"no-pivot", "", false, false},     {"no-new-keyring", "", false, false}, {"preserve-fds", "", true, false},
    {"detach", "d", false, false},      {"keep", "", false, false},
};


// The request runc's create and run flags describe. LISTEN_FDS (socket activation) passes those
// descriptors on too, as runc does.
std::optional<lh::CreateRequest> create_request(const ParsedArgs& parsed) {
  lh::CreateRequest request;
  request.id = parsed.positional.front();
  request.bundle = parsed.get("bundle", ".");
  request.no_pivot = parsed.has("no-pivot");
  int preserve = std::atoi(parsed.get("preserve-fds", "0").c_str());
  if (const char* listen = std::getenv("LISTEN_FDS"); listen != nullptr && *listen != '\0') {
    const int n = std::atoi(listen);
    if (n > 0) {
      preserve += n;
      request.extra_env = {"LISTEN_FDS=" + std::to_string(n), "LISTEN_PID=1"};
    }
  }
  if (preserve < 0) {
    fail("--preserve-fds must not be negative");
    return std::nullopt;
  }
  for (int fd = 3; fd < 3 + preserve; ++fd) request.io.preserved.push_back(fd);
  return request;
}

// After create: the pid file and the terminal (to the console socket, or kept for a foreground run).
bool finish_create(const ParsedArgs& parsed, lh::StartedProcess& started) {
  std::string error;
  if (parsed.has("pid-file") && !write_pid_file(parsed.get("pid-file"), started.pid, error)) {
    fail(error);
    return false;
  }
  if (started.console_master >= 0 && parsed.has("console-socket")) {
    const bool ok = send_console(parsed.get("console-socket"), started.console_master, error);
    ::close(started.console_master);
    started.console_master = -1;
    if (!ok) {
      fail(error);
      return false;
    }
  }
  return true;
}

std::optional<int> parse_signal(const std::string& text) {
  static const std::pair<const char*, int> names[] = {
      {"HUP", SIGHUP},   {"INT", SIGINT},     {"QUIT", SIGQUIT}, {"ILL", SIGILL},   {"TRAP", SIGTRAP},
      {"ABRT", SIGABRT}, {"BUS", SIGBUS},     {"FPE", SIGFPE},   {"KILL", SIGKILL}, {"USR1", SIGUSR1},
      {"SEGV", SIGSEGV}, {"USR2", SIGUSR2},   {"PIPE", SIGPIPE}, {"ALRM", SIGALRM}, {"TERM", SIGTERM},
      {"CHLD", SIGCHLD}, {"CONT", SIGCONT},   {"STOP", SIGSTOP}, {"TSTP", SIGTSTP}, {"TTIN", SIGTTIN},
      {"TTOU", SIGTTOU}, {"URG", SIGURG},     {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM},
      {"PROF", SIGPROF}, {"WINCH", SIGWINCH}, {"IO", SIGIO},     {"PWR", SIGPWR},   {"SYS", SIGSYS},
  };
  if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos) {
    const int n = std::atoi(text.c_str());
    if (n > 0 && n < NSIG) return n;
    return std::nullopt;
  }
  std::string name = text;
  for (auto& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (name.rfind("SIG", 0) == 0) name = name.substr(3);
  for (const auto& [n, sig] : names) {
    if (name == n) return sig;
  }
  return std::nullopt;
}

boost::json::object state_json(const lh::ContainerInfo& info) {
  boost::json::object annotations;
  for (const auto& [k, v] : info.record.annotations) annotations[k] = v;
  boost::json::object o{
      {"ociVersion", boost::json::string_view(oci::kOciVersion.data(), oci::kOciVersion.size())},
      {"id", info.record.id},
      {"pid", info.status == lh::ContainerStatus::stopped ? 0 : info.record.init_pid},
      {"status", std::string(lh::to_string(info.status))},
      {"bundle", info.record.bundle},
      {"rootfs", info.record.rootfs},
      {"created", info.record.created},
      {"owner", ""},
  };
  if (!annotations.empty()) o["annotations"] = std::move(annotations);
  return o;
}

}  // namespace

int cmd_create(lh::Runtime& runtime, const std::vector<std::string>& args) {
  auto parsed = parse_command(args, kCreateFlags, 1, "create [--bundle DIR] [--console-socket SOCK] [--pid-file F] ID");
  if (!parsed) return 1;
  auto request = create_request(*parsed);
  if (!request) return 1;
  auto started = runtime.create(*request);
  if (!started) return fail(started.error().message);
  if (started.value().console_master >= 0 && !parsed->has("console-socket")) {
    ::close(started.value().console_master);
    (void)runtime.remove(request->id, true);
    return fail("the container wants a terminal (process.terminal): create needs --console-socket");
  }
  return finish_create(*parsed, started.value()) ? 0 : 1;
}

int cmd_start(lh::Runtime& runtime, const std::vector<std::string>& args) {
  auto parsed = parse_command(args, {}, 1, "start ID");
  if (!parsed) return 1;
  auto st = runtime.start(parsed->positional.front());
  return st ? 0 : fail(st.error().message);
}

int cmd_run(lh::Runtime& runtime, const std::vector<std::string>& args) {
  auto parsed = parse_command(args, kCreateFlags, 1, "run [--bundle DIR] [--detach] ID");
  if (!parsed) return 1;
  auto request = create_request(*parsed);
  if (!request) return 1;
  const bool detach = parsed->has("detach");
  auto started = runtime.create(*request);
  if (!started) return fail(started.error().message);
  lh::StartedProcess process = started.value();
  if (process.console_master >= 0 && detach && !parsed->has("console-socket")) {
    ::close(process.console_master);
    (void)runtime.remove(request->id, true);
    return fail("a detached container with a terminal needs --console-socket");
  }
  if (!finish_create(*parsed, process)) {
    (void)runtime.remove(request->id, true);
    return 1;
  }
  if (auto st = runtime.start(request->id); !st) {
    (void)runtime.remove(request->id, true);
    return fail(st.error().message);
  }
  if (detach) return 0;
  const int code = wait_foreground(process.pid, process.console_master);
  if (process.console_master >= 0) ::close(process.console_master);
  // A SIGKILL is often the OOM killer's: say so, as the cgroup counted it.
  if (auto stats = runtime.stats(request->id); stats && stats.value().memory.oom_kill_count > 0) {
    spdlog::error("container {}: {} process(es) killed by the OOM killer (memory limit {} bytes)", request->id,
                  stats.value().memory.oom_kill_count, stats.value().memory.limit);
  }
  if (!parsed->has("keep")) {
    if (auto st = runtime.remove(request->id, true); !st) spdlog::warn("{}", st.error().message);
  }
  return code;
}

int cmd_state(lh::Runtime& runtime, const std::vector<std::string>& args) {
  auto parsed = parse_command(args, {}, 1, "state ID");
  if (!parsed) return 1;
  auto info = runtime.state(parsed->positional.front());
  if (!info) return fail(info.error().message);
  std::printf("%s\n", boost::json::serialize(state_json(info.value())).c_str());
  return 0;
}

int cmd_list(lh::Runtime& runtime, const std::vector<std::string>& args) {
  auto parsed = parse_command(args, {{"format", "f", true, false}, {"quiet", "q", false, false}}, 0, "list");
  if (!parsed) return 1;
  auto all = runtime.list();
  if (!all) return fail(all.error().message);
  if (parsed->get("format") == "json") {
    boost::json::array out;
    for (const auto& info : all.value()) out.push_back(state_json(info));
    std::printf("%s\n", boost::json::serialize(out).c_str());
    return 0;
  }
  if (!parsed->has("quiet")) std::printf("%-24s %-8s %-10s %-40s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED");
  for (const auto& info : all.value()) {
    if (parsed->has("quiet")) {
      std::printf("%s\n", info.record.id.c_str());
      continue;
    }
    std::printf("%-24s %-8d %-10s %-40s %s\n", info.record.id.c_str(),
                info.status == lh::ContainerStatus::stopped ? 0 : info.record.init_pid,
                std::string(lh::to_string(info.status)).c_str(), info.record.bundle.c_str(),
                info.record.created.c_str());
  }
  return 0;
}

int cmd_kill(lh::Runtime& runtime, const std::vector<std::string>& args) {
  auto parsed = parse_command(args, {{"all", "a", false, false}}, 1, "kill [--all] ID [SIGNAL]");
  if (!parsed) return 1;
  const std::string signal_text = parsed->positional.size() > 1 ? parsed->positional[1] : "SIGTERM";
  auto signal = parse_signal(signal_text);
  if (!signal) return fail("unknown signal \"" + signal_text + "\"");
  auto st = runtime.kill(parsed->positional.front(), *signal, parsed->has("all"));
  return st ? 0 : fail(st.error().message);
}

int cmd_delete(lh::Runtime& runtime, const std::vector<std::string>& args) {
  auto parsed = parse_command(args, {{"force", "f", false, false}}, 1, "delete [--force] ID...");
  if (!parsed) return 1;
  int code = 0;
  for (const auto& id : parsed->positional) {
    if (auto st = runtime.remove(id, parsed->has("force")); !st) code = fail(st.error().message);
  }
  return code;
}

}  // namespace litebox::cli
