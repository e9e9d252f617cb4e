// Descriptors' kinds, what a platform says about an object, and the open file description duplicates share.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fdcore/errno.hpp"
#include "fdcore/linux_abi.hpp"
#include "fdcore/ref_count.hpp"

namespace fdcore {

// The closed set of objects a descriptor can name (LiteBox's Descriptor enum). The kind decides policy and what
// introspection shows.
enum class DescriptorKind : std::uint8_t {
  raw,          // a host-backed file, pipe, device, socket other than unix, ...
  eventfd,
  epoll,
  unix_socket,
};

std::string_view kind_name(DescriptorKind kind) noexcept;

// What the platform uses to tell objects apart (Linux: st_dev, st_ino). fdcore only stores it.
struct ObjectIdentity {
  std::uint64_t device = 0;
  std::uint64_t inode = 0;

  bool known() const noexcept { return device != 0 || inode != 0; }
  bool operator==(const ObjectIdentity&) const = default;
};

// The raw value of a description that no raw value of ours backs (RawDescriptorStore::describe): all bits set,
// -1 for an int fd, as a HANDLE INVALID_HANDLE_VALUE. No host hands it out as a live value; adopt() refuses it.
template <typename Handle>
inline constexpr Handle no_raw = static_cast<Handle>(-1);

// What a platform says about an object it hands to the core.
struct OpenFileSpec {
  DescriptorKind kind = DescriptorKind::raw;
  // The flags the object was opened with (open(2), pipe2, socket's SOCK_* mapped to O_*, ...). The open
  // file description keeps them minus O_CREAT, O_EXCL, O_NOCTTY, O_TRUNC and O_CLOEXEC, as F_GETFL shows;
  // O_CLOEXEC goes to the descriptor. Pass what the host's F_GETFL reports (O_LARGEFILE included) when known.
  std::uint32_t open_flags = abi::o_rdwr;
  // Whether F_SETFL may set O_DIRECT: pipes, and files on file systems with direct I/O. Linux refuses it
  // (EINVAL) elsewhere.
  bool direct_io = false;
  // Whether the object has a fasync operation (pipes, sockets, ttys): only then does F_SETFL change O_ASYNC;
  // elsewhere Linux ignores the bit.
  bool fasync = false;
  // What the object is, for introspection: "/etc/passwd", "pipe:[1234]", "anon_inode:[eventfd]".
  std::string target;
  // What the platform uses to tell objects apart (Linux: st_dev, st_ino); fdcore only stores it.
  ObjectIdentity identity = {};
};

template <typename Handle>
class RawDescriptorStore;
template <typename Handle>
class DescriptorTable;
template <typename Handle>
class FilesState;
template <typename Handle>
class OpenFileRef;
template <typename Handle>
struct Lookup;

// An open file description: what dup'd and inherited descriptors share. The status flags live here
// (F_SETFL through one descriptor is seen through all its duplicates); FD_CLOEXEC lives in the table.
// The last reference gone (OpenFileRef holders and table slots), the raw host value is released through the
// store's hook.
//
// The memory is type-stable: it belongs to the store's pool. It never goes back to the allocator while a
// table that may point to it lives, and a later description may reuse it. That is what lets readers look
// descriptions up without a lock. So every field a lock-free reader touches is an atomic, and the state word
// carries a generation that changes with each reuse (see lookup.hpp).
template <typename Handle>
class alignas(64) OpenFileDescription {
 public:
  OpenFileDescription(const OpenFileDescription&) = delete;
  OpenFileDescription& operator=(const OpenFileDescription&) = delete;

  // The accessors are for holders of a reference (OpenFileRef): the description cannot change life under them.
  DescriptorKind kind() const noexcept { return kind_of(attrs_.load(std::memory_order_relaxed)); }
  // The raw host value; no_raw<Handle> for a description made by RawDescriptorStore::describe.
  Handle raw() const noexcept { return raw_.load(std::memory_order_relaxed); }
  bool has_raw() const noexcept { return (attrs_.load(std::memory_order_relaxed) & kHasRaw) != 0; }
  ObjectIdentity identity() const noexcept {
    return {device_.load(std::memory_order_relaxed), inode_.load(std::memory_order_relaxed)};
  }
  const std::string& target() const noexcept { return target_; }
  bool is_path() const noexcept { return (status_flags() & abi::o_path) != 0; }

  // F_GETFL.
  std::uint32_t status_flags() const noexcept { return flags_of(state_.load(std::memory_order_acquire)); }

  // F_SETFL: only SETFL_MASK bits change (and O_ASYNC where the object has a fasync operation); O_PATH
  // descriptions refuse (EBADF); O_DIRECT needs direct I/O (EINVAL). Returns 0.
  Result<int> set_status_flags(std::uint64_t arg) noexcept {
    std::uint64_t old = state_.load(std::memory_order_relaxed);
    for (;;) {
      const auto next = with_status_flags(old, arg);
      if (!next) return next.error();
      if (next.value() == old) return 0;
      if (state_.compare_exchange_weak(old, next.value(), std::memory_order_acq_rel, std::memory_order_relaxed)) {
        state_hint_.store(next.value(), std::memory_order_release);
        return 0;
      }
    }
  }

