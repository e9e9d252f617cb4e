// RawIndex: raw host value -> description, for the raw store (EEXIST on a second adopt, find(raw)).
//
// An open-addressing hash table (linear probing; deletion shifts the following entries back, so there are no
// tombstones). It allocates only when it grows, unlike std::unordered_map, which allocates a node for every
// insert and frees it on every erase: this table is on the path of every open and every last close. Not
// thread-safe: the store's lock guards it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>

namespace fdcore {

template <typename Key, typename Value>
class RawIndex {
 public:
  static_assert(std::is_integral_v<Key>, "raw values are integers (an fd, a HANDLE's bits)");

  // The value for `key`, or null.
  Value* find(Key key) const noexcept {
    if (size_ == 0) return nullptr;
    for (std::size_t i = home(key);; i = (i + 1) & mask_) {
      const Entry& e = entries_[i];
      if (e.value == nullptr) return nullptr;
      if (e.key == key) return e.value;
    }
  }

  // Inserts or replaces. false: out of memory (nothing changed).
  bool put(Key key, Value* value) noexcept {
    if ((size_ + 1) * 2 > capacity() && !grow()) return false;
    place(key, value);
    return true;
  }

  // Removes `key` if it maps to `value`.
  void erase(Key key, const Value* value) noexcept {
    if (size_ == 0) return;
    std::size_t i = home(key);
    for (;; i = (i + 1) & mask_) {
      if (entries_[i].value == nullptr) return;
      if (entries_[i].key == key) break;
    }
    if (entries_[i].value != value) return;
    // Backward shift: move up every later entry of the cluster that may live in the hole.
    for (std::size_t j = (i + 1) & mask_;; j = (j + 1) & mask_) {
      Entry& e = entries_[j];
      if (e.value == nullptr) break;
      const std::size_t h = home(e.key);
      // e may move to i when its home is not in the cyclic range (i, j].
      if (((j - h) & mask_) >= ((j - i) & mask_)) {
        entries_[i] = e;
        i = j;
      }
    }
    entries_[i] = Entry{};
    --size_;
  }

  std::size_t size() const noexcept { return size_; }
  std::size_t capacity() const noexcept { return entries_ ? mask_ + 1 : 0; }
  std::size_t memory_bytes() const noexcept { return capacity() * sizeof(Entry); }

 private:
  struct Entry {
    Key key{};
    Value* value = nullptr;  // null: empty
  };

  std::size_t home(Key key) const noexcept {
    // Fibonacci hashing: fds and HANDLEs are small, dense and (HANDLEs) multiples of 4; the multiply spreads
    // them and the top bits index the table.
    const auto k = static_cast<std::uint64_t>(static_cast<std::make_unsigned_t<Key>>(key));
    return static_cast<std::size_t>((k * 0x9E3779B97F4A7C15ull) >> shift_);
  }

  void place(Key key, Value* value) noexcept {
    for (std::size_t i = home(key);; i = (i + 1) & mask_) {
      Entry& e = entries_[i];
      if (e.value == nullptr) {
        e = Entry{key, value};
        ++size_;
        return;
      }
      if (e.key == key) {
        e.value = value;
        return;
      }
    }
  }

  bool grow() noexcept {
    const std::size_t old_capacity = capacity();
    const std::size_t bits = old_capacity == 0 ? 6 : static_cast<std::size_t>(64 - shift_) + 1;
    std::unique_ptr<Entry[]> old(new (std::nothrow) Entry[std::size_t{1} << bits]);
    if (!old) return false;
    old.swap(entries_);  // `old` now holds the previous entries
    mask_ = (std::size_t{1} << bits) - 1;
    shift_ = static_cast<unsigned>(64 - bits);
    size_ = 0;
    for (std::size_t i = 0; i < old_capacity; ++i) {
      if (old[i].value != nullptr) place(old[i].key, old[i].value);
    }
    return true;
  }

  std::unique_ptr<Entry[]> entries_;
  std::size_t mask_ = 0;
  unsigned shift_ = 64;
  std::size_t size_ = 0;
};

}  // namespace fdcore
