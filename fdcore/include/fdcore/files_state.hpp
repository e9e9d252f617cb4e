// FilesState: a descriptor table and its raw store, with the descriptor system calls' Linux semantics.
//
// Writers (install, open, dup*, close, close_range, F_DUPFD, execve's close, copy) are serialized by one lock
// per table. Each call takes it once, so duplicating and inserting leave no window between them (LiteBox
// issue #1170). Readers take no lock and make no atomic read-modify-write: raw, get, view, is_open, F_GETFD
// and F_GETFL are a few acquire loads (lookup.hpp). F_SETFD and F_SETFL are a compare-and-swap on the slot or
// the description, so they need no lock either and still linearize against a racing writer. Calls never throw
// and never abort: every failure is an errno.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "fdcore/descriptor_table.hpp"
#include "fdcore/errno.hpp"
#include "fdcore/linux_abi.hpp"
#include "fdcore/lookup.hpp"
#include "fdcore/open_file.hpp"
#include "fdcore/raw_store.hpp"
#include "fdcore/writer_lock.hpp"

namespace fdcore {

// One descriptor as introspection shows it.
template <typename Handle>
struct DescriptorInfo {
  std::uint32_t fd;
  DescriptorKind kind;
  bool cloexec;
  std::uint32_t status_flags;
  Handle raw;
  std::string target;
};

// The `nofile` argument of the calls below is the calling process's soft RLIMIT_NOFILE: it belongs to the
// process (ProcessFiles), not to the table, which CLONE_FILES may share between processes with different
// limits.
template <typename Handle>
class alignas(64) FilesState {
 public:
  using Ref = OpenFileRef<Handle>;
  using Store = RawDescriptorStore<Handle>;

  explicit FilesState(std::shared_ptr<Store> store, std::size_t nr_open = abi::nr_open_default) noexcept
      : store_(std::move(store)), table_(nr_open) {}
  FilesState(const FilesState&) = delete;
  FilesState& operator=(const FilesState&) = delete;
  ~FilesState() {
    // Nobody else can use the table any more (a reader holds a shared_ptr to it).
    table_.for_each_open([this](std::size_t fd) {
      if (Description* d = release(table_.take(fd))) d->put_last_ref();
    });
    for (Store* store : pinned_) store->unpin();
  }

  // A private copy (fork without CLONE_FILES, unshare(CLONE_FILES)): same descriptions, same flags.
  // Null when memory runs out.
  std::shared_ptr<FilesState> copy() const noexcept {
    try {
      auto child = std::make_shared<FilesState>(store_, table_.nr_open());
      std::lock_guard lock(mu_);
      if (!child->copy_from(*this)) return nullptr;  // `child` gives back what it took after the unlock
      return child;
    } catch (...) {
      return nullptr;
    }
  }

  const std::shared_ptr<Store>& store() const noexcept { return store_; }

  // Installs a description at the lowest free number (open, socket, eventfd, ...); O_CLOEXEC in
  // `open_flags` sets FD_CLOEXEC. EMFILE when no number below nofile is free.
  Result<int> install(Ref ref, std::uint32_t open_flags, std::uint64_t nofile) noexcept {
    if (!ref) return Errno::inval;
    std::lock_guard lock(mu_);
    const std::size_t fd = table_.lowest_free(0, clamp(nofile));
    if (fd == FdBitmap::npos) return Errno::mfile;
    if (!table_.reserve(fd) || !pin_store_of(*ref)) return Errno::nomem;
    Description& d = *ref;
    hold(d, &ref);
    table_.replace(fd, &d, (open_flags & abi::o_cloexec) != 0);
    return static_cast<int>(fd);
  }  // `ref`, when the table did not take its reference over, is dropped after the unlock

