// litebox-runtime: a runc-compatible command line for the LiteBox Linux runtime.
#include <sys/prctl.h>

#include <cstdio>
#include <cstring>
#include <map>

#include "args.hpp"
#include "cli.hpp"
#include "log_setup.hpp"
#include "oci/version.hpp"

namespace {

constexpr const char* kUsage =
    "litebox-runtime: run OCI containers (runc-compatible command line)\n"
    "\n"
    "usage: litebox-runtime [global options] COMMAND [options] ARGS\n"
    "\n"
    "commands:\n"
    "  create    create a container from a bundle, parked before its program\n"
    "  start     run the program of a created container\n"
    "  run       create and start a container, wait for it, delete it\n"
    "  state     print a container's state as JSON\n"
    "  list      list containers\n"
    "  kill      send a signal to a container's init (or --all processes)\n"
    "  delete    delete a container\n"
    "  exec      run a new process in a running container\n"
    "  ps        list a container's processes\n"
    "  pause     freeze a container's processes\n"
    "  resume    thaw them\n"
    "  update    change a container's resource limits\n"
    "  features  print the runtime's features document\n"
    "\n"
    "global options:\n"
    "  --root DIR           state directory (default /run/litebox-runtime)\n"
    "  --log FILE           also log to FILE\n"
    "  --log-format FORMAT  text or json\n"
    "  --debug              log debug messages\n"
    "  --systemd-cgroup     accepted for compatibility: cgroupsPath in slice:prefix:name form is understood\n"
    "  --version, -v        print the version\n";

}  // namespace

int main(int argc, char** argv) {
  using namespace litebox::cli;
  std::vector<std::string> args(argv, argv + argc);
  const std::vector<FlagSpec> global_flags{
      {"root", "", true, false},       {"log", "", true, false},          {"log-format", "", true, false},
      {"debug", "", false, false},     {"systemd-cgroup", "", false, false}, {"rootless", "", true, false},
      {"criu", "", true, false},       {"version", "v", false, false},    {"help", "h", false, false},
  };
  std::string error;
  auto parsed = parse_args(args, 1, global_flags, /*stop_at_positional=*/true, error);
  if (!parsed) {
    std::fprintf(stderr, "litebox-runtime: %s\n", error.c_str());
    return 2;
  }
  if (parsed->has("version")) {
    std::printf("litebox-runtime version 0.1.0\nspec: %.*s\n", static_cast<int>(oci::kOciVersion.size()),
                oci::kOciVersion.data());
    return 0;
  }
  if (parsed->has("help") || parsed->positional.empty()) {
    std::fputs(kUsage, parsed->positional.empty() && !parsed->has("help") ? stderr : stdout);
    return parsed->has("help") ? 0 : 2;
  }
  GlobalOptions options;
  options.root = parsed->get("root", options.root);
  options.log_path = parsed->get("log");
  options.log_format = parsed->get("log-format", "text");
  options.debug = parsed->has("debug");
  if (!setup_logging(options, error)) {
    std::fprintf(stderr, "litebox-runtime: %s\n", error.c_str());
    return 2;
  }

  static const std::map<std::string, Command> commands{
      {"create", cmd_create}, {"start", cmd_start},   {"run", cmd_run},       {"state", cmd_state},
      {"list", cmd_list},     {"ls", cmd_list},       {"kill", cmd_kill},     {"delete", cmd_delete},
      {"rm", cmd_delete},     {"exec", cmd_exec},     {"ps", cmd_ps},         {"pause", cmd_pause},
      {"resume", cmd_resume}, {"update", cmd_update}, {"features", cmd_features},
  };
  const std::string& name = parsed->positional.front();
  auto it = commands.find(name);
  if (it == commands.end()) return fail("unknown command \"" + name + "\" (see litebox-runtime --help)");
  // The rest of argv after the command name, flags included.
  const std::vector<std::string> rest(args.begin() + static_cast<std::ptrdiff_t>(parsed->first_positional_index) + 1,
                                      args.end());
  // Containers' inits and exec'd processes are our children; anything orphaned below them is reaped here.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  litebox::linux_host::Runtime runtime({options.root});
  return it->second(runtime, rest);
}
