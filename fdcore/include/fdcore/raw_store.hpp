// The raw-descriptor store: which host values (a Linux fd, a Windows HANDLE) back the core's objects.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <new>
#include <unordered_map>

#include "fdcore/errno.hpp"
#include "fdcore/open_file.hpp"

namespace fdcore {

// Maps raw host values to the open file descriptions they back. A value is registered once (the host
// cannot hand out one live fd or HANDLE twice) and released through the platform's hook when the last
// descriptor referring to it, in any FilesState, is gone. One store serves a container: its FilesStates,
// their fork copies and their CLONE_FILES sharers all point to it.
template <typename Handle>
class RawDescriptorStore : public std::enable_shared_from_this<RawDescriptorStore<Handle>> {
 public:
  // Called once per adopted value, when its description dies; must not throw (a throw is swallowed).
  using ReleaseHook = std::function<void(Handle)>;

  static std::shared_ptr<RawDescriptorStore> create(ReleaseHook release) {
    return std::shared_ptr<RawDescriptorStore>(new RawDescriptorStore(std::move(release)));
  }

  // Takes ownership of `raw` and returns its open file description. On failure (EEXIST: the store already
  // holds this value; ENOMEM) the caller keeps ownership of `raw`.
  Result<OpenFileRef<Handle>> adopt(Handle raw, OpenFileSpec spec) noexcept {
    try {
      std::lock_guard lock(mu_);
      auto [it, inserted] = by_raw_.try_emplace(raw);
      if (!inserted) return Errno::exist;  // the host cannot have handed out a live value twice
      auto ofd = std::make_shared<OpenFileDescription<Handle>>(
          typename OpenFileDescription<Handle>::Private{}, this->shared_from_this(), raw, std::move(spec));
      it->second = ofd;
      return ofd;
    } catch (const std::bad_alloc&) {
      std::lock_guard lock(mu_);
      by_raw_.erase(raw);
      return Errno::nomem;
    }
  }

  // The live description backed by `raw`, or null.
  OpenFileRef<Handle> find(Handle raw) const noexcept {
    std::shared_lock lock(mu_);
    auto it = by_raw_.find(raw);
    return it == by_raw_.end() ? nullptr : it->second.lock();
  }

  // Number of raw values held.
  std::size_t size() const noexcept {
    std::shared_lock lock(mu_);
    return by_raw_.size();
  }

 private:
  friend class OpenFileDescription<Handle>;

  explicit RawDescriptorStore(ReleaseHook release) : release_(std::move(release)) {}

  void release(Handle raw) noexcept {
    {
      std::lock_guard lock(mu_);
      by_raw_.erase(raw);
    }
    if (release_) {
      try {
        release_(raw);
      } catch (...) {  // a platform hook that throws must not take the core down
      }
    }
  }

  mutable std::shared_mutex mu_;
  std::unordered_map<Handle, std::weak_ptr<OpenFileDescription<Handle>>> by_raw_;
  ReleaseHook release_;
};

template <typename Handle>
OpenFileDescription<Handle>::~OpenFileDescription() {
  store_->release(raw_);
}

}  // namespace fdcore
