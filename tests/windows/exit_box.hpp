// An exit callback for the platform tests that a test can wait on.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>

#include "litebox/platform/host.hpp"

namespace litebox_test {

struct ExitBox {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<std::uint32_t> status;
  litebox::platform::ExitCallback callback() {
    return [this](std::uint32_t s) {
      std::lock_guard lock(mu);
      status = s;
      cv.notify_all();
    };
  }
  std::optional<std::uint32_t> wait(int ms = 20000) {
    std::unique_lock lock(mu);
    cv.wait_for(lock, std::chrono::milliseconds(ms), [&] { return status.has_value(); });
    return status;
  }
};

}  // namespace litebox_test
