// ttrpc framing (github.com/containerd/ttrpc): a 10-byte big-endian header `u32 length | u32 stream_id |
// u8 type | u8 flags` followed by `length` bytes of payload (a protobuf Request or Response). Payloads over
// 4 MiB are not buffered: the decoder drops their bytes and reports the frame as oversized, so the server can
// answer that stream with RESOURCE_EXHAUSTED and keep the connection, as the Go implementation does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

namespace litebox::shim::ttrpc {

inline constexpr std::size_t kHeaderSize = 10;
inline constexpr std::uint32_t kMaxPayload = 4u << 20;  // 4,194,304

enum class MessageType : std::uint8_t { request = 1, response = 2, data = 3 };

struct FrameHeader {
  std::uint32_t length = 0;
  std::uint32_t stream_id = 0;
  std::uint8_t type = 0;
  std::uint8_t flags = 0;

  friend bool operator==(const FrameHeader&, const FrameHeader&) = default;
};

struct Frame {
  FrameHeader header;
  std::string payload;     // header.length bytes; empty when oversized
  bool oversized = false;  // header.length > the decoder's limit: the payload was read and dropped

  friend bool operator==(const Frame&, const Frame&) = default;
};

// Header bytes <-> fields (`out` / `in` point to kHeaderSize bytes).
void encode_header(const FrameHeader& header, char* out);
FrameHeader decode_header(const char* in);

// Header + payload. nullopt when the payload exceeds `max_payload` (the peer would refuse it).
std::optional<std::string> encode_frame(std::uint32_t stream_id, MessageType type, std::uint8_t flags,
                                        std::string_view payload, std::uint32_t max_payload = kMaxPayload);

// The message the Go implementation puts in its RESOURCE_EXHAUSTED status for an oversized frame.
std::string oversize_message(std::uint64_t length, std::uint32_t max_payload = kMaxPayload);

// Incremental decoder: feed any chunks of a byte stream, take complete frames out in order. Memory is
// bounded by one frame's payload (at most max_payload bytes) plus the frames not yet taken.
class FrameDecoder {
 public:
  explicit FrameDecoder(std::uint32_t max_payload = kMaxPayload) : max_payload_(max_payload) {}

  void feed(std::string_view bytes);
  // The next complete frame, nullopt when none is complete yet.
  std::optional<Frame> next();

  // True when a frame has been started but not finished: end of stream here means a truncated frame.
  bool mid_frame() const { return header_have_ > 0 || in_body_; }
  // The stream id of the frame in progress, once its header is complete.
  std::optional<std::uint32_t> current_stream() const;
  // An explanation for end-of-stream at this point: empty at a frame boundary, else what was cut off.
  std::string eof_error() const;

 private:
  void start_body();
  void finish_frame();

  std::uint32_t max_payload_;
  char header_buf_[kHeaderSize] = {};
  std::size_t header_have_ = 0;
  bool in_body_ = false;
  FrameHeader current_{};
  std::uint64_t remaining_ = 0;  // payload bytes still to come (stored or dropped)
  std::string payload_;
  std::deque<Frame> ready_;
};

}  // namespace litebox::shim::ttrpc
