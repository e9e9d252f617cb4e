// The reference count of an open file description, for memory that is reused and never freed under a reader.
//
// A description's memory outlives its life: once its last reference goes, it returns to its store's pool and
// may come back as another description (type-stable memory). A lock-free reader may therefore hold a pointer to
// a description that has just died, or has been reused. It must take a reference only if the count has not
// reached zero, so that a dead description is never revived. It must then check that the table still points to
// this description, which rules out a reused one. This is the kernel's scheme for `struct file`
// (include/linux/file_ref.h, after rcuref): the stored value is the number of references minus one.
//
//   0 .. INT64_MAX    alive: value + 1 references
//   -1                the last reference is being dropped; a get() may still revive it
//   kDead and above   dead (and free, in the pool): get() fails
//
// get() is a single fetch_add and needs no compare-and-swap loop. A get() that fails on a dead count leaves it
// one higher, still deep in the dead zone (2^62 failed gets away from wrapping). Nothing undoes that, and
// nothing needs to: making the description alive again overwrites the value.
#pragma once

#include <atomic>
#include <cstdint>

namespace fdcore {

class RefCount {
 public:
  static constexpr std::int64_t kOne = 0;
  static constexpr std::int64_t kNoRef = -1;
  static constexpr std::int64_t kDead = INT64_MIN / 2;

  // Starts a life with one reference. The release store pairs with get()'s acquire: whoever gets a reference
  // to the new life sees the description as its creator filled it in.
  void revive() noexcept { v_.store(kOne, std::memory_order_release); }

  // A new reference if the description is alive.
  bool try_get() noexcept { return v_.fetch_add(1, std::memory_order_acquire) >= kNoRef; }
  // Another reference, for a caller that already holds one.
  void get() noexcept { v_.fetch_add(1, std::memory_order_relaxed); }

  // Drops a reference; true when it was the last one and the caller must end the description's life.
  bool put() noexcept {
    const std::int64_t old = v_.fetch_sub(1, std::memory_order_release);
    if (old > kOne) return false;
    return old == kOne && finish();
  }
  // The same, for a caller that expects to hold the last reference (a table giving up a description): one
  // compare-and-swap straight from "one reference" to dead, instead of a decrement and then the swap. The load
  // before it is what put() avoids: after a locked instruction it waits for it, and Ref drops are rarely last.
  bool put_last() noexcept {
    std::int64_t v = v_.load(std::memory_order_relaxed);
    if (v == kOne &&
        v_.compare_exchange_strong(v, kDead, std::memory_order_acq_rel, std::memory_order_relaxed)) {
      return true;
    }
    return put();
  }

  bool dead() const noexcept { return v_.load(std::memory_order_acquire) < kNoRef; }
  // Approximate number of references (tests and introspection); 0 when dead.
  std::int64_t count() const noexcept {
    const std::int64_t v = v_.load(std::memory_order_relaxed);
    return v < kNoRef ? 0 : v + 1;
  }

 private:
  // The count went from one reference to none: it dies unless a get() revived it in between. The acquire half
  // makes every earlier holder's writes visible to whoever ends the life.
  bool finish() noexcept {
    std::int64_t expected = kNoRef;
    return v_.compare_exchange_strong(expected, kDead, std::memory_order_acq_rel, std::memory_order_relaxed);
  }

  std::atomic<std::int64_t> v_{kDead};
};

}  // namespace fdcore
