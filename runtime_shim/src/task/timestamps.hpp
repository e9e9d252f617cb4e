// Times on the wire: google.protobuf.Timestamp, and Go's zero time for "has not exited" (what runc's shim
// reports, and what containerd's clients test for).
#pragma once

#include <chrono>
#include <cstdint>

#include "wire.pb.h"

namespace litebox::shim {

// 0001-01-01T00:00:00Z, Go's time.Time{}.
inline constexpr std::int64_t kGoZeroTimeSeconds = -62135596800;

// Not through a time_point: system_clock counts int64 nanoseconds, which cannot reach year 1.
inline void set_never(litebox::wire::Timestamp& out) {
  out.set_seconds(kGoZeroTimeSeconds);
  out.set_nanos(0);
}

inline void set_timestamp(litebox::wire::Timestamp& out, std::chrono::system_clock::time_point t) {
  const auto since_epoch = t.time_since_epoch();
  auto seconds = std::chrono::floor<std::chrono::seconds>(since_epoch);
  const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch - seconds);
  out.set_seconds(seconds.count());
  out.set_nanos(static_cast<std::int32_t>(nanos.count()));
}

}  // namespace litebox::shim
