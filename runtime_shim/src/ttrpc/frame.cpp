#include "ttrpc/frame.hpp"

#include <algorithm>
#include <utility>

namespace litebox::shim::ttrpc {

namespace {

void put_u32(char* out, std::uint32_t v) {
  out[0] = static_cast<char>((v >> 24) & 0xffu);
  out[1] = static_cast<char>((v >> 16) & 0xffu);
  out[2] = static_cast<char>((v >> 8) & 0xffu);
  out[3] = static_cast<char>(v & 0xffu);
}

std::uint32_t get_u32(const char* in) {
  const auto b = [in](int i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(in[i])); };
  return (b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3);
}

}  // namespace

void encode_header(const FrameHeader& header, char* out) {
  put_u32(out, header.length);
  put_u32(out + 4, header.stream_id);
  out[8] = static_cast<char>(header.type);
  out[9] = static_cast<char>(header.flags);
}

FrameHeader decode_header(const char* in) {
  FrameHeader h;
  h.length = get_u32(in);
  h.stream_id = get_u32(in + 4);
  h.type = static_cast<std::uint8_t>(in[8]);
  h.flags = static_cast<std::uint8_t>(in[9]);
  return h;
}

std::optional<std::string> encode_frame(std::uint32_t stream_id, MessageType type, std::uint8_t flags,
                                        std::string_view payload, std::uint32_t max_payload) {
  if (payload.size() > max_payload) return std::nullopt;
  std::string out(kHeaderSize + payload.size(), '\0');
  encode_header({static_cast<std::uint32_t>(payload.size()), stream_id, static_cast<std::uint8_t>(type), flags},
                out.data());
  std::copy(payload.begin(), payload.end(), out.begin() + static_cast<std::ptrdiff_t>(kHeaderSize));
  return out;
}

std::string oversize_message(std::uint64_t length, std::uint32_t max_payload) {
  return "message length " + std::to_string(length) + " exceed maximum message size of " +
         std::to_string(max_payload);
}

void FrameDecoder::feed(std::string_view bytes) {
  while (!bytes.empty()) {
    if (!in_body_) {
      const std::size_t n = std::min(kHeaderSize - header_have_, bytes.size());
      std::copy_n(bytes.data(), n, header_buf_ + header_have_);
      header_have_ += n;
      bytes.remove_prefix(n);
      if (header_have_ == kHeaderSize) start_body();
      continue;
    }
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, bytes.size()));
    if (current_.length <= max_payload_) payload_.append(bytes.data(), n);  // else: dropped
    remaining_ -= n;
    bytes.remove_prefix(n);
    if (remaining_ == 0) finish_frame();
  }
}

void FrameDecoder::start_body() {
  current_ = decode_header(header_buf_);
  header_have_ = 0;
  in_body_ = true;
  remaining_ = current_.length;
  payload_.clear();
  // Grow with the data actually received, never on the header's word alone.
  if (current_.length <= max_payload_) payload_.reserve(std::min<std::size_t>(current_.length, 64 * 1024));
  if (remaining_ == 0) finish_frame();
}

void FrameDecoder::finish_frame() {
  Frame f;
  f.header = current_;
  f.oversized = current_.length > max_payload_;
  if (!f.oversized) f.payload = std::move(payload_);
  payload_ = std::string();
  in_body_ = false;
  ready_.push_back(std::move(f));
}

std::optional<Frame> FrameDecoder::next() {
  if (ready_.empty()) return std::nullopt;
  Frame f = std::move(ready_.front());
  ready_.pop_front();
  return f;
}

std::optional<std::uint32_t> FrameDecoder::current_stream() const {
  if (!in_body_) return std::nullopt;
  return current_.stream_id;
}

std::string FrameDecoder::eof_error() const {
  if (in_body_) {
    return "truncated frame: stream " + std::to_string(current_.stream_id) + " payload " +
           std::to_string(current_.length - remaining_) + " of " + std::to_string(current_.length) + " bytes";
  }
  if (header_have_ > 0) return "truncated frame header: " + std::to_string(header_have_) + " of 10 bytes";
  return {};
}

}  // namespace litebox::shim::ttrpc
