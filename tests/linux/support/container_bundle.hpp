// Bundles for the runtime's integration tests: a busybox root filesystem and a config.json like the one
// `runc spec` writes (namespaces, the standard mounts, masked and read-only paths, runc's default
// capabilities), which each test changes before writing. Also a way to run litebox-runtime and collect what
// it printed.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "oci/spec.hpp"

namespace litebox::testing {

// `runc spec`'s defaults, with `args` as the process and "rootfs" as the root.
oci::Spec default_spec(std::vector<std::string> args);

// A bundle directory: <dir>/rootfs (busybox) and <dir>/config.json written from a spec.
class Bundle {
 public:
  explicit Bundle(const std::string& tag);
  ~Bundle();
  Bundle(const Bundle&) = delete;
  Bundle& operator=(const Bundle&) = delete;

  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path rootfs() const { return dir_ / "rootfs"; }
  void write(const oci::Spec& spec) const;

 private:
  std::filesystem::path dir_;
};

struct CommandResult {
  int exit_code = -1;  // as a shell reports it (128 + signal)
  std::string out;
  std::string err;
};

// Runs a program with `args` (argv[0] included), feeding `input` to its stdin; waits at most `timeout_s`
// seconds, then kills it (exit_code -1 and a note in err).
CommandResult run_command(const std::vector<std::string>& args, const std::string& input = {}, int timeout_s = 60);

}  // namespace litebox::testing
