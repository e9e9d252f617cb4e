// Loading a bundle's config.json with size and depth limits.
#include "oci/bundle.hpp"

#include <exception>
#include <fstream>
#include <string>
#include <system_error>

namespace oci {

Result<Spec> load_bundle(const std::filesystem::path& bundle, const ParseLimits& limits) {
  Result<Spec> result;
  try {
    const std::filesystem::path file = bundle / "config.json";
    const std::string name = file.string();
    std::error_code ec;
    const auto status = std::filesystem::status(file, ec);
    if (ec || !std::filesystem::exists(status)) {
      result.errors.push_back({"", name + ": cannot be read: " + (ec ? ec.message() : "no such file")});
      return result;
    }
    if (!std::filesystem::is_regular_file(status)) {
      result.errors.push_back({"", name + ": is not a regular file"});
      return result;
    }
    const auto size = std::filesystem::file_size(file, ec);
    if (ec) {
      result.errors.push_back({"", name + ": cannot be read: " + ec.message()});
      return result;
    }
    if (size > limits.max_bytes) {
      result.errors.push_back({"", name + ": is " + std::to_string(size) + " bytes, more than the limit of " +
                                       std::to_string(limits.max_bytes) + " bytes"});
      return result;
    }
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      result.errors.push_back({"", name + ": cannot be opened"});
      return result;
    }
    // Read at most one byte past the limit: the file may have grown since it was measured.
    std::string text(static_cast<std::size_t>(size) + 1, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    if (in.bad()) {
      result.errors.push_back({"", name + ": read failed"});
      return result;
    }
    result = load_config(text, limits);
    for (auto& d : result.errors) {
      if (d.pointer.empty()) d.message = name + ": " + d.message;
    }
  } catch (const std::exception& e) {
    result.value.reset();
    result.errors.push_back({"", std::string("bundle could not be loaded: ") + e.what()});
  }
  return result;
}

}  // namespace oci
