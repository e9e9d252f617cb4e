#include "fdcore/writer_lock.hpp"

#include <chrono>
#include <thread>

namespace fdcore {
namespace {

// A hint to the CPU that this is a spin-wait loop (no OS header: the compilers' own builtins).
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

constexpr unsigned kSpins = 100;    // a writer holds the lock well under a microsecond
constexpr unsigned kYields = 200;   // then let a preempted holder run
constexpr auto kMaxSleep = std::chrono::microseconds(256);

}  // namespace

void WriterLock::lock_contended() noexcept {
  auto sleep = std::chrono::microseconds(1);
  for (unsigned attempt = 0;; ++attempt) {
    // Read before writing: waiters share the line instead of bouncing it between CPUs.
    if (!locked_.load(std::memory_order_relaxed) && !locked_.exchange(true, std::memory_order_acquire)) return;
    if (attempt < kSpins) {
      cpu_relax();
    } else if (attempt < kSpins + kYields) {
      std::this_thread::yield();
    } else {
      std::this_thread::sleep_for(sleep);
      if (sleep < kMaxSleep) sleep *= 2;
    }
  }
}

}  // namespace fdcore
