// Descriptors' kinds and the open file description they share.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "fdcore/errno.hpp"
#include "fdcore/linux_abi.hpp"

namespace fdcore {

// The closed set of objects a descriptor can name (LiteBox's Descriptor enum). Every kind is backed by one
// raw host value; the kind decides policy and what introspection shows.
enum class DescriptorKind : std::uint8_t {
  raw,          // a host-backed file, pipe, device, socket other than unix, ...
  eventfd,
  epoll,
  unix_socket,
};

std::string_view kind_name(DescriptorKind kind) noexcept;

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
};

template <typename Handle>
class RawDescriptorStore;

// An open file description: what dup'd and inherited descriptors share. The status flags live here
// (F_SETFL through one descriptor is seen through all its duplicates); FD_CLOEXEC lives in the table.
// Destroying the last reference releases the raw host value through the store's hook.
template <typename Handle>
class OpenFileDescription {
 public:
  OpenFileDescription(const OpenFileDescription&) = delete;
  OpenFileDescription& operator=(const OpenFileDescription&) = delete;
  ~OpenFileDescription();

  DescriptorKind kind() const noexcept { return kind_; }
  Handle raw() const noexcept { return raw_; }
  const std::string& target() const noexcept { return target_; }
  bool is_path() const noexcept { return (status_flags() & abi::o_path) != 0; }

  // F_GETFL.
  std::uint32_t status_flags() const noexcept { return status_flags_.load(std::memory_order_acquire); }

  // F_SETFL: only SETFL_MASK bits change (and O_ASYNC where the object has a fasync operation); O_PATH descriptions refuse (EBADF); O_DIRECT needs direct I/O
  // (EINVAL). Returns 0.
  Result<int> set_status_flags(std::uint64_t arg) noexcept {
    if (is_path()) return Errno::badf;
    const auto flags = static_cast<std::uint32_t>(arg);  // the kernel reads the argument as an int
    if ((flags & abi::o_direct) != 0 && !direct_io_) return Errno::inval;
    const std::uint32_t mask = fasync_ ? abi::setfl_mask | abi::o_async : abi::setfl_mask;
    std::uint32_t old = status_flags_.load(std::memory_order_relaxed);
    while (!status_flags_.compare_exchange_weak(old, (flags & mask) | (old & ~mask),
                                                std::memory_order_acq_rel, std::memory_order_relaxed)) {
    }
    return 0;
  }

 private:
  friend class RawDescriptorStore<Handle>;
  struct Private {};

 public:
  // Only the store makes these (it owns the raw value's registration); Private keeps it so.
  OpenFileDescription(Private, std::shared_ptr<RawDescriptorStore<Handle>> store, Handle raw,
                      OpenFileSpec spec) noexcept
      : store_(std::move(store)),
        raw_(raw),
        kind_(spec.kind),
        direct_io_(spec.direct_io),
        fasync_(spec.fasync),
        status_flags_(spec.open_flags & ~abi::open_only_flags),
        target_(std::move(spec.target)) {}

 private:
  std::shared_ptr<RawDescriptorStore<Handle>> store_;
  Handle raw_;
  DescriptorKind kind_;
  bool direct_io_;
  bool fasync_;
  std::atomic<std::uint32_t> status_flags_;
  std::string target_;
};

template <typename Handle>
using OpenFileRef = std::shared_ptr<OpenFileDescription<Handle>>;

}  // namespace fdcore
