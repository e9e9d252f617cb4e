// FilesState: a descriptor table and its raw store behind a reader/writer lock, with the descriptor system
// calls' Linux semantics. Each call takes the lock once, so duplicating and inserting leave no window
// between them. Calls never throw and never abort: every failure is an errno.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

#include "fdcore/descriptor_table.hpp"
#include "fdcore/errno.hpp"
#include "fdcore/linux_abi.hpp"
#include "fdcore/open_file.hpp"
#include "fdcore/raw_store.hpp"

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
class FilesState {
 public:
  using Ref = OpenFileRef<Handle>;
  using Store = RawDescriptorStore<Handle>;

  explicit FilesState(std::shared_ptr<Store> store, std::size_t nr_open = abi::nr_open_default)
      : store_(std::move(store)), table_(nr_open) {}

  // A private copy (fork without CLONE_FILES, unshare(CLONE_FILES)): same descriptions, same flags.
  // Null when memory runs out.
  std::shared_ptr<FilesState> copy() const noexcept {
    try {
      std::shared_lock lock(mu_);
      return std::shared_ptr<FilesState>(new FilesState(store_, table_));
    } catch (...) {
      return nullptr;
    }
  }

  const std::shared_ptr<Store>& store() const noexcept { return store_; }

  // Installs a description at the lowest free number (open, socket, eventfd, ...); O_CLOEXEC in
  // `open_flags` sets FD_CLOEXEC. EMFILE when no number below nofile is free.
  Result<int> install(Ref ref, std::uint32_t open_flags, std::uint64_t nofile) noexcept {
    if (!ref) return Errno::inval;
    std::unique_lock lock(mu_);
    return allocate(std::move(ref), 0, nofile, (open_flags & abi::o_cloexec) != 0);
  }

  // Adopts `raw` through the store and installs it: the whole of sys_open's bookkeeping. On failure the
  // caller still owns `raw`.
  Result<int> open(Handle raw, OpenFileSpec spec, std::uint64_t nofile) noexcept {
    const bool cloexec = (spec.open_flags & abi::o_cloexec) != 0;
    std::unique_lock lock(mu_);
    // Find and reserve the number before adopting: after adopt nothing may fail, or the caller's value
    // would be released behind its back.
    const std::size_t fd = table_.lowest_free(0, clamp(nofile));
    if (fd == FdBitmap::npos) return Errno::mfile;
    if (!table_.reserve(fd)) return Errno::nomem;
    auto ref = store_->adopt(raw, std::move(spec));
    if (!ref) return ref.error();
    table_.place(fd, ref.value(), cloexec);
    return static_cast<int>(fd);
  }

  // Puts a description at exactly `fd`, replacing what is there: for descriptors the guest got without
  // the core (SCM_RIGHTS), whose number its kernel already chose.
  Result<int> install_at(std::uint32_t fd, Ref ref, bool cloexec) noexcept {
    if (!ref) return Errno::inval;
    Ref displaced;
    std::unique_lock lock(mu_);
    if (!table_.reserve(fd)) return fd >= table_.nr_open() ? Errno::badf : Errno::nomem;
    displaced = table_.take(fd);
    table_.place(fd, std::move(ref), cloexec);
    lock.unlock();
    return static_cast<int>(fd);
  }

  Result<int> close(std::uint32_t fd) noexcept {
    Ref closed;
    {
      std::unique_lock lock(mu_);
      closed = table_.take(fd);
    }
    if (!closed) return Errno::badf;
    return 0;  // `closed` dies here, outside the lock: the release hook may make a host call
  }

  Result<int> dup(std::uint32_t fd, std::uint64_t nofile) noexcept {
    std::unique_lock lock(mu_);
    const Ref* ref = table_.find(fd);
    if (!ref) return Errno::badf;
    return allocate(*ref, 0, nofile, false);
  }

