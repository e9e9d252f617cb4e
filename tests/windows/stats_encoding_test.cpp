// The hand-written protobuf writer behind Stats.
#include <gtest/gtest.h>

#include "litebox/windows/stats_encoding.hpp"

namespace {

using namespace litebox::windows_host;

TEST(WindowsStatsEncoding, VarintsAreLittleEndianBase128) {
  std::string out;
  put_varint(out, 1);
  put_varint(out, 300);
  EXPECT_EQ(out, std::string("\x01\xac\x02", 3));
}

TEST(WindowsStatsEncoding, ZeroFieldsAreOmittedAndMessagesAreLengthDelimited) {
  std::string out;
  put_varint_field(out, 3, 0);
  EXPECT_TRUE(out.empty());
  put_bytes_field(out, 1, "ab");
  EXPECT_EQ(out, std::string("\x0a\x02" "ab", 4));
}

TEST(WindowsStatsEncoding, StatisticsWrapsWindowsContainerStatisticsInField1) {
  WindowsStatistics s;
  s.timestamp_unix_ns = 1'500'000'000;  // 1 s + 500000000 ns
  s.total_runtime_ns = 5;
  const std::string m = encode_statistics(s);
  ASSERT_GE(m.size(), 2u);
  EXPECT_EQ(m[0], '\x0a');  // field 1, length-delimited
  EXPECT_EQ(static_cast<std::size_t>(static_cast<unsigned char>(m[1])), m.size() - 2);
  // timestamp first: field 1 {seconds = 1, nanos = 500000000}
  EXPECT_EQ(m.substr(2, 2), std::string("\x0a\x08", 2));
  EXPECT_EQ(m.substr(4, 2), std::string("\x08\x01", 2));
}

}  // namespace
