// ttrpc framing and envelopes against the bytes captured between containerd 1.6.20 and containerd-shim-runc-v2
// (docs: containerd-shim-protocol.md section 1), and the incremental decoder's edge cases.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "ttrpc.pb.h"
#include "ttrpc/codec.hpp"
#include "ttrpc/frame.hpp"

namespace tt = litebox::shim::ttrpc;
using litebox::shim::RpcStatus;
using litebox::shim::StatusCode;

namespace {

std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s.push_back(static_cast<char>(c));
  return s;
}

// 00 00 00 2f 00 00 00 03 01 00 | 0a 17 "containerd.task.v2.Task" 12 07 "Connect" 1a 0b 0a 09 "shimtest1"
std::string captured_request() {
  return bytes({0, 0, 0, 0x2f, 0, 0, 0, 3, 1, 0, 0x0a, 0x17}) + "containerd.task.v2.Task" + bytes({0x12, 0x07}) +
         "Connect" + bytes({0x1a, 0x0b, 0x0a, 0x09}) + "shimtest1";
}
// 00 00 00 2e 00 00 00 0b 02 00 | 0a 2c 08 05 12 28 "process does not exist nosuch: not found"
std::string captured_error_reply() {
  return bytes({0, 0, 0, 0x2e, 0, 0, 0, 0x0b, 2, 0, 0x0a, 0x2c, 0x08, 0x05, 0x12, 0x28}) +
         "process does not exist nosuch: not found";
}
std::string captured_empty_reply() { return bytes({0, 0, 0, 0, 0, 0, 0, 0x11, 2, 0}); }

std::vector<tt::Frame> decode_all(const std::string& in, std::size_t chunk, tt::FrameDecoder& d) {
  std::vector<tt::Frame> out;
  for (std::size_t i = 0; i < in.size(); i += chunk) {
    d.feed(std::string_view(in).substr(i, chunk));
    while (auto f = d.next()) out.push_back(std::move(*f));
  }
  return out;
}

}  // namespace

TEST(TtrpcFrame, CapturedRequestDecodesAndEncodesExactly) {
  const std::string wire = captured_request();
  ASSERT_EQ(wire.size(), 10u + 0x2f);
  for (std::size_t chunk : {std::size_t{1}, std::size_t{3}, std::size_t{10}, wire.size()}) {
    tt::FrameDecoder d;
    const auto frames = decode_all(wire, chunk, d);
    ASSERT_EQ(frames.size(), 1u) << "chunk " << chunk;
    EXPECT_FALSE(d.mid_frame());
    const tt::Frame& f = frames[0];
    EXPECT_EQ(f.header, (tt::FrameHeader{0x2f, 3, 1, 0}));
    EXPECT_FALSE(f.oversized);

    litebox::ttrpc::Request req;
    ASSERT_TRUE(req.ParseFromString(f.payload));
    EXPECT_EQ(req.service(), "containerd.task.v2.Task");
    EXPECT_EQ(req.method(), "Connect");
    EXPECT_EQ(req.payload(), bytes({0x0a, 0x09}) + "shimtest1");
    EXPECT_EQ(req.timeout_nano(), 0);
    EXPECT_EQ(req.metadata_size(), 0);

    const std::string body = tt::encode_request(req.service(), req.method(), req.payload(), 0, {});
    EXPECT_EQ(body, f.payload);
    EXPECT_EQ(tt::encode_frame(3, tt::MessageType::request, 0, body), wire);
  }
}

TEST(TtrpcFrame, CapturedErrorReplyEncodesExactly) {
  const std::string body =
      tt::encode_response(RpcStatus::error(StatusCode::not_found, "process does not exist nosuch: not found"), "");
  EXPECT_EQ(tt::encode_frame(0x0b, tt::MessageType::response, 0, body), captured_error_reply());
  // An error carries no payload even when the handler left one.
  EXPECT_EQ(tt::encode_response(RpcStatus::error(StatusCode::not_found, "process does not exist nosuch: not found"),
                                "ignored"),
            body);

  tt::FrameDecoder d;
  const auto frames = decode_all(captured_error_reply(), 7, d);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].header, (tt::FrameHeader{0x2e, 0x0b, 2, 0}));
  RpcStatus st;
  std::string payload = "x";
  ASSERT_TRUE(tt::decode_response(frames[0].payload, st, payload));
  EXPECT_EQ(st.code, StatusCode::not_found);
  EXPECT_EQ(st.message, "process does not exist nosuch: not found");
  EXPECT_TRUE(payload.empty());
}

TEST(TtrpcFrame, CapturedEmptyReplyEncodesExactly) {
  EXPECT_TRUE(tt::encode_response(RpcStatus::success(), "").empty());
  EXPECT_EQ(tt::encode_frame(0x11, tt::MessageType::response, 0, ""), captured_empty_reply());
  tt::FrameDecoder d;
  const auto frames = decode_all(captured_empty_reply(), 1, d);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].header, (tt::FrameHeader{0, 0x11, 2, 0}));
  RpcStatus st = RpcStatus::error(StatusCode::unknown, "x");
  std::string payload = "x";
  ASSERT_TRUE(tt::decode_response(frames[0].payload, st, payload));
  EXPECT_TRUE(st.ok());
  EXPECT_TRUE(payload.empty());
}

TEST(TtrpcFrame, HeaderRoundTripsAllFields) {
  const tt::FrameHeader h{0xdeadbeef, 0x01020304, 0xfe, 0x7f};
  char buf[tt::kHeaderSize];
  tt::encode_header(h, buf);
  EXPECT_EQ(std::string(buf, sizeof(buf)), bytes({0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 0xfe, 0x7f}));
  EXPECT_EQ(tt::decode_header(buf), h);
}

