// A host's error as the status of an RPC: one mapping for every call. The codes containerd's errdefs give
// a meaning to where the host's errno says so unambiguously; everything else is Unknown with the host's
// message, which names what failed.
#pragma once

#include <cerrno>

#include "litebox/platform/error.hpp"
#include "rpc/rpc_status.hpp"

namespace litebox::shim {

inline StatusCode status_code_for(int code) {
  switch (code) {
    case EINVAL: return StatusCode::invalid_argument;
    case ENOSYS: return StatusCode::unimplemented;
    case ESRCH: return StatusCode::not_found;
    default: return StatusCode::unknown;
  }
}

inline RpcStatus host_error(const platform::Error& error) {
  return RpcStatus::error(status_code_for(error.code), error.message);
}

}  // namespace litebox::shim
