#include "ttrpc/codec.hpp"

#include "ttrpc.pb.h"

namespace litebox::shim::ttrpc {

std::string encode_response(const RpcStatus& status, std::string_view payload) {
  litebox::ttrpc::Response resp;
  if (!status.ok()) {
    auto* st = resp.mutable_status();
    st->set_code(static_cast<std::int32_t>(status.code));
    st->set_message(status.message);
  } else if (!payload.empty()) {
    resp.set_payload(std::string(payload));
  }
  std::string out;
  resp.SerializeToString(&out);
  return out;
}

bool decode_response(std::string_view bytes, RpcStatus& status, std::string& payload) {
  litebox::ttrpc::Response resp;
  if (!resp.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return false;
  if (resp.has_status() && resp.status().code() != 0) {
    status = RpcStatus::error(static_cast<StatusCode>(resp.status().code()), resp.status().message());
    payload.clear();
  } else {
    status = RpcStatus::success();
    payload = std::move(*resp.mutable_payload());
  }
  return true;
}

std::string encode_request(std::string_view service, std::string_view method, std::string_view payload,
                           std::int64_t timeout_nano, const Metadata& metadata) {
  litebox::ttrpc::Request req;
  req.set_service(std::string(service));
  req.set_method(std::string(method));
  req.set_payload(std::string(payload));
  req.set_timeout_nano(timeout_nano);
  for (const auto& [k, v] : metadata) {
    auto* kv = req.add_metadata();
    kv->set_key(k);
    kv->set_value(v);
  }
  std::string out;
  req.SerializeToString(&out);
  return out;
}

}  // namespace litebox::shim::ttrpc
