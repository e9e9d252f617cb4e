// Lock-free reads of one table slot: raw(), get(), view(), is_open, F_GETFD and F_GETFL. Also the two setters
// that need no writer lock, F_SETFD and F_SETFL.
//
// A slot is one atomic word: the description's address, with FD_CLOEXEC in bit 0. Writers change the address
// only under the table's lock and with single stores, so dup2 replaces a description with no moment of
// "closed". F_SETFD changes bit 0 with a compare-and-swap, so it linearizes against a close or dup2 of the same
// number, and writers that test the bit before acting (execve) use compare-and-swap too.
//
// Why a reader may dereference the address without a lock or a count: descriptions live in their store's pool
// (raw_store.hpp), which outlives every table pointing into it. The memory is always a description. But by the
// time the reader looks, it may be a later life of it, reused at another number. Two checks rule that out:
// reload the slot after reading the fields and require the same address, and require the same generation (the
// high half of the state word, bumped by each reuse) before and after. The ordering argument:
//   - A reuse starts only after the old life ended, which is after every slot stopped pointing to it: the
//     clear is sequenced before the closer's release decrement, whose acquire by the last putter leads
//     (through the store's lock) to the reuse.
//   - The reuse stores the new fields, then the new generation, all with release.
//   - A reader that loaded a new field or the new generation (acquire) therefore cannot reload a slot value
//     older than that clear. If the reload still shows the address, the store it read was made in a life at
//     or after the one whose generation the reader saw first. The second generation load comes later in the
//     reader's program order, so it sees at least that life's generation.
// So same address and same generation mean that every field read belongs to the life the slot held at the
// reload: the value is one the number really held, at that moment. Everything is acquire/release, which is
// plain moves on x86: no fence and no read-modify-write.
//
// get() must return an owning reference, and takes it the kernel's way (__get_file_rcu): increment unless dead
// (RefCount::try_get), then recheck the slot. The reference pins the life, so the address check alone
// suffices. On a mismatch it drops the reference and retries.
#pragma once

#include <atomic>
#include <cstdint>

#include "fdcore/errno.hpp"
#include "fdcore/linux_abi.hpp"
#include "fdcore/open_file.hpp"
#include "fdcore/race_window.hpp"

namespace fdcore {

// A validated snapshot of one descriptor, read without a lock or a reference: for callers that need the raw
// value and the description's properties now, not a reference to keep.
template <typename Handle>
struct DescriptorView {
  DescriptorKind kind;
  Handle raw;  // no_raw<Handle> when !has_raw
  bool has_raw;
  bool cloexec;
  std::uint32_t status_flags;
  ObjectIdentity identity;
};

template <typename Handle>
struct Lookup {
  using Description = OpenFileDescription<Handle>;
  using Word = std::uintptr_t;
  using Slot = std::atomic<Word>;
  static constexpr Word kCloexec = 1;
  static_assert(alignof(Description) > kCloexec, "bit 0 of a description's address must be free");

  static Description* description(Word w) noexcept { return reinterpret_cast<Description*>(w & ~kCloexec); }
  static Word word(const Description* d, bool cloexec) noexcept {
    return reinterpret_cast<Word>(d) | (cloexec ? kCloexec : Word{0});
  }

  // Every call takes the slot of the number (null: no page there, so nothing is open).
  static bool is_open(const Slot* slot) noexcept {
    return slot != nullptr && description(slot->load(std::memory_order_acquire)) != nullptr;
  }

  // F_GETFD: one load.
  static Result<int> cloexec(const Slot* slot) noexcept {
    if (slot == nullptr) return Errno::badf;
    const Word w = slot->load(std::memory_order_acquire);
    if (description(w) == nullptr) return Errno::badf;
    return (w & kCloexec) != 0 ? static_cast<int>(abi::fd_cloexec) : 0;
  }

  // F_SETFD: a compare-and-swap of the bit, which fails if the number was closed or replaced meanwhile. The
  // expected word is first guessed from the slot's hint (DescriptorTable::Page says why). Any answer that
  // stores nothing (EBADF, "already so") is given from a true load of the slot, never from the guess.
  static Result<int> set_cloexec(Slot* slot, Slot* hint, bool on) noexcept {
    if (slot == nullptr) return Errno::badf;
    Word w = hint->load(std::memory_order_relaxed);
    bool known = false;  // w is the slot's true word, not the guess
    for (;;) {
      const Word want = on ? (w | kCloexec) : (w & ~kCloexec);
      if (description(w) == nullptr || want == w) {
        if (!known) {
          w = slot->load(std::memory_order_acquire);
          known = true;
          continue;
        }
        if (description(w) == nullptr) return Errno::badf;
        return 0;
      }
      FDCORE_RACE_WINDOW();
      if (slot->compare_exchange_weak(w, want, std::memory_order_acq_rel, std::memory_order_acquire)) {
        hint->store(want, std::memory_order_relaxed);
        return 0;
      }
      known = true;  // a failed compare-and-swap loads the true word into w
    }
  }

