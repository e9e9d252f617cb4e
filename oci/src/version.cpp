// Semantic versions (semver.org 2.0.0) as ociVersion uses them.
#include "oci/version.hpp"


namespace oci {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// A numeric identifier: digits, no leading zero unless it is "0", fits in unsigned.
std::optional<unsigned> number(std::string_view text) {
  if (text.empty() || text.size() > 9) return std::nullopt;
  if (text.size() > 1 && text.front() == '0') return std::nullopt;
  unsigned value = 0;
  for (const char c : text) {
    if (!is_digit(c)) return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  return value;
}

// Dot-separated identifiers of [0-9A-Za-z-], none empty.
bool identifiers(std::string_view text) {
  if (text.empty()) return false;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = text.find('.', start);
    const std::string_view id = text.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (id.empty()) return false;
    for (const char c : id) {
      if (!is_digit(c) && !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && c != '-') return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

}  // namespace

std::optional<SemanticVersion> parse_semantic_version(std::string_view text) {
  std::string_view core = text;
  std::string_view prerelease;
  if (const auto plus = core.find('+'); plus != std::string_view::npos) {
    if (!identifiers(core.substr(plus + 1))) return std::nullopt;
    core = core.substr(0, plus);
  }
  if (const auto dash = core.find('-'); dash != std::string_view::npos) {
    prerelease = core.substr(dash + 1);
    if (!identifiers(prerelease)) return std::nullopt;
    core = core.substr(0, dash);
  }
  const auto dot1 = core.find('.');
  if (dot1 == std::string_view::npos) return std::nullopt;
  const auto dot2 = core.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos) return std::nullopt;
  const auto major = number(core.substr(0, dot1));
  const auto minor = number(core.substr(dot1 + 1, dot2 - dot1 - 1));
  const auto patch = number(core.substr(dot2 + 1));
  if (!major || !minor || !patch) return std::nullopt;
  return SemanticVersion{*major, *minor, *patch, prerelease};
}

}  // namespace oci
