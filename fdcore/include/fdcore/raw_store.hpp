// The raw-descriptor store: which host values (a Linux fd, a Windows HANDLE) back the core's objects, and the
// pool their open file descriptions live in.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <vector>

#include "fdcore/errno.hpp"
#include "fdcore/open_file.hpp"
#include "fdcore/raw_index.hpp"
#include "fdcore/writer_lock.hpp"

namespace fdcore {

// Maps raw host values to the open file descriptions they back. A value is registered once (the host cannot
// hand out one live fd or HANDLE twice). It is released through the platform's hook when the last reference
// to its description goes: a descriptor in any FilesState, or an OpenFileRef. One store serves a container:
// its FilesStates, their fork copies and their CLONE_FILES sharers all point to it.
//
// The store owns the memory of its descriptions. It is a pool of fixed-size objects, and it returns to the
// allocator only when the store itself goes. A dead description goes back on the pool's free list and a
// later one reuses it. That is what lets table readers dereference a description without a lock and without
// touching a count (lookup.hpp). The store lives as long as any of these does: a shared_ptr to it (every
// FilesState holds one), a live description, or a table pinning it for descriptions from this store that it
// holds (pin/unpin). So its pool outlives every table that may point into it. The cost is that a store keeps
// its peak number of descriptions' headers (128 bytes each) until it goes, as a slab cache keeps its pages.
template <typename Handle>
class RawDescriptorStore {
 public:
  // Called once per adopted value, when its description dies; must not throw (a throw is swallowed).
  using ReleaseHook = std::function<void(Handle)>;
  using Description = OpenFileDescription<Handle>;

  static std::shared_ptr<RawDescriptorStore> create(ReleaseHook release) {
    // The handle's deleter only marks the store detached: it goes once its last description is gone too.
    // (Should the control block's allocation throw, shared_ptr calls the deleter, which deletes the store.)
    return std::shared_ptr<RawDescriptorStore>(new RawDescriptorStore(std::move(release)),
                                               [](RawDescriptorStore* store) { store->detach(); });
  }

  RawDescriptorStore(const RawDescriptorStore&) = delete;
  RawDescriptorStore& operator=(const RawDescriptorStore&) = delete;

  // Takes ownership of `raw` and returns its open file description. On failure the caller keeps ownership of
  // `raw`: EEXIST when the store already holds this value, EINVAL for no_raw<Handle>, ENOMEM.
  Result<OpenFileRef<Handle>> adopt(Handle raw, OpenFileSpec spec) noexcept {
    auto made = make(raw, /*backed=*/true, std::move(spec), nullptr);
    if (!made) return made.error();
    return OpenFileRef<Handle>::adopt(made.value());
  }

  // A description that no raw value of ours backs: the object lives in another table (a guest's kernel table
  // that the core mirrors). Its raw() is no_raw<Handle>. It is not registered by raw value, so any number of
  // them may exist, and the release hook never sees it. ENOMEM.
  Result<OpenFileRef<Handle>> describe(OpenFileSpec spec) noexcept {
    auto made = make(no_raw<Handle>, /*backed=*/false, std::move(spec), nullptr);
    if (!made) return made.error();
    return OpenFileRef<Handle>::adopt(made.value());
  }

  // The live description backed by `raw`, or null.
  OpenFileRef<Handle> find(Handle raw) const noexcept {
    std::lock_guard lock(mu_);
    Description* d = by_raw_.find(raw);
    if (d == nullptr || !d->refs_.try_get()) return nullptr;  // absent, or dying
    return OpenFileRef<Handle>::adopt(d);
  }

  // Every live description, adopted or described (a dying one counts until its release hook has returned).
  std::size_t size() const noexcept {
    std::lock_guard lock(mu_);
    return live_;
  }

 private:
  friend class OpenFileDescription<Handle>;
  friend class FilesState<Handle>;

  static constexpr std::size_t kChunk = 64;  // descriptions per pool allocation (8 KiB)
  static constexpr std::align_val_t kAlign{alignof(Description)};

  explicit RawDescriptorStore(ReleaseHook release) noexcept : release_(std::move(release)) {}

  ~RawDescriptorStore() {
    for (void* chunk : chunks_) {
      auto* first = static_cast<Description*>(chunk);
      for (std::size_t i = 0; i < kChunk; ++i) first[i].~Description();
      ::operator delete(chunk, kAlign);
    }
  }

