// What the Linux and the Windows bootstraps share: the answers containerd reads from `start` and `delete`,
// and where the server sends its events.
#pragma once

#include <cstdint>
#include <string>

#include "shim_args.hpp"
#include "task/event_forwarder.hpp"

namespace litebox::shim {

// containerd 2.3+'s answer to a BootstrapParams on `start`: a serialized BootstrapResult.
std::string bootstrap_result(int version, const std::string& address, const std::string& protocol);
// Writes `delete`'s DeleteResponse (the status of a killed process, exited now) to stdout; the exit status.
int answer_delete(std::uint32_t pid);
// The event forwarder's settings from the shim's flags and TTRPC_ADDRESS (runtime_guard left unset).
EventForwarderConfig event_forwarder_config(const ShimArgs& args);

}  // namespace litebox::shim