  // Adopts `raw` through the store and installs it: the whole of sys_open's bookkeeping. On failure the
  // caller still owns `raw`.
  Result<int> open(Handle raw, OpenFileSpec spec, std::uint64_t nofile) noexcept {
    const bool cloexec = (spec.open_flags & abi::o_cloexec) != 0;
    std::lock_guard lock(mu_);
    // Find and reserve the number before adopting: after adopt nothing may fail, or the caller's value
    // would be released behind its back.
    const std::size_t fd = table_.lowest_free(0, clamp(nofile));
    if (fd == FdBitmap::npos) return Errno::mfile;
    if (!table_.reserve(fd)) return Errno::nomem;
    // Made for this table: its one reference is this table's, as the owner (no further atomic operation).
    auto made = store_->make(raw, /*backed=*/true, std::move(spec), &table_);
    if (!made) return made.error();
    table_.replace(fd, made.value(), cloexec);
    return static_cast<int>(fd);
  }

  // Puts a description at exactly `fd`, replacing what is there: for descriptors the guest got without
  // the core (SCM_RIGHTS), whose number its kernel already chose.
  Result<int> install_at(std::uint32_t fd, Ref ref, bool cloexec) noexcept {
    if (!ref) return Errno::inval;
    Description* displaced = nullptr;
    {
      std::lock_guard lock(mu_);
      if (!table_.reserve(fd)) return fd >= table_.nr_open() ? Errno::badf : Errno::nomem;
      if (!pin_store_of(*ref)) return Errno::nomem;
      Description& d = *ref;
      hold(d, &ref);
      displaced = release(table_.replace(fd, &d, cloexec));
    }
    if (displaced != nullptr) displaced->put_last_ref();
    return static_cast<int>(fd);
  }

  Result<int> close(std::uint32_t fd) noexcept {
    Description* closed = nullptr;
    {
      std::lock_guard lock(mu_);
      Description* d = table_.take(fd);
      if (d == nullptr) return Errno::badf;
      closed = release(d);
    }
    if (closed != nullptr) closed->put_last_ref();  // outside the lock: the release hook may make a host call
    return 0;
  }

  Result<int> dup(std::uint32_t fd, std::uint64_t nofile) noexcept {
    std::lock_guard lock(mu_);
    Description* d = table_.find(fd);
    if (d == nullptr) return Errno::badf;
    return allocate(*d, 0, nofile, false);
  }

  Result<int> dup2(std::uint32_t oldfd, std::uint32_t newfd, std::uint64_t nofile) noexcept {
    if (oldfd == newfd) {
      // The corner case: no limit check, just "is oldfd open".
      if (!is_open(oldfd)) return Errno::badf;
      return static_cast<int>(newfd);
    }
    return dup3_unchecked(oldfd, newfd, false, nofile);
  }

  Result<int> dup3(std::uint32_t oldfd, std::uint32_t newfd, std::int32_t flags, std::uint64_t nofile) noexcept {
    if ((static_cast<std::uint32_t>(flags) & ~abi::o_cloexec) != 0) return Errno::inval;
    if (oldfd == newfd) return Errno::inval;
    return dup3_unchecked(oldfd, newfd, (static_cast<std::uint32_t>(flags) & abi::o_cloexec) != 0, nofile);
  }

  // The table's fcntl commands: F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_SETFD, F_GETFL, F_SETFL. Any other
  // command: EINVAL (the platform serves or refuses it before it gets here).
  Result<int> fcntl(std::uint32_t fd, std::uint32_t cmd, std::uint64_t arg, std::uint64_t nofile) noexcept {
    const auto argi = static_cast<std::uint32_t>(arg);  // the kernel's `unsigned int argi = (unsigned int)arg`
    switch (cmd) {
      case abi::f_dupfd:
      case abi::f_dupfd_cloexec: {
        std::lock_guard lock(mu_);
        Description* d = table_.find(fd);
        if (d == nullptr) return Errno::badf;
        if (argi >= nofile) return Errno::inval;
        return allocate(*d, argi, nofile, cmd == abi::f_dupfd_cloexec);
      }
      case abi::f_getfd:
        return Lookup<Handle>::cloexec(table_.slot(fd));
      case abi::f_setfd: {
        auto* slot = table_.slot(fd);
        if (slot == nullptr) return Errno::badf;
        return Lookup<Handle>::set_cloexec(slot, DescriptorTable<Handle>::hint_of(slot), (argi & abi::fd_cloexec) != 0);
      }
      case abi::f_getfl: {
        const auto flags = Lookup<Handle>::status_flags(table_.slot(fd));
        if (!flags) return flags.error();
        return static_cast<int>(flags.value());
      }
      case abi::f_setfl:
        return Lookup<Handle>::set_status_flags(table_.slot(fd), arg);
      default: {
        const auto flags = Lookup<Handle>::status_flags(table_.slot(fd));
        if (!flags) return flags.error();
        return (flags.value() & abi::o_path) != 0 ? Errno::badf : Errno::inval;  // O_PATH allows only the above
      }
    }
  }

