// A growable bitmap that finds the lowest clear bit at or above a position in O(log64 n): each level above
// the first keeps one bit per word below it, set when that word is full. This is what lets the descriptor
// table give out the lowest free number without scanning from 0 (1M descriptors: four levels).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace fdcore {

class FdBitmap {
 public:
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  FdBitmap() = default;
  FdBitmap(const FdBitmap&) = delete;  // base_ points into levels_
  FdBitmap& operator=(const FdBitmap&) = delete;

  std::size_t size() const noexcept { return size_; }
  // Grows to `bits` (never shrinks); new bits are clear. May throw std::bad_alloc.
  void grow(std::size_t bits);

  bool test(std::size_t i) const noexcept {
    return i < size_ && ((base_[i / 64] >> (i % 64)) & 1u) != 0;
  }
  // i < size(). The common case (a word that neither fills nor stops being full) is inline: these are on the
  // path of every dup and close.
  void set(std::size_t i) noexcept {
    std::uint64_t& word = base_[i / 64];
    const std::uint64_t bit = std::uint64_t{1} << (i % 64);
    if ((word & bit) != 0) return;
    ++count_;
    word |= bit;
    if (word == kAll) mark_full(i / 64);
  }
  void reset(std::size_t i) noexcept {
    std::uint64_t& word = base_[i / 64];
    const std::uint64_t bit = std::uint64_t{1} << (i % 64);
    if ((word & bit) == 0) return;
    --count_;
    const bool was_full = word == kAll;
    word &= ~bit;
    if (was_full) mark_not_full(i / 64);
  }

  // Lowest clear bit >= from, or npos when every bit from `from` to size()-1 is set.
  std::size_t find_first_zero(std::size_t from) const noexcept {
    if (from >= size_) return npos;
    // Bits past the end are kept set, so a clear bit in the first word is a real one.
    const std::uint64_t word = base_[from / 64] | ((std::uint64_t{1} << (from % 64)) - 1);
    if (word != kAll) return from / 64 * 64 + static_cast<std::size_t>(std::countr_one(word));
    return find_first_zero_above(from);
  }
  // Lowest set bit >= from, or npos.
  std::size_t find_next_set(std::size_t from) const noexcept;
  // Calls f(i) for every set bit, in order. Each word is read once before its bits are visited, so f may reset
  // bits (its own and later ones of that word are still visited: callers only reset the bit they are given).
  template <typename F>
  void for_each_set(F f) const {
    const std::size_t words = (size_ + 63) / 64;
    for (std::size_t w = 0; w < words; ++w) {
      std::uint64_t word = base_[w];
      if (w + 1 == words && size_ % 64 != 0) word &= ~(kAll << (size_ % 64));  // the padding is set
      while (word != 0) {
        f(w * 64 + static_cast<std::size_t>(std::countr_zero(word)));
        word &= word - 1;
      }
    }
  }
  // Number of set bits.
  std::size_t count() const noexcept { return count_; }
  // Bytes of heap the bitmap holds (for the table's footprint).
  std::size_t memory_bytes() const noexcept;

 private:
  static constexpr std::uint64_t kAll = ~std::uint64_t{0};

  std::size_t find_first_zero_above(std::size_t from) const noexcept;
  std::size_t find_zero_at(std::size_t level, std::size_t from) const noexcept;
  void mark_full(std::size_t word) noexcept;      // word `word` of level 0 became full
  void mark_not_full(std::size_t word) noexcept;  // ... stopped being full
  static void build_summaries(std::vector<std::vector<std::uint64_t>>& levels);

  // levels_[0]: the bits; levels_[k + 1] bit w: word w of levels_[k] is all ones. Bits past a level's end
  // are kept set so a partly used last word can count as full.
  std::vector<std::vector<std::uint64_t>> levels_{std::vector<std::uint64_t>{}};
  std::uint64_t* base_ = nullptr;  // levels_[0].data(): one load less on every dup and close
  std::size_t size_ = 0;
  std::size_t count_ = 0;
};

}  // namespace fdcore
