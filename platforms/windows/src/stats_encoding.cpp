// The field numbers are hcsshim's cmd/containerd-shim-runhcs-v1/stats/stats.proto (package
// containerd.runhcs.stats.v1; microsoft/hcsshim, the version that carries WindowsContainerStatistics' fields —
// the repository's older revision 1e4afe9 still has an empty WindowsContainerStatistics):
//   Statistics                          { oneof container { WindowsContainerStatistics windows = 1; ... linux = 2; }
//                                         VirtualMachineStatistics vm = 3; }
//   WindowsContainerStatistics          { google.protobuf.Timestamp timestamp = 1; Timestamp container_start_time = 2;
//                                         uint64 uptime_ns = 3; WindowsContainerProcessorStatistics processor = 4;
//                                         WindowsContainerMemoryStatistics memory = 5;
//                                         WindowsContainerStorageStatistics storage = 6; }
//   WindowsContainerProcessorStatistics { uint64 total_runtime_ns = 1; runtime_user_ns = 2; runtime_kernel_ns = 3; }
//   WindowsContainerMemoryStatistics    { uint64 memory_usage_commit_bytes = 1; memory_usage_commit_peak_bytes = 2;
//                                         memory_usage_private_working_set_bytes = 3; }
//   WindowsContainerStorageStatistics   { uint64 read_count_normalized = 1; read_size_bytes = 2;
//                                         write_count_normalized = 3; write_size_bytes = 4; }
//   google.protobuf.Timestamp           { int64 seconds = 1; int32 nanos = 2; }
// Fields 1-5 of WindowsContainerStatistics were checked against the proto text found in the search corpus;
// the numbers of the nested messages and of storage = 6 follow hcsshim's proto as its Go code uses them.
#include "litebox/windows/stats_encoding.hpp"

namespace litebox::windows_host {
namespace {

constexpr std::uint32_t kVarint = 0;
constexpr std::uint32_t kLengthDelimited = 2;

void put_tag(std::string& out, std::uint32_t field, std::uint32_t wire_type) {
  put_varint(out, (static_cast<std::uint64_t>(field) << 3) | wire_type);
}

std::string timestamp(std::int64_t unix_ns) {
  std::string m;
  std::int64_t seconds = unix_ns / 1000000000;
  std::int64_t nanos = unix_ns % 1000000000;
  if (nanos < 0) {  // Timestamp's nanos are never negative
    nanos += 1000000000;
    --seconds;
  }
  // int64/int32 are varints of their two's complement (a negative one takes ten bytes).
  put_varint_field(m, 1, static_cast<std::uint64_t>(seconds));
  put_varint_field(m, 2, static_cast<std::uint64_t>(nanos));
  return m;
}

}  // namespace

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void put_varint_field(std::string& out, std::uint32_t field, std::uint64_t v) {
  if (v == 0) return;
  put_tag(out, field, kVarint);
  put_varint(out, v);
}

void put_bytes_field(std::string& out, std::uint32_t field, const std::string& bytes) {
  put_tag(out, field, kLengthDelimited);
  put_varint(out, bytes.size());
  out += bytes;
}

std::string encode_statistics(const WindowsStatistics& s) {
  std::string processor;
  put_varint_field(processor, 1, s.total_runtime_ns);
  put_varint_field(processor, 2, s.runtime_user_ns);
  put_varint_field(processor, 3, s.runtime_kernel_ns);
  std::string memory;
  put_varint_field(memory, 1, s.memory_commit_bytes);
  put_varint_field(memory, 2, s.memory_commit_peak_bytes);
  put_varint_field(memory, 3, s.memory_private_working_set_bytes);
  std::string storage;
  put_varint_field(storage, 1, s.read_count);
  put_varint_field(storage, 2, s.read_bytes);
  put_varint_field(storage, 3, s.write_count);
  put_varint_field(storage, 4, s.write_bytes);

  std::string windows;
  put_bytes_field(windows, 1, timestamp(s.timestamp_unix_ns));
  if (s.start_time_unix_ns != 0) put_bytes_field(windows, 2, timestamp(s.start_time_unix_ns));
  put_varint_field(windows, 3, s.uptime_ns);
  put_bytes_field(windows, 4, processor);
  put_bytes_field(windows, 5, memory);
  put_bytes_field(windows, 6, storage);

  std::string statistics;
  put_bytes_field(statistics, 1, windows);
  return statistics;
}

}  // namespace litebox::windows_host
