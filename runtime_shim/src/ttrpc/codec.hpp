// The envelopes in a ttrpc frame's payload: Request (client to server) and Response (server to client), the
// wire-compatible protobuf-lite messages of proto/ttrpc.proto.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rpc/rpc_status.hpp"

namespace litebox::shim::ttrpc {

using Metadata = std::vector<std::pair<std::string, std::string>>;

// A Response payload. On success the status is omitted (an empty reply is a payload of 0 bytes); on error the
// reply payload is not sent, as the Go server does.
std::string encode_response(const RpcStatus& status, std::string_view payload);
// False when `bytes` is not a Response. A missing status (or code 0) is success.
bool decode_response(std::string_view bytes, RpcStatus& status, std::string& payload);

// A Request payload; timeout_nano 0 = no deadline.
std::string encode_request(std::string_view service, std::string_view method, std::string_view payload,
                           std::int64_t timeout_nano, const Metadata& metadata);

}  // namespace litebox::shim::ttrpc
