// The status of a unary call, as gRPC and ttrpc carry it (google.rpc.Status: a code and a message).
// containerd maps the codes through errdefs: InvalidArgument, NotFound, AlreadyExists, FailedPrecondition,
// Unimplemented and Unavailable keep their meaning; everything else reads as Unknown.
#pragma once

#include <string>
#include <utility>

namespace litebox::shim {

enum class StatusCode : int {
  ok = 0,
  cancelled = 1,
  unknown = 2,
  invalid_argument = 3,
  deadline_exceeded = 4,
  not_found = 5,
  already_exists = 6,
  permission_denied = 7,
  resource_exhausted = 8,
  failed_precondition = 9,
  aborted = 10,
  out_of_range = 11,
  unimplemented = 12,
  internal = 13,
  unavailable = 14,
  data_loss = 15,
  unauthenticated = 16,
};

struct RpcStatus {
  StatusCode code = StatusCode::ok;
  std::string message;

  bool ok() const { return code == StatusCode::ok; }
  static RpcStatus success() { return {}; }
  static RpcStatus error(StatusCode c, std::string m) { return {c, std::move(m)}; }
};

}  // namespace litebox::shim
