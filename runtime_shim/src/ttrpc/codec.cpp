#include "ttrpc/codec.hpp"

#include <cstdint>

#include "ttrpc.pb.h"

namespace litebox::shim::ttrpc {

namespace {

// The status message is a proto3 string: a peer (Go's decoder, ours) refuses the whole reply when it is not
// UTF-8, and messages may quote bytes from a request or a file name. Invalid sequences become '?'.
std::string valid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t length = 0;
    std::uint32_t min = 0;
    if (c < 0x80) {
      length = 1;
    } else if ((c & 0xE0) == 0xC0) {
      length = 2;
      min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      length = 3;
      min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      length = 4;
      min = 0x10000;
    }
    bool ok = length != 0 && i + length <= text.size();
    std::uint32_t code = length == 1 ? c : (c & (0x7Fu >> length));
    for (std::size_t k = 1; ok && k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      ok = (next & 0xC0) == 0x80;
      code = (code << 6) | (next & 0x3Fu);
    }
    ok = ok && (length == 1 || (code >= min && code <= 0x10FFFF && (code < 0xD800 || code > 0xDFFF)));
    if (ok) {
      out.append(text.substr(i, length));
      i += length;
    } else {
      out += '?';
      ++i;
    }
  }
  return out;
}

}  // namespace

std::string encode_response(const RpcStatus& status, std::string_view payload) {
  litebox::ttrpc::Response resp;
  if (!status.ok()) {
    auto* st = resp.mutable_status();
    st->set_code(static_cast<std::int32_t>(status.code));
    st->set_message(valid_utf8(status.message));
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
