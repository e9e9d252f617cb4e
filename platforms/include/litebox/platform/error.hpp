// Errors of every platform: an errno-style code (0 when the failure is not a system call's; Windows errors
// are mapped to the errno a Linux caller would expect: ENOENT, EACCES, EINVAL, ENOSYS, ...) and a message a
// person can act on, e.g. `exec: "foo": executable file not found in $PATH`. No exceptions cross the
// platform's interface.
#pragma once

#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace litebox::platform {

struct Error {
  int code = 0;  // errno, or 0
  std::string message;

  // `what` followed by the text of errno, with errno as the code: "mkdir /sys/fs/cgroup/x: Permission denied".
  static Error from_errno(const std::string& what);
  static Error from_errno(const std::string& what, int code);
  // Prefixes the message with context: "create cgroup: " + message.
  Error& context(const std::string& where) {
    message = where + ": " + message;
    return *this;
  }
};

// A value or an Error.
template <typename T = std::monostate>
class [[nodiscard]] Expected {
 public:
  Expected() requires std::is_same_v<T, std::monostate> : v_(std::in_place_index<0>) {}
  Expected(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit on purpose
  Expected(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }
  const T& value() const& { return std::get<0>(v_); }
  T& value() & { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

using Status = Expected<>;

}  // namespace litebox::platform
