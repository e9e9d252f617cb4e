// Linux errno numbers and an errno-style result type.
// The values are Linux's own (asm-generic/errno-base.h) so that the core's answers can be handed to a Linux
// guest unchanged; they are spelled out here because fdcore's interface includes no OS header.
#pragma once

#include <cstdint>
#include <string_view>
#include <concepts>
#include <type_traits>
#include <utility>
#include <variant>

namespace fdcore {

enum class Errno : std::int32_t {
  perm = 1,
  noent = 2,
  intr = 4,
  badf = 9,
  again = 11,
  nomem = 12,
  acces = 13,
  busy = 16,
  exist = 17,
  inval = 22,
  nfile = 23,
  mfile = 24,
  nosys = 38,
  opnotsupp = 95,
};

// "EBADF", "EMFILE", ...; "E?" for a number this enum does not name.
std::string_view errno_name(Errno e) noexcept;

// A system call's outcome: a value, or the errno the guest sees. Never throws.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) noexcept(std::is_nothrow_move_constructible_v<T>)  // NOLINT: implicit, like a syscall's return
      : v_(std::in_place_index<0>, std::move(value)) {}
  Result(Errno e) noexcept : v_(std::in_place_index<1>, e) {}  // NOLINT

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }
  // The value; only when ok().
  const T& value() const& noexcept { return *std::get_if<0>(&v_); }
  T&& value() && noexcept { return std::move(*std::get_if<0>(&v_)); }
  // The errno; only when !ok().
  Errno error() const noexcept { return ok() ? Errno{} : *std::get_if<1>(&v_); }
  // Kernel convention for integral results: the value, or -errno.
  std::int64_t raw() const noexcept
    requires std::is_integral_v<T>
  {
    return ok() ? static_cast<std::int64_t>(value()) : -static_cast<std::int64_t>(error());
  }

  friend bool operator==(const Result& a, const Result& b) noexcept
    requires std::equality_comparable<T>
  {
    return a.v_ == b.v_;
  }

 private:
  std::variant<T, Errno> v_;
};

}  // namespace fdcore
