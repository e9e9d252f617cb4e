// Private: a small reflection layer that reads and writes the model's structs with Boost.JSON. Each struct
// lists its members once (fields.hpp); reading collects type errors with JSON pointers, writing omits empty
// optional members as the spec's Go types do.
#pragma once

#include <boost/json.hpp>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

#include "oci/config.hpp"
#include "oci/diagnostics.hpp"
#include "oci/state.hpp"

namespace oci::detail {

namespace json = boost::json;

// How a member is treated when absent (reading) and when empty (writing).
enum class Presence {
  required,   // absent is an error; always written
  always,     // absent is fine; always written (Go members without omitempty)
  omit_empty  // absent is fine; not written when empty
};

// One member of a struct: its JSON name and where it lives. `raw` members hold any JSON as compact text.
template <typename C, typename M>
struct Field {
  std::string_view name;
  M C::*member;
  Presence presence;
  bool raw;
};

template <typename C, typename M>
constexpr Field<C, M> field(std::string_view name, M C::*member, Presence presence = Presence::omit_empty) {
  return {name, member, presence, false};
}
template <typename C>
constexpr Field<C, std::string> raw_field(std::string_view name, std::string C::*member) {
  return {name, member, Presence::omit_empty, true};
}

// Specialized in fields.hpp for every struct of the model: `static constexpr auto list()` returns a tuple
// of Field.
template <typename T>
struct Fields;

template <typename T>
concept Described = requires { Fields<T>::list(); };

template <typename T>
concept Integer = std::integral<T> && !std::same_as<T, bool>;

// Collects errors up to a limit; past it, one last error says the rest were dropped.
class ErrorSink {
 public:
  explicit ErrorSink(std::size_t max_errors) : max_(max_errors < 2 ? 2 : max_errors) {}
  void add(std::string pointer, std::string message);
  bool empty() const { return errors_.empty(); }
  Diagnostics take() { return std::move(errors_); }

