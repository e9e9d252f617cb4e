// exec, ps, pause, resume, update, features.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "args.hpp"
#include "cli.hpp"
#include "oci/config.hpp"
#include "litebox/linux/features.hpp"
#include "oci/features.hpp"

namespace litebox::cli {
namespace lh = linux_host;

namespace {

// A file's text, or stdin's for "-".
std::optional<std::string> read_input(const std::string& path) {
  std::stringstream text;
  if (path == "-") {
    text << std::cin.rdbuf();
    return text.str();
  }
  std::ifstream in(path);
  if (!in) return std::nullopt;
  text << in.rdbuf();
  return text.str();
}

// "512m", "1g", "1048576": runc's units.RAMInBytes.
std::optional<std::int64_t> parse_bytes(const std::string& text) {
  if (text == "-1") return -1;
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || value < 0) return std::nullopt;
  std::string unit(end);
  for (auto& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!unit.empty() && unit.back() == 'b') unit.pop_back();
  if (!unit.empty() && unit.back() == 'i') unit.pop_back();
  double scale = 1;
  if (unit == "k") scale = 1024.0;
  else if (unit == "m") scale = 1024.0 * 1024;
  else if (unit == "g") scale = 1024.0 * 1024 * 1024;
  else if (unit == "t") scale = 1024.0 * 1024 * 1024 * 1024;
  else if (!unit.empty()) return std::nullopt;
  return static_cast<std::int64_t>(value * scale);
}

std::string process_command_line(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline");
  std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (auto& c : raw) {
    if (c == '\0') c = ' ';
  }
  while (!raw.empty() && raw.back() == ' ') raw.pop_back();
  return raw;
}

}  // namespace

int cmd_exec(lh::Runtime& runtime, const std::vector<std::string>& args) {
  const std::vector<FlagSpec> flags{
      {"console-socket", "", true, false}, {"cwd", "", true, false},          {"env", "e", true, true},
      {"tty", "t", false, false},          {"user", "u", true, false},        {"additional-gids", "g", true, true},
      {"process", "p", true, false},       {"detach", "d", false, false},     {"pid-file", "", true, false},
      {"process-label", "", true, false},  {"apparmor", "", true, false},     {"no-new-privs", "", false, false},
      {"cap", "c", true, true},            {"preserve-fds", "", true, false}, {"ignore-paused", "", false, false},
      {"cgroup", "", true, true},
  };
  auto parsed = parse_command(args, flags, 1, "exec [options] ID COMMAND [ARGS...] (or --process FILE)", true);
  if (!parsed) return 1;
  const std::string id = parsed->positional.front();
  auto config = runtime.saved_config(id);
  if (!config) return fail(config.error().message);

  lh::ExecRequest request;
  if (parsed->has("process")) {
    auto text = read_input(parsed->get("process"));
    if (!text) return fail("cannot read --process " + parsed->get("process"));
    auto process = oci::parse_process(*text);
    if (!process.ok()) return fail("--process " + parsed->get("process") + ": " + oci::format_diagnostics(process.errors));
    request.process = std::move(*process.value);
  } else {
    // runc's defaults: the container's own process, with the command and the flags' changes.
    request.process = config.value().process ? *config.value().process : oci::Process{};
    request.process.args.assign(parsed->positional.begin() + 1, parsed->positional.end());
    if (request.process.args.empty()) return fail("exec needs a command (or --process FILE)");
    request.process.terminal = parsed->has("tty");
    request.process.console_size.reset();
    for (const auto& e : parsed->all("env")) request.process.env.push_back(e);
    if (parsed->has("cwd")) request.process.cwd = parsed->get("cwd");
    if (parsed->has("user")) {
      const std::string user = parsed->get("user");
      const auto colon = user.find(':');
      request.process.user.uid = static_cast<std::uint32_t>(std::strtoul(user.substr(0, colon).c_str(), nullptr, 10));
      if (colon != std::string::npos) {
        request.process.user.gid = static_cast<std::uint32_t>(std::strtoul(user.substr(colon + 1).c_str(), nullptr, 10));
      }
    }
    for (const auto& g : parsed->all("additional-gids")) {
      request.process.user.additional_gids.push_back(static_cast<std::uint32_t>(std::strtoul(g.c_str(), nullptr, 10)));
    }
    if (parsed->has("no-new-privs")) request.process.no_new_privileges = true;
    if (!parsed->all("cap").empty()) {
      if (!request.process.capabilities) request.process.capabilities = oci::Capabilities{};
      for (const auto& cap : parsed->all("cap")) {
        for (auto* set : {&request.process.capabilities->bounding, &request.process.capabilities->effective,
                          &request.process.capabilities->permitted, &request.process.capabilities->ambient}) {
          set->push_back(cap);
        }
      }
    }
  }
  const int preserve = std::atoi(parsed->get("preserve-fds", "0").c_str());
  for (int fd = 3; fd < 3 + preserve; ++fd) request.io.preserved.push_back(fd);

  auto started = runtime.exec(id, request);
  if (!started) return fail(started.error().message);
  lh::StartedProcess process = started.value();
  std::string error;
  if (parsed->has("pid-file") && !write_pid_file(parsed->get("pid-file"), process.pid, error)) return fail(error);
  if (process.console_master >= 0 && parsed->has("console-socket")) {
    const bool ok = send_console(parsed->get("console-socket"), process.console_master, error);
    ::close(process.console_master);
    process.console_master = -1;
    if (!ok) return fail(error);
  }
  if (parsed->has("detach")) {
    if (process.console_master >= 0) ::close(process.console_master);
    return 0;
  }
  const int code = wait_foreground(process.pid, process.console_master);
  if (process.console_master >= 0) ::close(process.console_master);
  return code;
}

