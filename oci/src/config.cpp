// config.json: parsing into the model and writing it back.
#include "oci/config.hpp"

#include <exception>

#include "codec.hpp"
#include "fields.hpp"
#include "oci/validate.hpp"

namespace oci {

Result<Spec> parse_config(std::string_view json, const ParseLimits& limits) {
  Result<Spec> result;
  try {
    detail::ErrorSink sink(limits.max_errors);
    if (auto doc = detail::parse_document(json, limits, sink)) {
      Spec spec;
      detail::read(*doc, spec, "", sink);
      if (sink.empty()) result.value = std::move(spec);
    }
    result.errors = sink.take();
  } catch (const std::exception& e) {
    result.value.reset();
    result.errors.push_back({"", std::string("could not be read: ") + e.what()});
  }
  return result;
}

Result<Spec> load_config(std::string_view json, const ParseLimits& limits) {
  Result<Spec> result = parse_config(json, limits);
  if (!result.value) return result;
  try {
    Validation v = validate(*result.value, limits.max_errors);
    result.errors = std::move(v.errors);
    result.warnings = std::move(v.warnings);
  } catch (const std::exception& e) {
    result.errors.push_back({"", std::string("could not be validated: ") + e.what()});
  }
  if (!result.errors.empty()) result.value.reset();
  return result;
}

std::string to_json(const Spec& spec, JsonStyle style) {
  return detail::serialize(detail::write(spec), style);
}

}  // namespace oci
