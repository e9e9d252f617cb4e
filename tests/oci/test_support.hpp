// Helpers shared by the oci tests: fixtures, JSON edits by pointer, and error lookups.
#pragma once

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include "oci/diagnostics.hpp"

namespace oci_test {

// The real-world and hand-written configs under tests/oci/data.
inline constexpr std::string_view kFixtures[] = {
    "runc-spec.json",          "runc-spec-rootless.json", "containerd-ctr-run.json",
    "kubernetes-pod-container.json", "windows-container.json",  "full-1.2.json",
    "full-1.3.json",
};

inline std::string read_fixture(std::string_view name) {
  std::ifstream in(std::string(OCI_TEST_DATA_DIR) + "/" + std::string(name), std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing fixture " << name;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline boost::json::value fixture_json(std::string_view name) { return boost::json::parse(read_fixture(name)); }

// Sets the value at a JSON pointer, creating the last member of an object if needed.
inline void set_at(boost::json::value& doc, std::string_view pointer, boost::json::value v) {
  const auto slash = pointer.rfind('/');
  const std::string_view parent = pointer.substr(0, slash);
  const std::string key(pointer.substr(slash + 1));
  boost::json::value& p = parent.empty() ? doc : doc.at_pointer(parent);
  if (p.is_object()) {
    p.as_object()[key] = std::move(v);
  } else {
    p.as_array().at(std::stoul(key)) = std::move(v);
  }
}

// Removes the member or element at a JSON pointer.
inline void erase_at(boost::json::value& doc, std::string_view pointer) {
  const auto slash = pointer.rfind('/');
  const std::string_view parent = pointer.substr(0, slash);
  const std::string key(pointer.substr(slash + 1));
  boost::json::value& p = parent.empty() ? doc : doc.at_pointer(parent);
  if (p.is_object()) {
    p.as_object().erase(key);
  } else {
    auto& a = p.as_array();
    a.erase(a.begin() + static_cast<std::ptrdiff_t>(std::stoul(key)));
  }
}

// Whether some diagnostic has exactly this pointer and a message containing `text`.
inline bool has_error(const oci::Diagnostics& ds, std::string_view pointer, std::string_view text) {
  for (const auto& d : ds) {
    if (d.pointer == pointer && d.message.find(text) != std::string::npos) return true;
  }
  return false;
}

}  // namespace oci_test
