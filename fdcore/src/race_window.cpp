// Only in the FDCORE_RACE_WINDOWS build of fdcore (the stress tests): see race_window.hpp.
#include "fdcore/race_window.hpp"

#include <chrono>
#include <cstdint>
#include <thread>

namespace fdcore::testing {

void race_window() noexcept {
  thread_local std::uint64_t state = 0x9E3779B97F4A7C15ull ^ reinterpret_cast<std::uintptr_t>(&state);
  state ^= state << 13;  // xorshift64
  state ^= state >> 7;
  state ^= state << 17;
  if ((state & 15) == 0) std::this_thread::yield();  // another thread may run a whole call here
  if ((state & 0x3ff) == 1) std::this_thread::sleep_for(std::chrono::microseconds(20));
}

}  // namespace fdcore::testing