  // close_range without CLOSE_RANGE_UNSHARE (ProcessFiles handles that flag by copying first).
  Result<int> close_range(std::uint32_t first, std::uint32_t last, std::uint32_t flags) noexcept {
    if ((flags & ~(abi::close_range_unshare | abi::close_range_cloexec)) != 0) return Errno::inval;
    if (first > last) return Errno::inval;
    const bool mark_only = (flags & abi::close_range_cloexec) != 0;
    close_each([&](auto&& visit) {
      for (std::size_t fd = table_.next_open(first); fd != FdBitmap::npos && fd <= last;
           fd = table_.next_open(fd + 1)) {
        if (mark_only) {
          table_.set_cloexec(fd);
        } else {
          visit(table_.take(fd));
        }
      }
    });
    return 0;
  }

  // execve: close every FD_CLOEXEC descriptor.
  void close_on_exec() noexcept {
    close_each([&](auto&& visit) {
      table_.for_each_open([&](std::size_t fd) {
        if (Description* d = table_.take_if_cloexec(fd)) visit(d);
      });
    });
  }

  // The description at fd, or EBADF: an owning reference (one atomic increment now, one decrement when it
  // is dropped). Callers that need only the raw value or the properties use raw() or view(), which cost none.
  Result<Ref> get(std::uint32_t fd) const noexcept { return Lookup<Handle>::get(table_.slot(fd)); }

  // The raw host value behind fd, without touching the description's reference count.
  Result<Handle> raw(std::uint32_t fd) const noexcept { return Lookup<Handle>::raw(table_.slot(fd)); }

  // fd's kind, raw value, flags and identity as one consistent snapshot, without a reference.
  Result<DescriptorView<Handle>> view(std::uint32_t fd) const noexcept { return Lookup<Handle>::view(table_.slot(fd)); }

  bool is_open(std::uint32_t fd) const noexcept { return Lookup<Handle>::is_open(table_.slot(fd)); }

  // The number the next allocation at or above `start` would get, or -1 when none is free below nofile (a
  // platform that lets its host pick the number checks it against this one).
  int lowest_free(std::uint32_t start, std::uint64_t nofile) const noexcept {
    std::lock_guard lock(mu_);
    const std::size_t fd = table_.lowest_free(start, clamp(nofile));
    return fd == FdBitmap::npos ? -1 : static_cast<int>(fd);
  }

  // Every descriptor, in number order (introspection; under the writer lock, so a consistent picture).
  // Empty when memory runs out.
  std::vector<DescriptorInfo<Handle>> list() const noexcept {
    std::vector<DescriptorInfo<Handle>> out;
    try {
      std::lock_guard lock(mu_);
      out.reserve(table_.open_count());
      for (std::size_t fd = table_.next_open(0); fd != FdBitmap::npos; fd = table_.next_open(fd + 1)) {
        const auto word = table_.entry(fd);
        const Description& d = *Lookup<Handle>::description(word);
        out.push_back({static_cast<std::uint32_t>(fd), d.kind(), (word & Lookup<Handle>::kCloexec) != 0,
                       d.status_flags(), d.raw(), d.target()});
      }
    } catch (...) {
      out.clear();
    }
    return out;
  }

  std::size_t open_count() const noexcept {
    std::lock_guard lock(mu_);
    return table_.open_count();
  }
  std::size_t capacity() const noexcept {
    std::lock_guard lock(mu_);
    return table_.capacity();
  }
  std::size_t memory_bytes() const noexcept {
    std::lock_guard lock(mu_);
    return table_.memory_bytes();
  }
  std::size_t nr_open() const noexcept { return table_.nr_open(); }

