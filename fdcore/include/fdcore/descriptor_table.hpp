// The descriptor table proper: numbers -> slots (lookup.hpp: a description's address and FD_CLOEXEC in one
// atomic word), plus the bitmap that finds the lowest free number. Readers use slot() and nothing else,
// without a lock. Every other member is for writers, which FilesState serializes with its lock.
//
// Slots live in 256-slot pages allocated on first use: dup2(0, 1000000) costs one page, not a million slots.
// Pages hang off 64-page middle blocks, and those off a top array sized for nr_open when the table is made. The
// top array never moves, and no page or block is freed before the table itself. So a reader's walk
// top -> block -> page needs no lock and no deferred reclamation, and growth retires nothing. The first page
// (numbers 0-255, where nearly every process lives) is part of the table itself, as the kernel embeds its first
// 64 slots in files_struct. A lookup there is the slot's own load and nothing more. That matters on x86,
// because every load after a locked instruction (F_SETFD's swap, a lock) waits for it, so each pointer hop
// before the next locked instruction adds its full latency.
#pragma once

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>

#include "fdcore/fd_bitmap.hpp"
#include "fdcore/linux_abi.hpp"
#include "fdcore/lookup.hpp"
#include "fdcore/open_file.hpp"
#include "fdcore/race_window.hpp"

namespace fdcore {

template <typename Handle>
class DescriptorTable {
 public:
  using Description = OpenFileDescription<Handle>;
  using Word = typename Lookup<Handle>::Word;
  using Slot = typename Lookup<Handle>::Slot;
  static constexpr std::size_t kPageSlots = 256;
  static constexpr std::size_t kBlockPages = 64;
  // The smallest table, as the kernel's (NR_OPEN_DEFAULT = BITS_PER_LONG).
  static constexpr std::size_t kMinCapacity = 64;

  // Null top array when it cannot be allocated: ok() says so, and the owner reports ENOMEM.
  explicit DescriptorTable(std::size_t nr_open = abi::nr_open_default) noexcept
      : nr_open_(nr_open),
        top_size_((nr_open + kPageSlots * kBlockPages - 1) / (kPageSlots * kBlockPages)),
        top_(new (std::nothrow) std::atomic<Block*>[top_size_]()) {}
  DescriptorTable(const DescriptorTable&) = delete;
  DescriptorTable& operator=(const DescriptorTable&) = delete;
  // Frees the pages; the owner has given the descriptions' references back before.
  ~DescriptorTable() {
    if (!top_) return;
    for (std::size_t t = 0; t < top_size_; ++t) {
      Block* block = top_[t].load(std::memory_order_relaxed);
      if (block == nullptr) continue;
      for (auto& page : block->pages) delete page.load(std::memory_order_relaxed);
      delete block;
    }
  }

  bool ok() const noexcept { return top_ != nullptr || top_size_ == 0; }

  // ---- lock-free ----
  // The slot of `fd`, or null when no page holds it (so nothing is open there).
  Slot* slot(std::size_t fd) const noexcept {
    if (fd < kPageSlots) return &first_page_.cells[fd];
    const std::size_t page = fd / kPageSlots;
    const std::size_t t = page / kBlockPages;
    if (t >= top_size_) return nullptr;
    Block* block = top_[t].load(std::memory_order_acquire);
    if (block == nullptr) return nullptr;
    Page* p = block->pages[page % kBlockPages].load(std::memory_order_acquire);
    return p == nullptr ? nullptr : &p->cells[fd % kPageSlots];
  }

  // The hint next to a slot that slot() returned.
  static Slot* hint_of(Slot* slot) noexcept { return slot + kPageSlots; }

  // ---- writers (under the owner's lock) ----
  std::size_t capacity() const noexcept { return open_.size(); }
  std::size_t open_count() const noexcept { return open_.count(); }
  std::size_t nr_open() const noexcept { return nr_open_; }
  bool is_open(std::size_t fd) const noexcept { return open_.test(fd); }

  // The slot word at an fd (0 when closed). Writers alone change the address, so it is stable under the lock.
  // Only the FD_CLOEXEC bit may change under a concurrent F_SETFD.
  Word entry(std::size_t fd) const noexcept {
    const Slot* s = slot(fd);
    return s == nullptr ? 0 : s->load(std::memory_order_relaxed);
  }
  Description* find(std::size_t fd) const noexcept { return Lookup<Handle>::description(entry(fd)); }

