#include "fdcore/fd_bitmap.hpp"

#include <bit>

namespace fdcore {
namespace {

// Ones for the bits of the last word that lie past `bits` (zero when bits is a multiple of 64).
std::uint64_t padding_mask(std::size_t bits) noexcept {
  const std::size_t used = bits % 64;
  return used == 0 ? 0 : ~std::uint64_t{0} << used;
}

}  // namespace

void FdBitmap::grow(std::size_t bits) {
  if (bits <= size_) return;
  // Built aside and committed with moves: a bad_alloc leaves the bitmap as it was.
  std::vector<std::vector<std::uint64_t>> levels;
  std::vector<std::uint64_t> base;
  base.reserve((bits + 63) / 64);
  base.assign(levels_[0].begin(), levels_[0].end());
  // Clear the padding of the old last word: those bits become real, clear bits.
  if (size_ % 64 != 0) base[size_ / 64] &= ~padding_mask(size_);
  base.resize((bits + 63) / 64, 0);
  base.back() |= padding_mask(bits);
  levels.push_back(std::move(base));
  build_summaries(levels);
  levels_ = std::move(levels);
  base_ = levels_[0].data();
  size_ = bits;
}

void FdBitmap::build_summaries(std::vector<std::vector<std::uint64_t>>& levels) {
  std::size_t words = levels[0].size();
  while (words > 1) {
    std::vector<std::uint64_t> up((words + 63) / 64, 0);
    const auto& below = levels.back();
    for (std::size_t w = 0; w < words; ++w) {
      if (below[w] == kAll) up[w / 64] |= std::uint64_t{1} << (w % 64);
    }
    up.back() |= padding_mask(words);
    levels.push_back(std::move(up));
    words = levels.back().size();
  }
}

void FdBitmap::mark_full(std::size_t i) noexcept {
  for (std::size_t level = 1; level < levels_.size(); ++level) {
    std::uint64_t& word = levels_[level][i / 64];
    word |= std::uint64_t{1} << (i % 64);
    if (word != kAll) return;  // the word did not become full: nothing above changes
    i /= 64;
  }
}

void FdBitmap::mark_not_full(std::size_t i) noexcept {
  for (std::size_t level = 1; level < levels_.size(); ++level) {
    std::uint64_t& word = levels_[level][i / 64];
    const bool was_full = word == kAll;
    word &= ~(std::uint64_t{1} << (i % 64));
    if (!was_full) return;  // it was not full before: the level above already says "not full"
    i /= 64;
  }
}

std::size_t FdBitmap::find_zero_at(std::size_t level, std::size_t from) const noexcept {
  const auto& words = levels_[level];
  std::size_t w = from / 64;
  if (w >= words.size()) return npos;
  // Treat the bits below `from` as set.
  const std::uint64_t below = (std::uint64_t{1} << (from % 64)) - 1;
  std::uint64_t word = words[w] | below;
  if (word == kAll) {
    if (level + 1 == levels_.size()) {
      // Top level: at most one word, so nothing lies past it.
      return npos;
    }
    w = find_zero_at(level + 1, w + 1);
    if (w == npos) return npos;
    word = words[w];
  }
  return w * 64 + static_cast<std::size_t>(std::countr_one(word));
}

std::size_t FdBitmap::find_first_zero_above(std::size_t from) const noexcept {
  const std::size_t i = find_zero_at(0, from);
  return (i == npos || i >= size_) ? npos : i;
}

std::size_t FdBitmap::find_next_set(std::size_t from) const noexcept {
  const auto& words = levels_[0];
  if (from >= size_) return npos;
  std::size_t w = from / 64;
  std::uint64_t word = words[w] & (kAll << (from % 64));
  while (true) {
    if (w + 1 == words.size()) word &= ~padding_mask(size_);
    if (word != 0) return w * 64 + static_cast<std::size_t>(std::countr_zero(word));
    if (++w == words.size()) return npos;
    word = words[w];
  }
}

std::size_t FdBitmap::memory_bytes() const noexcept {
  std::size_t bytes = 0;
  for (const auto& level : levels_) bytes += level.capacity() * sizeof(std::uint64_t);
  return bytes;
}

}  // namespace fdcore
