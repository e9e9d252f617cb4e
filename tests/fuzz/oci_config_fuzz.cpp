// libFuzzer target: config.json, state.json and features.json are untrusted input. Any bytes go through
// parsing and validation; nothing may crash, leak or hang, every error must name a JSON pointer and say
// something, and whatever parses must survive writing and reading back unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>
#include <string_view>

#include "oci/config.hpp"
#include "oci/features.hpp"
#include "oci/state.hpp"
#include "oci/validate.hpp"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

void check_diagnostics(const oci::Diagnostics& ds) {
  for (const auto& d : ds) {
    check(d.pointer.empty() || d.pointer.front() == '/');
    check(!d.message.empty());
  }
}

// Output may be larger than the input (indentation): re-read without the size cap.
oci::ParseLimits unbounded() {
  oci::ParseLimits l;
  l.max_bytes = std::numeric_limits<std::size_t>::max();
  return l;
}

template <typename T, typename Parse>
void check_round_trip(const T& value, Parse parse) {
  for (const auto style : {oci::JsonStyle::compact, oci::JsonStyle::indented}) {
    const std::string text = oci::to_json(value, style);
    const auto again = parse(text);
    check(again.value.has_value());
    check(*again.value == value);
    check(oci::to_json(*again.value, style) == text);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  const auto config = oci::parse_config(text);
  check_diagnostics(config.errors);
  check(config.value.has_value() == config.errors.empty());
  if (config.value) {
    const oci::Validation v = oci::validate(*config.value);
    check_diagnostics(v.errors);
    check_diagnostics(v.warnings);
    check_round_trip(*config.value, [](std::string_view t) { return oci::parse_config(t, unbounded()); });
    // Validation depends only on the model, so the written-back config validates the same way.
    check(oci::validate(*oci::parse_config(oci::to_json(*config.value), unbounded()).value).errors == v.errors);
  }

  const auto state = oci::parse_state(text);
  check_diagnostics(state.errors);
  if (state.value) {
    check_round_trip(*state.value, [](std::string_view t) { return oci::parse_state(t, unbounded()); });
  }

  const auto features = oci::parse_features(text);
  check_diagnostics(features.errors);
  if (features.value) {
    check_round_trip(*features.value, [](std::string_view t) { return oci::parse_features(t, unbounded()); });
  }
  return 0;
}