 private:
  std::size_t max_;
  bool overflowed_ = false;
  Diagnostics errors_;
};

// "a string", "an array", ... for messages.
std::string_view kind_of(const json::value& v);
// `base` + "/" + escaped token.
std::string child(const std::string& base, std::string_view token);
std::string child(const std::string& base, std::size_t index);
// Logs an ignored member at debug level.
void note_unknown_member(const std::string& pointer);

// ---- what a value must be, for messages ----
template <typename T>
struct Expected {
  static std::string text() { return "an object"; }
};
template <>
struct Expected<bool> {
  static std::string text() { return "a boolean"; }
};
template <>
struct Expected<std::string> {
  static std::string text() { return "a string"; }
};
template <Integer I>
struct Expected<I> {
  static std::string text() {
    return "an integer between " + std::to_string(std::numeric_limits<I>::min()) + " and " +
           std::to_string(std::numeric_limits<I>::max());
  }
};
template <typename T>
std::string plural() {
  if constexpr (std::same_as<T, std::string>) return "strings";
  else if constexpr (Integer<T>) return "integers";
  else if constexpr (std::same_as<T, bool>) return "booleans";
  else return "objects";
}
template <typename T>
struct Expected<std::vector<T>> {
  static std::string text() { return "an array of " + plural<T>(); }
};
template <typename T>
struct Expected<std::map<std::string, T>> {
  static std::string text() { return "an object whose members are " + plural<T>(); }
};

// ---- reading ----
void read(const json::value& v, bool& out, const std::string& ptr, ErrorSink& sink);
void read(const json::value& v, std::string& out, const std::string& ptr, ErrorSink& sink);
void read(const json::value& v, Status& out, const std::string& ptr, ErrorSink& sink);
template <Integer I>
void read(const json::value& v, I& out, const std::string& ptr, ErrorSink& sink);
template <typename T>
void read(const json::value& v, std::optional<T>& out, const std::string& ptr, ErrorSink& sink);
template <typename T>
void read(const json::value& v, std::vector<T>& out, const std::string& ptr, ErrorSink& sink);
template <typename T>
void read(const json::value& v, std::map<std::string, T>& out, const std::string& ptr, ErrorSink& sink);
template <Described T>
void read(const json::value& v, T& out, const std::string& ptr, ErrorSink& sink);

template <Integer I>
void read(const json::value& v, I& out, const std::string& ptr, ErrorSink& sink) {
  using Lim = std::numeric_limits<I>;
  if (v.is_int64()) {
    const std::int64_t x = v.get_int64();
    if constexpr (std::is_signed_v<I>) {
      if (x >= static_cast<std::int64_t>(Lim::min()) && x <= static_cast<std::int64_t>(Lim::max())) {
        out = static_cast<I>(x);
        return;
      }
    } else {
      if (x >= 0 && static_cast<std::uint64_t>(x) <= static_cast<std::uint64_t>(Lim::max())) {
        out = static_cast<I>(x);
        return;
      }
    }
    sink.add(ptr, "must be " + Expected<I>::text() + ", got " + std::to_string(x));
    return;
  }
  if (v.is_uint64()) {
    const std::uint64_t x = v.get_uint64();
    if (x <= static_cast<std::uint64_t>(Lim::max())) {
      out = static_cast<I>(x);
      return;
    }
    sink.add(ptr, "must be " + Expected<I>::text() + ", got " + std::to_string(x));
    return;
  }
  if (v.is_double()) {
    sink.add(ptr, "must be " + Expected<I>::text() + ", got " + json::serialize(v) +
                      " (fractions, exponents and numbers beyond 64 bits are not accepted)");
    return;
  }
  sink.add(ptr, "must be " + Expected<I>::text() + ", got " + std::string(kind_of(v)));
}

template <typename T>
void read(const json::value& v, std::optional<T>& out, const std::string& ptr, ErrorSink& sink) {
  if (v.is_null()) {
    out.reset();
    return;
  }
  out.emplace();
  read(v, *out, ptr, sink);
}

template <typename T>
void read(const json::value& v, std::vector<T>& out, const std::string& ptr, ErrorSink& sink) {
  out.clear();
  if (v.is_null()) return;
  if (!v.is_array()) {
    sink.add(ptr, "must be " + Expected<std::vector<T>>::text() + ", got " + std::string(kind_of(v)));
    return;
  }
  const json::array& a = v.get_array();
  out.resize(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) read(a[i], out[i], child(ptr, i), sink);
}

template <typename T>
void read(const json::value& v, std::map<std::string, T>& out, const std::string& ptr, ErrorSink& sink) {
  out.clear();
  if (v.is_null()) return;
  if (!v.is_object()) {
    sink.add(ptr, "must be " + Expected<std::map<std::string, T>>::text() + ", got " +
                      std::string(kind_of(v)));
    return;
  }
  for (const auto& kv : v.get_object()) {
    const std::string key(kv.key());
    read(kv.value(), out[key], child(ptr, key), sink);
  }
}

template <typename C, typename M>
void read_field(const json::object& obj, C& out, const Field<C, M>& f, const std::string& ptr,
                ErrorSink& sink) {
  const json::value* v = obj.if_contains(f.name);
  if (v == nullptr || v->is_null()) {
    if (f.presence == Presence::required) sink.add(child(ptr, f.name), "is required but missing");
    return;
  }
  if constexpr (std::same_as<M, std::string>) {
    if (f.raw) {
      out.*(f.member) = json::serialize(*v);
      return;
    }
  }
  read(*v, out.*(f.member), child(ptr, f.name), sink);
}

template <Described T>
void read(const json::value& v, T& out, const std::string& ptr, ErrorSink& sink) {
  if (!v.is_object()) {
    sink.add(ptr, "must be an object, got " + std::string(kind_of(v)));
    return;
  }
  const json::object& obj = v.get_object();
  constexpr auto fields = Fields<T>::list();
  std::apply([&](const auto&... f) { (read_field(obj, out, f, ptr, sink), ...); }, fields);
  for (const auto& kv : obj) {
    const bool known = std::apply([&](const auto&... f) { return ((f.name == kv.key()) || ...); }, fields);
    if (!known) note_unknown_member(child(ptr, kv.key()));
  }
}

// ---- writing ----
json::value write(bool b);
json::value write(const std::string& s);
json::value write(Status s);
template <Integer I>
json::value write(I i);
template <typename T>
json::value write(const std::optional<T>& o);
template <typename T>
json::value write(const std::vector<T>& vec);
template <typename T>
json::value write(const std::map<std::string, T>& map);
template <Described T>
json::value write(const T& value);

template <Integer I>
json::value write(I i) {
  if constexpr (std::is_signed_v<I>) return json::value(static_cast<std::int64_t>(i));
  else return json::value(static_cast<std::uint64_t>(i));
}
template <typename T>
json::value write(const std::optional<T>& o) {
  return o ? write(*o) : json::value(nullptr);
}
template <typename T>
json::value write(const std::vector<T>& vec) {
  json::array a;
  a.reserve(vec.size());
  for (const auto& x : vec) a.push_back(write(x));
  return a;
}
template <typename T>
json::value write(const std::map<std::string, T>& map) {
  json::object o;
  o.reserve(map.size());
  for (const auto& [k, x] : map) o.emplace(k, write(x));
  return o;
}

template <typename T>
bool is_empty(const T& x) {
  if constexpr (std::same_as<T, bool>) return !x;
  else if constexpr (Integer<T>) return x == 0;
  else if constexpr (requires { x.has_value(); }) return !x.has_value();
  else if constexpr (requires { x.empty(); }) return x.empty();
  else return false;
}

// Raw JSON text back into a value; text that is not JSON (only possible if set by hand) stays a string.
json::value raw_to_value(const std::string& text);

template <Described T>
json::value write(const T& value) {
  json::object o;
  std::apply(
      [&](const auto&... f) {
        (
            [&] {
              const auto& m = value.*(f.member);
              if (f.presence == Presence::omit_empty && is_empty(m)) return;
              if constexpr (std::same_as<std::decay_t<decltype(m)>, std::string>) {
                if (f.raw) {
                  o.emplace(f.name, raw_to_value(m));
                  return;
                }
              }
              o.emplace(f.name, write(m));
            }(),
            ...);
      },
      Fields<T>::list());
  return o;
}

// ---- documents ----

// Parses text under limits into a value; on failure adds an error with an empty pointer and returns null.
std::optional<json::value> parse_document(std::string_view text, const ParseLimits& limits, ErrorSink& sink);

// Serializes a value in the given style.
std::string serialize(const json::value& v, JsonStyle style);

}  // namespace oci::detail
