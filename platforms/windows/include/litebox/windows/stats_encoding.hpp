// Stats for containerd, as containerd's Windows shim (hcsshim's containerd-shim-runhcs-v1) returns them: a
// containerd.runhcs.stats.v1.Statistics protobuf message. protobuf is not in the mingw build yet, so the
// message is written by hand (the wire format of the few fields used is small and fixed).
#pragma once

#include <cstdint>
#include <string>

namespace litebox::windows_host {

inline constexpr const char* kStatisticsTypeUrl = "type.googleapis.com/containerd.runhcs.stats.v1.Statistics";

struct WindowsStatistics {
  std::int64_t timestamp_unix_ns = 0;   // when sampled
  std::int64_t start_time_unix_ns = 0;  // when the container started (0: not started)
  std::uint64_t uptime_ns = 0;
  std::uint64_t total_runtime_ns = 0;
  std::uint64_t runtime_user_ns = 0;
  std::uint64_t runtime_kernel_ns = 0;
  std::uint64_t memory_commit_bytes = 0;
  std::uint64_t memory_commit_peak_bytes = 0;
  std::uint64_t memory_private_working_set_bytes = 0;
  std::uint64_t read_count = 0;
  std::uint64_t read_bytes = 0;
  std::uint64_t write_count = 0;
  std::uint64_t write_bytes = 0;
};

// Statistics{windows: WindowsContainerStatistics{...}} in protobuf's binary encoding.
std::string encode_statistics(const WindowsStatistics& stats);

// The protobuf primitives, exposed for the tests.
void put_varint(std::string& out, std::uint64_t v);
void put_varint_field(std::string& out, std::uint32_t field, std::uint64_t v);  // omitted when 0 (proto3)
void put_bytes_field(std::string& out, std::uint32_t field, const std::string& bytes);

}  // namespace litebox::windows_host