  Result<int> dup2(std::uint32_t oldfd, std::uint32_t newfd, std::uint64_t nofile) noexcept {
    if (oldfd == newfd) {
      // The corner case: no limit check, just "is oldfd open".
      std::shared_lock lock(mu_);
      if (!table_.is_open(oldfd)) return Errno::badf;
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
        std::unique_lock lock(mu_);
        const Ref* ref = table_.find(fd);
        if (!ref) return Errno::badf;
        if (argi >= nofile) return Errno::inval;
        return allocate(*ref, argi, nofile, cmd == abi::f_dupfd_cloexec);
      }
      case abi::f_getfd: {
        std::shared_lock lock(mu_);
        if (!table_.is_open(fd)) return Errno::badf;
        return table_.cloexec(fd) ? static_cast<int>(abi::fd_cloexec) : 0;
      }
      case abi::f_setfd: {
        std::unique_lock lock(mu_);
        if (!table_.is_open(fd)) return Errno::badf;
        table_.set_cloexec(fd, (argi & abi::fd_cloexec) != 0);
        return 0;
      }
      case abi::f_getfl: {
        std::shared_lock lock(mu_);
        const Ref* ref = table_.find(fd);
        if (!ref) return Errno::badf;
        return static_cast<int>((*ref)->status_flags());
      }
      case abi::f_setfl: {
        std::shared_lock lock(mu_);  // the flags live in the description, which has its own atomicity
        const Ref* ref = table_.find(fd);
        if (!ref) return Errno::badf;
        return (*ref)->set_status_flags(arg);
      }
      default: {
        std::shared_lock lock(mu_);
        const Ref* ref = table_.find(fd);
        if (!ref) return Errno::badf;
        return (*ref)->is_path() ? Errno::badf : Errno::inval;  // O_PATH allows only the commands above
      }
    }
  }

  // close_range without CLOSE_RANGE_UNSHARE (ProcessFiles handles that flag by copying first).
  Result<int> close_range(std::uint32_t first, std::uint32_t last, std::uint32_t flags) noexcept {
    if ((flags & ~(abi::close_range_unshare | abi::close_range_cloexec)) != 0) return Errno::inval;
    if (first > last) return Errno::inval;
    std::vector<Ref> closed;
    {
      std::unique_lock lock(mu_);
      for (std::size_t fd = table_.next_open(first); fd != FdBitmap::npos && fd <= last;
           fd = table_.next_open(fd + 1)) {
        if ((flags & abi::close_range_cloexec) != 0) {
          table_.set_cloexec(fd, true);
          continue;
        }
        Ref ref = table_.take(fd);
        try {
          closed.push_back(std::move(ref));
        } catch (...) {
          // No room to defer: release under the lock rather than fail half-way.
        }
      }
    }
    return 0;
  }

  // execve: close every FD_CLOEXEC descriptor.
  void close_on_exec() noexcept {
    std::vector<Ref> closed;
    std::unique_lock lock(mu_);
    for (std::size_t fd = table_.next_open(0); fd != FdBitmap::npos; fd = table_.next_open(fd + 1)) {
      if (!table_.cloexec(fd)) continue;
      Ref ref = table_.take(fd);
      try {
        closed.push_back(std::move(ref));
      } catch (...) {
      }
    }
    lock.unlock();
  }

  // The description at fd, or EBADF (for the platform: the raw value to serve a call with).
  Result<Ref> get(std::uint32_t fd) const noexcept {
    std::shared_lock lock(mu_);
    const Ref* ref = table_.find(fd);
    if (!ref) return Errno::badf;
    return *ref;
  }

  // The raw host value behind fd, without touching the description's reference count.
  Result<Handle> raw(std::uint32_t fd) const noexcept {
    std::shared_lock lock(mu_);
    const Ref* ref = table_.find(fd);
    if (!ref) return Errno::badf;
    return (*ref)->raw();
  }

  bool is_open(std::uint32_t fd) const noexcept {
    std::shared_lock lock(mu_);
    return table_.is_open(fd);
  }

  // The number the next allocation at or above `start` would get, or -1 when none is free below nofile (a
  // platform that lets its host pick the number checks it against this one).
  int lowest_free(std::uint32_t start, std::uint64_t nofile) const noexcept {
    std::shared_lock lock(mu_);
    const std::size_t fd = table_.lowest_free(start, clamp(nofile));
    return fd == FdBitmap::npos ? -1 : static_cast<int>(fd);
  }

  // Every descriptor, in number order (introspection). Empty when memory runs out.
  std::vector<DescriptorInfo<Handle>> list() const noexcept {
    std::vector<DescriptorInfo<Handle>> out;
    try {
      std::shared_lock lock(mu_);
      out.reserve(table_.open_count());
      for (std::size_t fd = table_.next_open(0); fd != FdBitmap::npos; fd = table_.next_open(fd + 1)) {
        const Ref& ref = *table_.find(fd);
        out.push_back({static_cast<std::uint32_t>(fd), ref->kind(), table_.cloexec(fd), ref->status_flags(),
                       ref->raw(), ref->target()});
      }
    } catch (...) {
      out.clear();
    }
    return out;
  }

  std::size_t open_count() const noexcept {
    std::shared_lock lock(mu_);
    return table_.open_count();
  }
  std::size_t capacity() const noexcept {
    std::shared_lock lock(mu_);
    return table_.capacity();
  }
  std::size_t memory_bytes() const noexcept {
    std::shared_lock lock(mu_);
    return table_.memory_bytes();
  }
  std::size_t nr_open() const noexcept { return table_.nr_open(); }

 private:
  FilesState(std::shared_ptr<Store> store, const DescriptorTable<Handle>& table)
      : store_(std::move(store)), table_(table) {}

  std::size_t clamp(std::uint64_t nofile) const noexcept {
    return nofile < table_.nr_open() ? static_cast<std::size_t>(nofile) : table_.nr_open();
  }

  // Lowest free number >= start below nofile; the lock is held.
  Result<int> allocate(Ref ref, std::size_t start, std::uint64_t nofile, bool cloexec) noexcept {
    const std::size_t fd = table_.lowest_free(start, clamp(nofile));
    if (fd == FdBitmap::npos) return Errno::mfile;
    if (!table_.reserve(fd)) return Errno::nomem;
    table_.place(fd, std::move(ref), cloexec);
    return static_cast<int>(fd);
  }

  // dup2/dup3 once their argument checks are done.
  Result<int> dup3_unchecked(std::uint32_t oldfd, std::uint32_t newfd, bool cloexec, std::uint64_t nofile) noexcept {
    if (newfd >= nofile) return Errno::badf;
    Ref displaced;
    std::unique_lock lock(mu_);
    const Ref* ref = table_.find(oldfd);
    if (!ref) return Errno::badf;
    if (!table_.reserve(newfd)) return newfd >= table_.nr_open() ? Errno::badf : Errno::nomem;
    Ref copy = *ref;
    displaced = table_.take(newfd);
    table_.place(newfd, std::move(copy), cloexec);
    lock.unlock();
    return static_cast<int>(newfd);
  }

  std::shared_ptr<Store> store_;
  mutable std::shared_mutex mu_;
  DescriptorTable<Handle> table_;
};

extern template class FilesState<int>;
extern template class FilesState<std::uintptr_t>;

}  // namespace fdcore
