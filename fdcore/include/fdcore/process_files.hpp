// A process's view of its descriptors: the FilesState it uses (shared with its CLONE_FILES peers) and its
// soft RLIMIT_NOFILE. These are the descriptor system calls as the guest makes them.
//
// A ProcessFiles is used by one caller at a time (the core serves one call of a task at once); the
// FilesState behind it is what concurrent tasks share, and it is thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "fdcore/files_state.hpp"

namespace fdcore {

template <typename Handle>
class ProcessFiles {
 public:
  using State = FilesState<Handle>;
  using Ref = OpenFileRef<Handle>;

  // Linux's default soft limit for a new session (INR_OPEN_CUR).
  static constexpr std::uint64_t kDefaultNofile = 1024;

  ProcessFiles(std::shared_ptr<State> files, std::uint64_t nofile = kDefaultNofile) noexcept
      : files_(std::move(files)), nofile_(nofile) {}

  // A fresh, empty table for a new container's init.
  static ProcessFiles create(std::shared_ptr<RawDescriptorStore<Handle>> store,
                             std::uint64_t nofile = kDefaultNofile,
                             std::size_t nr_open = abi::nr_open_default) {
    return ProcessFiles(std::make_shared<State>(std::move(store), nr_open), nofile);
  }

  const std::shared_ptr<State>& files() const noexcept { return files_; }
  // True while another task shares this table (CLONE_FILES).
  bool shared() const noexcept { return files_.use_count() > 1; }

  std::uint64_t nofile() const noexcept { return nofile_; }
  // setrlimit(RLIMIT_NOFILE) soft value: EPERM above fs.nr_open, as the kernel says.
  Result<int> set_nofile(std::uint64_t soft) noexcept {
    if (soft > files_->nr_open()) return Errno::perm;
    nofile_ = soft;
    return 0;
  }

  Result<int> open(Handle raw, OpenFileSpec spec) noexcept { return files_->open(raw, std::move(spec), nofile_); }
  Result<int> install(Ref ref, std::uint32_t open_flags) noexcept {
    return files_->install(std::move(ref), open_flags, nofile_);
  }
  Result<int> close(std::uint32_t fd) noexcept { return files_->close(fd); }
  Result<int> dup(std::uint32_t fd) noexcept { return files_->dup(fd, nofile_); }
  Result<int> dup2(std::uint32_t oldfd, std::uint32_t newfd) noexcept { return files_->dup2(oldfd, newfd, nofile_); }
  Result<int> dup3(std::uint32_t oldfd, std::uint32_t newfd, std::int32_t flags) noexcept {
    return files_->dup3(oldfd, newfd, flags, nofile_);
  }
  Result<int> fcntl(std::uint32_t fd, std::uint32_t cmd, std::uint64_t arg) noexcept {
    return files_->fcntl(fd, cmd, arg, nofile_);
  }

  // close_range(2), CLOSE_RANGE_UNSHARE included: a shared table is copied first, so the closing is not
  // seen by the tasks it was shared with.
  Result<int> close_range(std::uint32_t first, std::uint32_t last, std::uint32_t flags) noexcept {
    if ((flags & ~(abi::close_range_unshare | abi::close_range_cloexec)) != 0) return Errno::inval;
    if (first > last) return Errno::inval;
    if ((flags & abi::close_range_unshare) != 0) {
      if (auto r = unshare(); !r) return r;
    }
    return files_->close_range(first, last, flags);
  }

  // unshare(CLONE_FILES): a private copy when the table is shared. ENOMEM leaves it shared.
  Result<int> unshare() noexcept {
    if (!shared()) return 0;
    auto copy = files_->copy();
    if (!copy) return Errno::nomem;
    files_ = std::move(copy);
    return 0;
  }

  // clone/fork/vfork: with CLONE_FILES the child shares this table, without it gets a copy. The child
  // inherits the soft limit. ENOMEM when the copy cannot be made.
  Result<ProcessFiles> clone(bool clone_files) const noexcept {
    if (clone_files) return ProcessFiles(files_, nofile_);
    auto copy = files_->copy();
    if (!copy) return Errno::nomem;
    return ProcessFiles(std::move(copy), nofile_);
  }

  // execve: the table is unshared (the kernel's unshare_files in begin_new_exec), then every FD_CLOEXEC
  // descriptor closes. ENOMEM leaves the table as it was (execve fails before the point of no return).
  Result<int> exec() noexcept {
    if (auto r = unshare(); !r) return r;
    files_->close_on_exec();
    return 0;
  }

  int lowest_free(std::uint32_t start = 0) const noexcept { return files_->lowest_free(start, nofile_); }
  // get: an owning reference (two atomic operations with its drop); raw and view read without any.
  Result<Ref> get(std::uint32_t fd) const noexcept { return files_->get(fd); }
  Result<Handle> raw(std::uint32_t fd) const noexcept { return files_->raw(fd); }
  Result<DescriptorView<Handle>> view(std::uint32_t fd) const noexcept { return files_->view(fd); }
  std::vector<DescriptorInfo<Handle>> list() const noexcept { return files_->list(); }

 private:
  std::shared_ptr<State> files_;
  std::uint64_t nofile_;
};

extern template class ProcessFiles<int>;
extern template class ProcessFiles<std::uintptr_t>;

}  // namespace fdcore
