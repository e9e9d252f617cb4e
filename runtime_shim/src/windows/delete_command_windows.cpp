// `delete` on Windows: containerd's clean-up when the shim is gone. The containers were job objects that
// ended with the shim (KILL_ON_JOB_CLOSE) and nothing was mounted, so what is left to do is to answer:
// stdout carries only the DeleteResponse, with the status of a killed process.
#include "commands/bootstrap_common.hpp"
#include "commands/commands.hpp"
#include "commands/shim_log.hpp"

namespace litebox::shim {

int delete_command(const ShimArgs& args) {
  log_to_stderr(args.log_level, args.debug);
  return answer_delete(0);
}

}  // namespace litebox::shim