 private:
  using Description = OpenFileDescription<Handle>;

  std::size_t clamp(std::uint64_t nofile) const noexcept {
    return nofile < table_.nr_open() ? static_cast<std::size_t>(nofile) : table_.nr_open();
  }

  // A new slot of this table points to `d`: the reference it needs comes from `donor` (a Ref handed to the
  // call) when there is one, else from an increment. Lock held.
  void hold(Description& d, Ref* donor) noexcept {
    if (!d.hold_slot(&table_)) return;  // this table owns d and already holds its reference
    if (donor != nullptr && donor->get() == &d) {
      donor->release();
      return;
    }
    d.refs_.get();
  }

  // A slot of this table no longer points to `d`: `d` if a reference must be dropped (after the unlock), else
  // null. Lock held.
  Description* release(Description* d) noexcept {
    return d != nullptr && d->release_slot(&table_) ? d : nullptr;
  }

  // Lets this table point to descriptions of another store: that store's pool must outlive the table's
  // readers, so the table pins it. Lock held.
  bool pin_store_of(const Description& d) noexcept {
    Store* store = d.store_;
    if (store == store_.get() || std::find(pinned_.begin(), pinned_.end(), store) != pinned_.end()) return true;
    try {
      pinned_.push_back(store);
    } catch (...) {
      return false;
    }
    store->pin();
    return true;
  }

  // Lowest free number >= start below nofile. Lock held.
  Result<int> allocate(Description& d, std::size_t start, std::uint64_t nofile, bool cloexec) noexcept {
    const std::size_t fd = table_.lowest_free(start, clamp(nofile));
    if (fd == FdBitmap::npos) return Errno::mfile;
    if (!table_.reserve(fd)) return Errno::nomem;
    hold(d, nullptr);
    table_.replace(fd, &d, cloexec);
    return static_cast<int>(fd);
  }

  // dup2/dup3 once their argument checks are done.
  Result<int> dup3_unchecked(std::uint32_t oldfd, std::uint32_t newfd, bool cloexec, std::uint64_t nofile) noexcept {
    if (newfd >= nofile) return Errno::badf;
    Description* displaced = nullptr;
    {
      std::lock_guard lock(mu_);
      Description* d = table_.find(oldfd);
      if (d == nullptr) return Errno::badf;
      if (!table_.reserve(newfd)) return newfd >= table_.nr_open() ? Errno::badf : Errno::nomem;
      hold(*d, nullptr);  // before the release: dup2 between duplicates must not drop the last reference
      displaced = release(table_.replace(newfd, d, cloexec));
    }
    if (displaced != nullptr) displaced->put_last_ref();
    return static_cast<int>(newfd);
  }

  // Runs `walk` under the lock; it takes descriptors out of the table and passes each to its visitor. The
  // references to drop are dropped after the unlock, or under it when there is no memory to defer them.
  template <typename Walk>
  void close_each(Walk walk) noexcept {
    std::vector<Description*> dropped;
    {
      std::lock_guard lock(mu_);
      walk([&](Description* d) {
        if ((d = release(d)) == nullptr) return;
        try {
          dropped.push_back(d);
        } catch (...) {
          d->put_last_ref();  // no room to defer: drop under the lock rather than fail half-way
        }
      });
    }
    for (Description* d : dropped) d->put_last_ref();
  }

  // Fills this fresh table from `src` (whose lock is held); false when memory runs out.
  bool copy_from(const FilesState& src) noexcept {
    for (Store* store : src.pinned_) {
      try {
        pinned_.push_back(store);
      } catch (...) {
        return false;
      }
      store->pin();
    }
    return table_.copy_entries(src.table_, [this](Description* d) { hold(*d, nullptr); });
  }

  std::shared_ptr<Store> store_;
  std::vector<Store*> pinned_;  // other stores this table holds descriptions of; under mu_
  alignas(64) mutable WriterLock mu_;
  alignas(64) DescriptorTable<Handle> table_;  // readers load its top array without the lock
};

extern template class FilesState<int>;
extern template class FilesState<std::uintptr_t>;

}  // namespace fdcore
