// The lock that serializes a table's writers (and a raw store's registrations). Readers never take it.
//
// Why our own: a writer call must cost about two atomic read-modify-writes in all, and this lock costs one. It
// takes the lock with one exchange and gives it back with a plain release store. Any lock whose unlock must wake
// sleepers (std::mutex, a futex lock on std::atomic::wait/notify) needs a second RMW at unlock to see whether
// anyone sleeps, and that RMW alone would use half of what dup+close may cost. Writers hold this lock for tens
// of nanoseconds and never make a host call under it (release hooks run after unlocking). So a waiter spins
// briefly, then yields the CPU (a preempted holder gets it back), then sleeps for short, growing intervals.
// It never sleeps waiting for a wake-up, so no wake-up can be lost.
#pragma once

#include <atomic>

namespace fdcore {

class WriterLock {
 public:
  WriterLock() = default;
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;

  void lock() noexcept {
    if (!locked_.exchange(true, std::memory_order_acquire)) return;
    lock_contended();
  }
  bool try_lock() noexcept {
    return !locked_.load(std::memory_order_relaxed) && !locked_.exchange(true, std::memory_order_acquire);
  }
  void unlock() noexcept { locked_.store(false, std::memory_order_release); }

 private:
  void lock_contended() noexcept;

  std::atomic<bool> locked_{false};
};

}  // namespace fdcore
