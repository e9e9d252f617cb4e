#include "commands/bootstrap_common.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "options.pb.h"
#include "task.pb.h"
#include "task/timestamps.hpp"

namespace litebox::shim {

std::string bootstrap_result(int version, const std::string& address, const std::string& protocol) {
  options::BootstrapResult result;
  result.set_version(version);
  result.set_address(address);
  result.set_protocol(protocol);
  return result.SerializeAsString();
}

int answer_delete(std::uint32_t pid) {
  containerd::task::v3::DeleteResponse response;
  response.set_pid(pid);
  response.set_exit_status(128 + 9);  // SIGKILL's status: what is left of the container was killed
  set_timestamp(*response.mutable_exited_at(), std::chrono::system_clock::now());
  std::string bytes;
  response.SerializeToString(&bytes);
  std::fwrite(bytes.data(), 1, bytes.size(), stdout);
  std::fflush(stdout);
  return 0;
}

EventForwarderConfig event_forwarder_config(const ShimArgs& args) {
  EventForwarderConfig config;
  if (const char* ttrpc_address = std::getenv("TTRPC_ADDRESS")) config.ttrpc_address = ttrpc_address;
  config.namespace_name = args.namespace_name;
  config.publish_binary = args.publish_binary;
  config.containerd_address = args.address;
  return config;
}

}  // namespace litebox::shim
