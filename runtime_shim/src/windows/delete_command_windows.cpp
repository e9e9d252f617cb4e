// `delete` on Windows: containerd's clean-up when the shim is gone. The containers were job objects that
// ended with the shim (KILL_ON_JOB_CLOSE) and nothing was mounted, so what is left to do is to answer:
// stdout carries only the DeleteResponse, with the status of a killed process.
#include <chrono>
#include <csignal>
#include <cstdio>

#include "commands/commands.hpp"
#include "commands/shim_log.hpp"
#include "task.pb.h"
#include "task/timestamps.hpp"

namespace litebox::shim {

int delete_command(const ShimArgs& args) {
  log_to_stderr(args.log_level, args.debug);
  containerd::task::v3::DeleteResponse response;
  response.set_pid(0);
  response.set_exit_status(128 + 9);  // SIGKILL's status, as the Linux shims and our Windows host report it
  set_timestamp(*response.mutable_exited_at(), std::chrono::system_clock::now());
  std::string bytes;
  response.SerializeToString(&bytes);
  std::fwrite(bytes.data(), 1, bytes.size(), stdout);
  std::fflush(stdout);
  return 0;
}

}  // namespace litebox::shim