 private:
  friend class RawDescriptorStore<Handle>;
  friend class DescriptorTable<Handle>;
  friend class FilesState<Handle>;
  friend class OpenFileRef<Handle>;
  friend struct Lookup<Handle>;

  // attrs_: the kind and the object's fixed properties, one word so a lock-free reader loads them at once.
  static constexpr std::uint32_t kKindMask = 0xff;
  static constexpr std::uint32_t kHasRaw = 1u << 8;
  static constexpr std::uint32_t kDirectIo = 1u << 9;
  static constexpr std::uint32_t kFasync = 1u << 10;

  static DescriptorKind kind_of(std::uint32_t attrs) noexcept { return static_cast<DescriptorKind>(attrs & kKindMask); }
  static std::uint32_t generation(std::uint64_t state) noexcept { return static_cast<std::uint32_t>(state >> 32); }
  static std::uint32_t flags_of(std::uint64_t state) noexcept { return static_cast<std::uint32_t>(state); }

  explicit OpenFileDescription(RawDescriptorStore<Handle>* store) noexcept : store_(store) {}
  ~OpenFileDescription() = default;

  // F_SETFL's new state word from `old` (the generation kept), or its errno.
  Result<std::uint64_t> with_status_flags(std::uint64_t old, std::uint64_t arg) const noexcept {
    const std::uint32_t flags = flags_of(old);
    if ((flags & abi::o_path) != 0) return Errno::badf;
    const auto want = static_cast<std::uint32_t>(arg);  // the kernel reads the argument as an int
    // Acquire: a reader racing with reuse sees the properties of the life whose generation it read, or a
    // later one (whose generation makes its compare-and-swap fail).
    const std::uint32_t attrs = attrs_.load(std::memory_order_acquire);
    if ((want & abi::o_direct) != 0 && (attrs & kDirectIo) == 0) return Errno::inval;
    const std::uint32_t mask = (attrs & kFasync) != 0 ? abi::setfl_mask | abi::o_async : abi::setfl_mask;
    return (old & ~std::uint64_t{0xffffffffu}) | ((want & mask) | (flags & ~mask));
  }

  // Table slots (under the table's writer lock). A table holds one reference for each of its slots,
  // except in the table that "owns" the description: that table keeps a plain count of its slots and holds a
  // single reference for all of them. So dup and close in that table need no atomic operation on the
  // description. Only a table claims ownership (when no other table holds it), and only the owner touches
  // owner_slots_. true: the table must add a reference for this slot.
  bool hold_slot(const void* table) noexcept {
    const void* owner = owner_.load(std::memory_order_acquire);
    if (owner == table) {
      ++owner_slots_;
      return false;
    }
    if (owner == nullptr &&
        owner_.compare_exchange_strong(owner, table, std::memory_order_acq_rel, std::memory_order_relaxed)) {
      owner_slots_ = 1;
      return true;
    }
    return true;
  }
  // true: the table must drop a reference (after its writer lock is released: it may be the last).
  bool release_slot(const void* table) noexcept {
    if (owner_.load(std::memory_order_relaxed) != table) return true;
    if (--owner_slots_ != 0) return false;
    owner_.store(nullptr, std::memory_order_release);  // another table may claim it now
    return true;
  }

  void put_ref() noexcept;       // defined in raw_store.hpp: the last one ends the life
  void put_last_ref() noexcept;  // the same, for a table dropping what is likely the last one

  // -- first cache line: what lock-free readers load --
  RefCount refs_;
  std::atomic<Handle> raw_{no_raw<Handle>};
  std::atomic<std::uint32_t> attrs_{0};
  std::atomic<std::uint64_t> device_{0};
  std::atomic<std::uint64_t> inode_{0};
  // A copy of state_, on this line rather than state_'s, from which F_SETFL guesses its compare-and-swap's
  // expected word. Loading a word right after a locked write to it waits for that write (about 3.5 ns on this
  // CPU, a third of F_SETFL whenever one call follows another); a load from another line does not. Stored
  // after every change of state_; a stale copy only makes the swap fail and load the true word.
  std::atomic<std::uint64_t> state_hint_{0};
  RawDescriptorStore<Handle>* const store_;
  OpenFileDescription* next_free_ = nullptr;  // the store's pool, under its lock
  // -- second cache line: the state word, and what only writers touch --
  alignas(64) std::atomic<std::uint64_t> state_{0};  // generation << 32 | status flags
  std::atomic<const void*> owner_{nullptr};
  std::size_t owner_slots_ = 0;
  std::string target_;
};

}  // namespace fdcore

#include "fdcore/open_file_ref.hpp"
#include "fdcore/raw_store.hpp"