TEST(TtrpcFrame, SeveralFramesInOneChunk) {
  const std::string wire = captured_request() + captured_empty_reply() + captured_error_reply();
  tt::FrameDecoder d;
  const auto frames = decode_all(wire, wire.size(), d);
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0].header.stream_id, 3u);
  EXPECT_EQ(frames[1].header.stream_id, 0x11u);
  EXPECT_TRUE(frames[1].payload.empty());
  EXPECT_EQ(frames[2].header.stream_id, 0x0bu);
}

TEST(TtrpcFrame, MaximumPayloadIsAccepted) {
  const std::string payload(tt::kMaxPayload, 'a');
  const auto wire = tt::encode_frame(5, tt::MessageType::request, 0, payload);
  ASSERT_TRUE(wire.has_value());
  tt::FrameDecoder d;
  const auto frames = decode_all(*wire, 65536, d);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_FALSE(frames[0].oversized);
  EXPECT_EQ(frames[0].payload.size(), tt::kMaxPayload);
  EXPECT_FALSE(tt::encode_frame(5, tt::MessageType::request, 0, payload + "b").has_value());
}

TEST(TtrpcFrame, OversizedPayloadIsDroppedAndTheStreamContinues) {
  const std::uint32_t len = tt::kMaxPayload + 1;
  char hdr[tt::kHeaderSize];
  tt::encode_header({len, 7, 1, 0}, hdr);
  const std::string wire = std::string(hdr, sizeof(hdr)) + std::string(len, 'z') + captured_request();
  tt::FrameDecoder d;
  const auto frames = decode_all(wire, 100000, d);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_TRUE(frames[0].oversized);
  EXPECT_EQ(frames[0].header.stream_id, 7u);
  EXPECT_EQ(frames[0].header.length, len);
  EXPECT_TRUE(frames[0].payload.empty());
  EXPECT_FALSE(frames[1].oversized);
  EXPECT_EQ(frames[1].header.stream_id, 3u);
  EXPECT_EQ(tt::oversize_message(len), "message length 4194305 exceed maximum message size of 4194304");
}

TEST(TtrpcFrame, HugeDeclaredLengthDoesNotAllocate) {
  tt::FrameDecoder d;
  char hdr[tt::kHeaderSize];
  tt::encode_header({0xffffffffu, 9, 1, 0}, hdr);
  d.feed(std::string_view(hdr, sizeof(hdr)));
  d.feed(std::string(1 << 20, 'q'));
  EXPECT_FALSE(d.next().has_value());
  EXPECT_TRUE(d.mid_frame());
  EXPECT_EQ(d.current_stream(), 9u);
  EXPECT_NE(d.eof_error().find("truncated frame"), std::string::npos);
}

TEST(TtrpcFrame, TruncationIsReported) {
  tt::FrameDecoder d;
  EXPECT_FALSE(d.mid_frame());
  EXPECT_TRUE(d.eof_error().empty());
  d.feed(captured_request().substr(0, 4));
  EXPECT_TRUE(d.mid_frame());
  EXPECT_FALSE(d.current_stream().has_value());
  EXPECT_EQ(d.eof_error(), "truncated frame header: 4 of 10 bytes");
  d.feed(captured_request().substr(4, 10));
  EXPECT_EQ(d.current_stream(), 3u);
  EXPECT_FALSE(d.next().has_value());
  d.feed(captured_request().substr(14));
  EXPECT_TRUE(d.next().has_value());
  EXPECT_FALSE(d.mid_frame());
}

TEST(TtrpcFrame, RequestEnvelopeCarriesTimeoutAndMetadata) {
  const std::string body = tt::encode_request("containerd.services.events.ttrpc.v1.Events", "Forward", "abc",
                                              5'000'000'000, {{"containerd-namespace-ttrpc", "k8s.io"}});
  litebox::ttrpc::Request req;
  ASSERT_TRUE(req.ParseFromString(body));
  EXPECT_EQ(req.timeout_nano(), 5'000'000'000);
  ASSERT_EQ(req.metadata_size(), 1);
  EXPECT_EQ(req.metadata(0).key(), "containerd-namespace-ttrpc");
  EXPECT_EQ(req.metadata(0).value(), "k8s.io");
}

TEST(TtrpcFrame, MalformedResponseIsRejected) {
  RpcStatus st;
  std::string payload;
  EXPECT_FALSE(tt::decode_response(bytes({0x0a, 0x7f, 0x08}), st, payload));
  EXPECT_TRUE(tt::decode_response(bytes({0x12, 0x02, 'h', 'i'}), st, payload));
  EXPECT_TRUE(st.ok());
  EXPECT_EQ(payload, "hi");
}

// A status message quoting arbitrary bytes still makes a reply every peer can decode (proto3 strings must
// be UTF-8): invalid sequences become '?', valid multi-byte characters stay.
TEST(TtrpcFrame, StatusMessagesAreMadeValidUtf8) {
  const std::string message = std::string("bad \xe9 byte, caf\xc3\xa9, cut \xe2\x82", 25);
  const std::string bytes = litebox::shim::ttrpc::encode_response(RpcStatus::error(StatusCode::not_found, message), "");
  RpcStatus status;
  std::string payload;
  ASSERT_TRUE(litebox::shim::ttrpc::decode_response(bytes, status, payload));
  EXPECT_EQ(status.code, StatusCode::not_found);
  EXPECT_EQ(status.message, "bad ? byte, caf\xc3\xa9, cut ??");
}
