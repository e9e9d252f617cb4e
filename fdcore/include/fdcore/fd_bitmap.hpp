// A growable bitmap that finds the lowest clear bit at or above a position in O(log64 n): each level above
// the first keeps one bit per word below it, set when that word is full. This is what lets the descriptor
// table give out the lowest free number without scanning from 0 (1M descriptors: four levels).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace fdcore {

class FdBitmap {
 public:
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  std::size_t size() const noexcept { return size_; }
  // Grows to `bits` (never shrinks); new bits are clear. May throw std::bad_alloc.
  void grow(std::size_t bits);

  bool test(std::size_t i) const noexcept {
    return i < size_ && ((levels_[0][i / 64] >> (i % 64)) & 1u) != 0;
  }
  void set(std::size_t i) noexcept;    // i < size()
  void reset(std::size_t i) noexcept;  // i < size()

  // Lowest clear bit >= from, or npos when every bit from `from` to size()-1 is set.
  std::size_t find_first_zero(std::size_t from) const noexcept;
  // Lowest set bit >= from, or npos.
  std::size_t find_next_set(std::size_t from) const noexcept;
  // Number of set bits.
  std::size_t count() const noexcept { return count_; }
  // Bytes of heap the bitmap holds (for the table's footprint).
  std::size_t memory_bytes() const noexcept;

 private:
  std::size_t find_zero_at(std::size_t level, std::size_t from) const noexcept;
  void rebuild_summaries();

  // levels_[0]: the bits; levels_[k + 1] bit w: word w of levels_[k] is all ones. Bits past a level's end
  // are kept set so a partly used last word can count as full.
  std::vector<std::vector<std::uint64_t>> levels_{std::vector<std::uint64_t>{}};
  std::size_t size_ = 0;
  std::size_t count_ = 0;
};

}  // namespace fdcore
