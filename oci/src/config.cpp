// config.json: parsing into the model and writing it back.
#include "oci/config.hpp"

#include <exception>

#include "codec.hpp"
#include "fields.hpp"
#include "oci/validate.hpp"

namespace oci {

namespace {

template <typename T>
Result<T> parse_document_as(std::string_view json, const ParseLimits& limits) {
  Result<T> result;
  try {
    detail::ErrorSink sink(limits.max_errors);
    if (auto doc = detail::parse_document(json, limits, sink)) {
      T value;
      detail::read(*doc, value, "", sink);
      if (sink.empty()) result.value = std::move(value);
    }
    result.errors = sink.take();
  } catch (const std::exception& e) {
    result.value.reset();
    result.errors.push_back({"", std::string("could not be read: ") + e.what()});
  }
  return result;
}

}  // namespace

Result<Spec> parse_config(std::string_view json, const ParseLimits& limits) {
  return parse_document_as<Spec>(json, limits);
}

Result<Process> parse_process(std::string_view json, const ParseLimits& limits) {
  return parse_document_as<Process>(json, limits);
}

Result<LinuxResources> parse_linux_resources(std::string_view json, const ParseLimits& limits) {
  return parse_document_as<LinuxResources>(json, limits);
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