  // Lowest free number >= start, or npos when none below `end`.
  std::size_t lowest_free(std::size_t start, std::size_t end) const noexcept {
    end = std::min(end, nr_open_);
    if (start >= end) return FdBitmap::npos;
    std::size_t fd = open_.find_first_zero(start);
    if (fd == FdBitmap::npos) fd = std::max(start, capacity());  // everything below capacity is taken
    return fd < end ? fd : FdBitmap::npos;
  }

  // Makes room for `fd` (kernel-like growth: a power of two, at most nr_open) and its page. false: no memory,
  // or fd >= nr_open.
  bool reserve(std::size_t fd) noexcept { return fd < nr_open_ && ok() && grow(fd + 1) && ensure_page(fd); }

  // Capacity for the numbers below `count` (no page): a fork copy starts as large as its parent.
  bool grow(std::size_t count) noexcept {
    if (count <= capacity()) return true;
    std::size_t cap = std::max(kMinCapacity, std::bit_ceil(count));
    cap = std::min(cap, (nr_open_ + 63) / 64 * 64);
    try {
      open_.grow(cap);
    } catch (...) {
      return false;
    }
    return true;
  }

  // Puts `d` at a reserved fd with one store (a reader sees the old entry or the new one, never "closed") and
  // returns what was there (null if it was free).
  Description* replace(std::size_t fd, const Description* d, bool cloexec) noexcept {
    Slot& slot = reserved_slot(fd);
    const Description* old = Lookup<Handle>::description(slot.load(std::memory_order_relaxed));
    const Word word = Lookup<Handle>::word(d, cloexec);
    slot.store(word, std::memory_order_release);
    hint_of(&slot)->store(word, std::memory_order_relaxed);
    if (old == nullptr) open_.set(fd);
    return const_cast<Description*>(old);
  }

  // Empties fd; returns its description or null.
  Description* take(std::size_t fd) noexcept {
    Slot* slot = this->slot(fd);
    if (slot == nullptr) return nullptr;
    Description* old = Lookup<Handle>::description(slot->load(std::memory_order_relaxed));
    if (old == nullptr) return nullptr;
    slot->store(0, std::memory_order_release);
    hint_of(slot)->store(0, std::memory_order_relaxed);
    open_.reset(fd);
    return old;
  }

  // Empties fd if FD_CLOEXEC is set: the test and the clear are one compare-and-swap, so a racing F_SETFD(0)
  // either lands first (the descriptor stays) or fails.
  Description* take_if_cloexec(std::size_t fd) noexcept {
    if (!open_.test(fd)) return nullptr;
    Slot& slot = reserved_slot(fd);
    Word w = slot.load(std::memory_order_relaxed);
    FDCORE_RACE_WINDOW();
    while ((w & Lookup<Handle>::kCloexec) != 0) {
      if (slot.compare_exchange_weak(w, 0, std::memory_order_acq_rel, std::memory_order_relaxed)) {
        hint_of(&slot)->store(0, std::memory_order_relaxed);
        open_.reset(fd);
        return Lookup<Handle>::description(w);
      }
    }
    return nullptr;
  }

  // Sets FD_CLOEXEC on an open fd (close_range's CLOSE_RANGE_CLOEXEC); atomic against F_SETFD.
  void set_cloexec(std::size_t fd) noexcept {
    if (!open_.test(fd)) return;
    Slot& slot = reserved_slot(fd);
    const Word word = slot.fetch_or(Lookup<Handle>::kCloexec, std::memory_order_acq_rel) | Lookup<Handle>::kCloexec;
    hint_of(&slot)->store(word, std::memory_order_relaxed);
  }

