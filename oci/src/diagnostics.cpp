// Diagnostics: formatting and JSON-pointer escaping.
#include "oci/diagnostics.hpp"

namespace oci {

std::string Diagnostic::to_string() const {
  return (pointer.empty() ? std::string("<document>") : pointer) + ": " + message;
}

std::string format_diagnostics(const Diagnostics& diagnostics) {
  std::string out;
  for (const auto& d : diagnostics) {
    out += d.to_string();
    out += '\n';
  }
  return out;
}

std::string escape_pointer_token(std::string_view token) {
  std::string out;
  out.reserve(token.size());
  for (const char c : token) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

}  // namespace oci
