// OpenFileRef: an owning reference to an open file description, what get() and the store hand out.
//
// An intrusive count instead of std::shared_ptr: a description's memory is pooled and reused (see
// open_file.hpp), and its count must be the one lock-free readers increment. Copying is one atomic increment,
// dropping one decrement; the drop of the last reference releases the raw value.
#pragma once

#include <cstddef>
#include <utility>

namespace fdcore {

template <typename Handle>
class OpenFileDescription;
template <typename Handle>
class RawDescriptorStore;
template <typename Handle>
class FilesState;
template <typename Handle>
struct Lookup;

template <typename Handle>
class OpenFileRef {
 public:
  using element_type = OpenFileDescription<Handle>;

  constexpr OpenFileRef() noexcept = default;
  constexpr OpenFileRef(std::nullptr_t) noexcept {}  // NOLINT: implicit, like a null smart pointer
  OpenFileRef(const OpenFileRef& other) noexcept : d_(other.d_) {
    if (d_ != nullptr) d_->refs_.get();
  }
  OpenFileRef(OpenFileRef&& other) noexcept : d_(std::exchange(other.d_, nullptr)) {}
  OpenFileRef& operator=(const OpenFileRef& other) noexcept {
    OpenFileRef(other).swap(*this);
    return *this;
  }
  OpenFileRef& operator=(OpenFileRef&& other) noexcept {
    OpenFileRef(std::move(other)).swap(*this);
    return *this;
  }
  ~OpenFileRef() { reset(); }

  void reset() noexcept {
    if (element_type* d = std::exchange(d_, nullptr)) d->put_ref();
  }
  void swap(OpenFileRef& other) noexcept { std::swap(d_, other.d_); }

  element_type* get() const noexcept { return d_; }
  element_type* operator->() const noexcept { return d_; }
  element_type& operator*() const noexcept { return *d_; }
  explicit operator bool() const noexcept { return d_ != nullptr; }

  friend bool operator==(const OpenFileRef& a, const OpenFileRef& b) noexcept { return a.d_ == b.d_; }
  friend bool operator==(const OpenFileRef& a, std::nullptr_t) noexcept { return a.d_ == nullptr; }

 private:
  friend class RawDescriptorStore<Handle>;
  friend class FilesState<Handle>;
  friend struct Lookup<Handle>;

  // Takes over a reference the caller holds.
  static OpenFileRef adopt(element_type* d) noexcept {
    OpenFileRef ref;
    ref.d_ = d;
    return ref;
  }
  // Hands the reference over to the caller.
  element_type* release() noexcept { return std::exchange(d_, nullptr); }

  element_type* d_ = nullptr;
};

}  // namespace fdcore
