// containerd-shim-litebox-v1: containerd's task shim for the LiteBox runtime.
#include <cstdio>
#ifdef _WIN32
#include <fcntl.h>
#include <io.h>
#endif
#include <string>
#include <vector>

#include "commands/commands.hpp"
#include "shim_args.hpp"
#include "shim_version.hpp"

int main(int argc, char** argv) {
  using namespace litebox::shim;
#ifdef _WIN32
  // start, delete and -info answer containerd in protobuf on stdout: no CRLF translation of their bytes.
  _setmode(_fileno(stdout), _O_BINARY);
#endif
  std::vector<std::string> words(argv, argv + argc);
  auto parsed = parse_shim_args(words);
  if (!parsed.args) {
    std::fprintf(stderr, "%s: %s\n", kShimBinaryName, parsed.error.c_str());
    return 2;
  }
  const ShimArgs& args = *parsed.args;
  if (args.version) {
    std::printf("%s:\n  Version:  %s\n  Revision: %s\n\n", kShimBinaryName, shim_version(),
                shim_revision());
    return 0;
  }
  if (args.info) return info_command(args);
  if (args.action == "start") return start_command(args);
  if (args.action == "delete") return delete_command(args);
  if (args.action == "serve") return serve_command(args);
  std::fprintf(stderr,
               "usage: %s -namespace NS -address ADDR -publish-binary BIN -id ID [-debug] start|delete\n"
               "       %s -v | -info\n"
               "containerd starts this shim for the runtime %s; it is not meant to be run by hand.\n",
               kShimBinaryName, kShimBinaryName, kRuntimeName);
  return args.action.empty() ? 2 : 1;
}
