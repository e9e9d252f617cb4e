// Internal: byte I/O on the stream sockets ttrpc runs over (no SIGPIPE, EINTR retried).
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string_view>

namespace litebox::shim::ttrpc::detail {

enum class WriteResult { ok, failed, timed_out };

// Writes all of `data`. With a deadline, waits for buffer space only until then; `written` says how much went
// out (a partial frame leaves the stream unusable).
WriteResult write_all(int fd, std::string_view data, std::size_t& written,
                      std::optional<std::chrono::steady_clock::time_point> deadline = std::nullopt);

// Milliseconds until `deadline` for poll(2), rounded up, at least 0.
int poll_timeout_ms(std::chrono::steady_clock::time_point deadline);

}  // namespace litebox::shim::ttrpc::detail
