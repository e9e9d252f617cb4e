// The descriptor table proper: numbers -> (open file description, FD_CLOEXEC). Not locked; FilesState
// puts it behind its reader/writer lock.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "fdcore/fd_bitmap.hpp"
#include "fdcore/open_file.hpp"

namespace fdcore {

template <typename Handle>
class DescriptorTable {
 public:
  using Ref = OpenFileRef<Handle>;
  // Entries live in pages allocated on first use: dup2(0, 1000000) costs one page, not a million slots.
  static constexpr std::size_t kPageSlots = 256;
  // The smallest table, as the kernel's (NR_OPEN_DEFAULT = BITS_PER_LONG).
  static constexpr std::size_t kMinCapacity = 64;

  explicit DescriptorTable(std::size_t nr_open = abi::nr_open_default) : nr_open_(nr_open) {}

  DescriptorTable(const DescriptorTable& other)
      : nr_open_(other.nr_open_), open_(other.open_), cloexec_(other.cloexec_) {
    pages_.resize(other.pages_.size());
    for (std::size_t p = 0; p < pages_.size(); ++p) {
      if (other.pages_[p]) pages_[p] = std::make_unique<Page>(*other.pages_[p]);
    }
  }
  DescriptorTable& operator=(const DescriptorTable&) = delete;

  std::size_t capacity() const noexcept { return open_.size(); }
  std::size_t open_count() const noexcept { return open_.count(); }
  std::size_t nr_open() const noexcept { return nr_open_; }
  bool is_open(std::size_t fd) const noexcept { return open_.test(fd); }
  bool cloexec(std::size_t fd) const noexcept { return fd < cloexec_.size() * 64 && bit(cloexec_, fd); }

  // The description at fd, or null.
  const Ref* find(std::size_t fd) const noexcept {
    if (!open_.test(fd)) return nullptr;
    return &(*pages_[fd / kPageSlots])[fd % kPageSlots];
  }

  // Lowest free number >= start, or npos when none below `end`.
  std::size_t lowest_free(std::size_t start, std::size_t end) const noexcept {
    end = std::min(end, nr_open_);
    if (start >= end) return FdBitmap::npos;
    std::size_t fd = open_.find_first_zero(start);
    if (fd == FdBitmap::npos) fd = std::max(start, capacity());  // everything below capacity is taken
    return fd < end ? fd : FdBitmap::npos;
  }

  // Makes room for `fd` (kernel-like growth: a power of two, at most nr_open). false: no memory.
  bool reserve(std::size_t fd) noexcept {
    if (fd < capacity()) return ensure_page(fd);
    if (fd >= nr_open_) return false;
    std::size_t cap = std::max(kMinCapacity, std::bit_ceil(fd + 1));
    cap = std::min(cap, (nr_open_ + 63) / 64 * 64);
    try {
      // Grow the cloexec bits and the page directory first: if either throws, open_ (the capacity) is unchanged.
      cloexec_.resize(cap / 64, 0);
      pages_.resize((cap + kPageSlots - 1) / kPageSlots);
      open_.grow(cap);
    } catch (...) {
      return false;
    }
    return ensure_page(fd);
  }

  // Puts `ref` at a free, reserved fd.
  void place(std::size_t fd, Ref ref, bool cloexec) noexcept {
    (*pages_[fd / kPageSlots])[fd % kPageSlots] = std::move(ref);
    open_.set(fd);
    set_cloexec(fd, cloexec);
  }

  // Removes fd's entry and hands back its reference (the caller drops it outside any lock).
  Ref take(std::size_t fd) noexcept {
    if (!open_.test(fd)) return nullptr;
    open_.reset(fd);
    set_cloexec(fd, false);
    return std::move((*pages_[fd / kPageSlots])[fd % kPageSlots]);
  }

  void set_cloexec(std::size_t fd, bool on) noexcept {
    if (fd / 64 >= cloexec_.size()) return;
    const std::uint64_t mask = std::uint64_t{1} << (fd % 64);
    if (on) {
      cloexec_[fd / 64] |= mask;
    } else {
      cloexec_[fd / 64] &= ~mask;
    }
  }

  // Next open fd >= from, or npos.
  std::size_t next_open(std::size_t from) const noexcept { return open_.find_next_set(from); }

  // Heap bytes held: to compare with the kernel's fdtable for the same numbers.
  std::size_t memory_bytes() const noexcept {
    std::size_t bytes = open_.memory_bytes() + cloexec_.capacity() * sizeof(std::uint64_t) +
                        pages_.capacity() * sizeof(std::unique_ptr<Page>);
    for (const auto& page : pages_) {
      if (page) bytes += sizeof(Page);
    }
    return bytes;
  }

 private:
  using Page = std::array<Ref, kPageSlots>;

  static bool bit(const std::vector<std::uint64_t>& words, std::size_t i) noexcept {
    return ((words[i / 64] >> (i % 64)) & 1u) != 0;
  }

  bool ensure_page(std::size_t fd) noexcept {
    auto& page = pages_[fd / kPageSlots];
    if (page) return true;
    try {
      page = std::make_unique<Page>();
    } catch (...) {
      return false;
    }
    return true;
  }

  std::size_t nr_open_;
  FdBitmap open_;
  std::vector<std::uint64_t> cloexec_;
  std::vector<std::unique_ptr<Page>> pages_;
};

}  // namespace fdcore