  // Fills this (empty) table with src's entries, page by page; on_entry(d) for each, to take its reference.
  // src's lock is held; this table is not yet visible to anyone. false: no memory (the entries placed so far
  // are in, with their references taken, so the destructor's walk gives them back).
  template <typename OnEntry>
  bool copy_entries(const DescriptorTable& src, OnEntry on_entry) noexcept {
    if (!grow(src.capacity())) return false;
    const auto copy_page = [&](const Page& from, Page& to, std::size_t first_fd) {
      for (std::size_t i = 0; i < kPageSlots; ++i) {
        const Word w = from.cells[i].load(std::memory_order_relaxed);
        if (Lookup<Handle>::description(w) == nullptr) continue;
        on_entry(Lookup<Handle>::description(w));
        to.cells[i].store(w, std::memory_order_relaxed);
        to.cells[kPageSlots + i].store(w, std::memory_order_relaxed);
        open_.set(first_fd + i);
      }
    };
    copy_page(src.first_page_, first_page_, 0);
    for (std::size_t t = 0; t < top_size_; ++t) {
      const Block* block = src.top_[t].load(std::memory_order_relaxed);
      if (block == nullptr) continue;
      for (std::size_t b = 0; b < kBlockPages; ++b) {
        const Page* from = block->pages[b].load(std::memory_order_relaxed);
        if (from == nullptr) continue;
        const std::size_t first_fd = (t * kBlockPages + b) * kPageSlots;
        if (src.open_.find_next_set(first_fd) >= first_fd + kPageSlots) continue;  // an empty page: none here
        if (!ensure_page(first_fd)) return false;
        copy_page(*from, *reserved_page(first_fd), first_fd);
      }
    }
    return true;
  }

  // Calls f(fd) for every open fd in order; f may take(fd).
  template <typename F>
  void for_each_open(F f) const {
    open_.for_each_set(f);
  }

  // Next open fd >= from, or npos.
  std::size_t next_open(std::size_t from) const noexcept { return open_.find_next_set(from); }

  // Heap bytes held: to compare with the kernel's fdtable for the same numbers.
  std::size_t memory_bytes() const noexcept {
    return sizeof(Page) + open_.memory_bytes() + top_size_ * sizeof(std::atomic<Block*>) + blocks_ * sizeof(Block) +
           pages_ * sizeof(Page);
  }

 private:
  // A slot's hint is a guess at its word for F_SETFD's compare-and-swap (Lookup::set_cloexec). It lives on other
  // cache lines because loading a word right after a locked write to it waits for that write: about 3.5 ns on
  // this CPU, a third of F_SETFD, whenever one call follows another on the same number. Everyone who
  // changes a slot stores the new word here too. A stale hint only costs a failed compare-and-swap, which
  // returns the true word, so correctness rests on the slot alone.
  struct Page {
    Slot cells[2 * kPageSlots];  // [0, 256): the slots; [256, 512): their hints (one array: hint_of is in bounds)
  };
  struct Block {
    std::atomic<Page*> pages[kBlockPages];
  };

  // The page and the slot of a reserved fd (its page exists).
  Page* reserved_page(std::size_t fd) const noexcept {
    if (fd < kPageSlots) return &first_page_;
    const std::size_t page = fd / kPageSlots;
    Block* block = top_[page / kBlockPages].load(std::memory_order_relaxed);
    return block->pages[page % kBlockPages].load(std::memory_order_relaxed);
  }
  Slot& reserved_slot(std::size_t fd) const noexcept { return reserved_page(fd)->cells[fd % kPageSlots]; }

  // Allocates fd's block and page if missing. Each is published, zeroed, with a release store.
  bool ensure_page(std::size_t fd) noexcept {
    if (fd < kPageSlots) return true;
    const std::size_t page = fd / kPageSlots;
    std::atomic<Block*>& top = top_[page / kBlockPages];
    Block* block = top.load(std::memory_order_relaxed);
    if (block == nullptr) {
      block = new (std::nothrow) Block();
      if (block == nullptr) return false;
      ++blocks_;
      top.store(block, std::memory_order_release);
    }
    std::atomic<Page*>& entry = block->pages[page % kBlockPages];
    if (entry.load(std::memory_order_relaxed) != nullptr) return true;
    Page* p = new (std::nothrow) Page();
    if (p == nullptr) return false;
    ++pages_;
    entry.store(p, std::memory_order_release);
    return true;
  }

  mutable Page first_page_{};  // numbers 0-255 (block 0's page 0 stays null)
  const std::size_t nr_open_;
  const std::size_t top_size_;
  const std::unique_ptr<std::atomic<Block*>[]> top_;
  // Writers only, on another cache line than what readers load.
  alignas(64) FdBitmap open_;
  std::size_t blocks_ = 0;
  std::size_t pages_ = 0;
};

}  // namespace fdcore