  // A new description with one reference. A table creating it for itself (open) passes itself as `owner`,
  // and that reference is then the owner's (see OpenFileDescription::hold_slot).
  Result<Description*> make(Handle raw, bool backed, OpenFileSpec&& spec, const void* owner) noexcept {
    if (backed && raw == no_raw<Handle>) return Errno::inval;
    std::lock_guard lock(mu_);
    if (backed) {
      // A dead description may still be listed while its release hook runs; the host may already have
      // handed its value out again (that is what the hook is for), so it does not count.
      if (const Description* held = by_raw_.find(raw); held != nullptr && !held->refs_.dead()) return Errno::exist;
    }
    if (free_ == nullptr && !grow_pool()) return Errno::nomem;
    Description* d = free_;
    if (backed && !by_raw_.put(raw, d)) return Errno::nomem;
    free_ = d->next_free_;
    begin_life(*d, raw, backed, std::move(spec), owner);
    ++live_;
    return d;
  }

  // Fills a free description in. Every field is stored with release and the state word goes last, with the
  // next generation. A lock-free reader that loads the new generation (acquire) sees the new fields. A
  // reader that loads any new field sees that the life it was reading is over (lookup.hpp).
  static void begin_life(Description& d, Handle raw, bool backed, OpenFileSpec&& spec, const void* owner) noexcept {
    d.raw_.store(raw, std::memory_order_release);
    std::uint32_t attrs = static_cast<std::uint32_t>(spec.kind);
    if (backed) attrs |= Description::kHasRaw;
    if (spec.direct_io) attrs |= Description::kDirectIo;
    if (spec.fasync) attrs |= Description::kFasync;
    d.attrs_.store(attrs, std::memory_order_release);
    d.device_.store(spec.identity.device, std::memory_order_release);
    d.inode_.store(spec.identity.inode, std::memory_order_release);
    d.target_ = std::move(spec.target);
    d.owner_.store(owner, std::memory_order_relaxed);
    d.owner_slots_ = owner != nullptr ? 1 : 0;
    d.next_free_ = nullptr;
    d.refs_.revive();
    const std::uint64_t generation = (d.state_.load(std::memory_order_relaxed) >> 32) + 1;
    const std::uint64_t state = (generation << 32) | (spec.open_flags & ~abi::open_only_flags);
    d.state_.store(state, std::memory_order_release);
    d.state_hint_.store(state, std::memory_order_release);
  }

  bool grow_pool() noexcept {
    void* chunk = ::operator new(sizeof(Description) * kChunk, kAlign, std::nothrow);
    if (chunk == nullptr) return false;
    try {
      chunks_.push_back(chunk);
    } catch (...) {
      ::operator delete(chunk, kAlign);
      return false;
    }
    auto* first = static_cast<Description*>(chunk);
    for (std::size_t i = kChunk; i-- > 0;) {
      Description* d = ::new (static_cast<void*>(first + i)) Description(this);
      d->next_free_ = free_;
      free_ = d;
    }
    return true;
  }

  // The end of a life: the count reached dead. Runs the hook with no lock held (it may make a host call), then
  // puts the memory back on the free list. Readers that still hold the pointer only ever load atomics from it,
  // and their checks fail.
  void retire(Description* d) noexcept {
    const Handle raw = d->raw_.load(std::memory_order_relaxed);
    const bool backed = (d->attrs_.load(std::memory_order_relaxed) & Description::kHasRaw) != 0;
    std::string().swap(d->target_);  // no reference is left, so nobody reads it
    if (backed && release_) {
      try {
        release_(raw);
      } catch (...) {  // a platform hook that throws must not take the core down
      }
    }
    bool last;
    {
      std::lock_guard lock(mu_);
      if (backed) by_raw_.erase(raw, d);  // unless a new adopt of the value already replaced it
      d->next_free_ = free_;
      free_ = d;
      --live_;
      last = detached_ && live_ == 0 && pins_ == 0;
    }
    if (last) delete this;
  }

  void detach() noexcept { drop_hold([this] { detached_ = true; }); }
  // A table that holds descriptions from this store but does not own a shared_ptr to it.
  void pin() noexcept {
    std::lock_guard lock(mu_);
    ++pins_;
  }
  void unpin() noexcept { drop_hold([this] { --pins_; }); }

  template <typename Change>
  void drop_hold(Change change) noexcept {
    bool last;
    {
      std::lock_guard lock(mu_);
      change();
      last = detached_ && live_ == 0 && pins_ == 0;
    }
    if (last) delete this;
  }

  mutable WriterLock mu_;
  RawIndex<Handle, Description> by_raw_;
  Description* free_ = nullptr;
  std::vector<void*> chunks_;
  std::size_t live_ = 0;
  std::size_t pins_ = 0;
  bool detached_ = false;
  const ReleaseHook release_;
};

template <typename Handle>
void OpenFileDescription<Handle>::put_ref() noexcept {
  if (refs_.put()) store_->retire(this);
}

template <typename Handle>
void OpenFileDescription<Handle>::put_last_ref() noexcept {
  if (refs_.put_last()) store_->retire(this);
}

}  // namespace fdcore
