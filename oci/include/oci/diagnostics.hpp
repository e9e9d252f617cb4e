// Diagnostics: what the oci module reports instead of throwing. Every problem names the JSON pointer
// (RFC 6901) of the offending value in the document and says what is wrong with it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace oci {

// One problem found in a document. `pointer` is "" for the document as a whole.
struct Diagnostic {
  std::string pointer;
  std::string message;

  bool operator==(const Diagnostic&) const = default;
  // "<pointer>: <message>", or "<document>: <message>" for the whole document.
  std::string to_string() const;
};

using Diagnostics = std::vector<Diagnostic>;

// The outcome of reading or checking a document: the value when it could be read, every error, and
// warnings (things a runtime logs but accepts, such as a capability this build does not know).
// `ok()` means the value is present and there is no error.
template <typename T>
struct Result {
  std::optional<T> value;
  Diagnostics errors;
  Diagnostics warnings;

  bool ok() const { return value.has_value() && errors.empty(); }
};

// All diagnostics joined, one per line, for logs and exception-free error reporting.
std::string format_diagnostics(const Diagnostics& diagnostics);

// Escapes a member name for use as one reference token of a JSON pointer ("~" -> "~0", "/" -> "~1").
std::string escape_pointer_token(std::string_view token);

}  // namespace oci