  static Result<Handle> raw(const Slot* slot) noexcept {
    if (slot == nullptr) return Errno::badf;
    for (;;) {
      const Description* d = description(slot->load(std::memory_order_acquire));
      if (d == nullptr) return Errno::badf;
      FDCORE_RACE_WINDOW();
      const std::uint64_t before = d->state_.load(std::memory_order_acquire);
      const Handle raw = d->raw_.load(std::memory_order_acquire);
      FDCORE_RACE_WINDOW();
      if (description(slot->load(std::memory_order_acquire)) == d &&
          Description::generation(d->state_.load(std::memory_order_acquire)) == Description::generation(before)) {
        return raw;
      }
    }
  }

  // F_GETFL. The whole state word must be unchanged, so the flags also held at the reload.
  static Result<std::uint32_t> status_flags(const Slot* slot) noexcept {
    if (slot == nullptr) return Errno::badf;
    for (;;) {
      const Description* d = description(slot->load(std::memory_order_acquire));
      if (d == nullptr) return Errno::badf;
      const std::uint64_t before = d->state_.load(std::memory_order_acquire);
      FDCORE_RACE_WINDOW();
      if (description(slot->load(std::memory_order_acquire)) == d &&
          d->state_.load(std::memory_order_acquire) == before) {
        return Description::flags_of(before);
      }
    }
  }

  // F_SETFL: a compare-and-swap of the state word. It fails if the flags changed or the description was reused
  // since they were read, and the generation in the word makes the second impossible to miss. As in the kernel
  // (fdget, then the change under f_lock), the number is looked up first and the description changed after.
  // The expected word is guessed from the state's hint (OpenFileDescription::state_hint_ says why). The hint
  // is stored after the word by whoever changes it, with release, so reading it carries the same ordering as
  // reading the word itself. A stale guess fails the swap, which loads the true word.
  static Result<int> set_status_flags(const Slot* slot, std::uint64_t arg) noexcept {
    if (slot == nullptr) return Errno::badf;
    for (;;) {
      Description* d = description(slot->load(std::memory_order_acquire));
      if (d == nullptr) return Errno::badf;
      FDCORE_RACE_WINDOW();
      std::uint64_t before = d->state_hint_.load(std::memory_order_acquire);
      for (;;) {
        const auto next = d->with_status_flags(before, arg);
        if (description(slot->load(std::memory_order_acquire)) != d) break;  // the number moved on: again
        FDCORE_RACE_WINDOW();
        if (!next || next.value() == before) {
          // Nothing to store: the answer stands if the true word is the one it was computed from.
          const std::uint64_t now = d->state_.load(std::memory_order_acquire);
          if (now != before) {
            before = now;
            continue;
          }
          if (!next) return next.error();
          return 0;
        }
        if (d->state_.compare_exchange_strong(before, next.value(), std::memory_order_acq_rel,
                                              std::memory_order_acquire)) {
          d->state_hint_.store(next.value(), std::memory_order_release);
          return 0;
        }
      }
    }
  }

  static Result<OpenFileRef<Handle>> get(const Slot* slot) noexcept {
    if (slot == nullptr) return Errno::badf;
    for (;;) {
      Description* d = description(slot->load(std::memory_order_acquire));
      if (d == nullptr) return Errno::badf;
      // A slot's own reference keeps its description alive. A dead one here means the slot has moved on
      // since the load; reload it.
      FDCORE_RACE_WINDOW();
      if (!d->refs_.try_get()) continue;
      FDCORE_RACE_WINDOW();
      if (description(slot->load(std::memory_order_acquire)) == d) return OpenFileRef<Handle>::adopt(d);
      d->put_ref();  // a reference to a life the slot no longer holds: a normal drop, maybe the last
    }
  }

  static Result<DescriptorView<Handle>> view(const Slot* slot) noexcept {
    if (slot == nullptr) return Errno::badf;
    for (;;) {
      const Description* d = description(slot->load(std::memory_order_acquire));
      if (d == nullptr) return Errno::badf;
      FDCORE_RACE_WINDOW();
      const std::uint64_t before = d->state_.load(std::memory_order_acquire);
      const std::uint32_t attrs = d->attrs_.load(std::memory_order_acquire);
      const Handle raw = d->raw_.load(std::memory_order_acquire);
      const ObjectIdentity identity{d->device_.load(std::memory_order_acquire),
                                    d->inode_.load(std::memory_order_acquire)};
      FDCORE_RACE_WINDOW();
      const Word after = slot->load(std::memory_order_acquire);
      if (description(after) == d && d->state_.load(std::memory_order_acquire) == before) {
        return DescriptorView<Handle>{Description::kind_of(attrs), raw, (attrs & Description::kHasRaw) != 0,
                                      (after & kCloexec) != 0, Description::flags_of(before), identity};
      }
    }
  }
};

}  // namespace fdcore