int cmd_ps(lh::Runtime& runtime, const std::vector<std::string>& args) {
  auto parsed = parse_command(args, {{"format", "f", true, false}}, 1, "ps [--format table|json] ID", true);
  if (!parsed) return 1;
  auto pids = runtime.pids(parsed->positional.front());
  if (!pids) return fail(pids.error().message);
  if (parsed->get("format", "table") == "json") {
    boost::json::array out;
    for (pid_t pid : pids.value()) out.push_back(pid);
    std::printf("%s\n", boost::json::serialize(out).c_str());
    return 0;
  }
  std::printf("%-8s %s\n", "PID", "CMD");
  for (pid_t pid : pids.value()) std::printf("%-8d %s\n", pid, process_command_line(pid).c_str());
  return 0;
}

int cmd_pause(lh::Runtime& runtime, const std::vector<std::string>& args) {
  auto parsed = parse_command(args, {}, 1, "pause ID");
  if (!parsed) return 1;
  auto st = runtime.pause(parsed->positional.front());
  return st ? 0 : fail(st.error().message);
}

int cmd_resume(lh::Runtime& runtime, const std::vector<std::string>& args) {
  auto parsed = parse_command(args, {}, 1, "resume ID");
  if (!parsed) return 1;
  auto st = runtime.resume(parsed->positional.front());
  return st ? 0 : fail(st.error().message);
}

int cmd_update(lh::Runtime& runtime, const std::vector<std::string>& args) {
  const std::vector<FlagSpec> flags{
      {"resources", "r", true, false},   {"memory", "m", true, false},      {"memory-reservation", "", true, false},
      {"memory-swap", "", true, false},  {"cpu-shares", "", true, false},   {"cpu-quota", "", true, false},
      {"cpu-period", "", true, false},   {"cpuset-cpus", "", true, false},  {"cpuset-mems", "", true, false},
      {"pids-limit", "", true, false},   {"blkio-weight", "", true, false}, {"kernel-memory", "", true, false},
  };
  auto parsed = parse_command(args, flags, 1, "update [--resources FILE|-] [--memory N ...] ID");
  if (!parsed) return 1;
  oci::LinuxResources resources;
  if (parsed->has("resources")) {
    auto text = read_input(parsed->get("resources"));
    if (!text) return fail("cannot read --resources " + parsed->get("resources"));
    auto parsed_resources = oci::parse_linux_resources(*text);
    if (!parsed_resources.ok()) return fail("--resources: " + oci::format_diagnostics(parsed_resources.errors));
    resources = std::move(*parsed_resources.value);
  }
  auto bytes_flag = [&](const char* name, std::optional<std::int64_t>& slot) -> bool {
    if (!parsed->has(name)) return true;
    auto v = parse_bytes(parsed->get(name));
    if (!v) {
      fail(std::string("invalid --") + name + " \"" + parsed->get(name) + "\"");
      return false;
    }
    slot = *v;
    return true;
  };
  if (parsed->has("memory") || parsed->has("memory-reservation") || parsed->has("memory-swap")) {
    if (!resources.memory) resources.memory = oci::MemoryResources{};
    if (!bytes_flag("memory", resources.memory->limit) ||
        !bytes_flag("memory-reservation", resources.memory->reservation) ||
        !bytes_flag("memory-swap", resources.memory->swap)) {
      return 1;
    }
  }
  if (parsed->has("cpu-shares") || parsed->has("cpu-quota") || parsed->has("cpu-period") ||
      parsed->has("cpuset-cpus") || parsed->has("cpuset-mems")) {
    if (!resources.cpu) resources.cpu = oci::CpuResources{};
    if (parsed->has("cpu-shares")) resources.cpu->shares = std::strtoull(parsed->get("cpu-shares").c_str(), nullptr, 10);
    if (parsed->has("cpu-quota")) resources.cpu->quota = std::strtoll(parsed->get("cpu-quota").c_str(), nullptr, 10);
    if (parsed->has("cpu-period")) resources.cpu->period = std::strtoull(parsed->get("cpu-period").c_str(), nullptr, 10);
    resources.cpu->cpus = parsed->get("cpuset-cpus", resources.cpu->cpus);
    resources.cpu->mems = parsed->get("cpuset-mems", resources.cpu->mems);
  }
  if (parsed->has("pids-limit")) {
    resources.pids = oci::PidsResources{std::strtoll(parsed->get("pids-limit").c_str(), nullptr, 10)};
  }
  if (parsed->has("blkio-weight")) {
    if (!resources.block_io) resources.block_io = oci::BlockIoResources{};
    resources.block_io->weight = static_cast<std::uint16_t>(std::strtoul(parsed->get("blkio-weight").c_str(), nullptr, 10));
  }
  auto st = runtime.update(parsed->positional.front(), resources);
  return st ? 0 : fail(st.error().message);
}

int cmd_features(lh::Runtime&, const std::vector<std::string>&) {
  std::printf("%s\n", oci::to_json(lh::runtime_features()).c_str());
  return 0;
}

}  // namespace litebox::cli
