// Private: shared helpers of the validation rules.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "oci/known_values.hpp"
#include "oci/spec.hpp"
#include "oci/validate.hpp"

namespace oci::detail {

// Collects the errors and warnings of one validate() call, each list capped at `max` entries (the last
// one then says the rest were dropped). `windows` says which platform's rules apply.
class Checker {
 public:
  Checker(bool windows, std::size_t max) : windows_(windows), max_(max < 2 ? 2 : max) {}
  bool windows() const { return windows_; }
  void error(std::string pointer, std::string message) { add(result_.errors, std::move(pointer), std::move(message)); }
  void warning(std::string pointer, std::string message) {
    add(result_.warnings, std::move(pointer), std::move(message));
  }
  Validation take() { return std::move(result_); }

 private:
  void add(Diagnostics& list, std::string pointer, std::string message) {
    if (list.size() >= max_) return;
    if (list.size() + 1 == max_) {
      list.push_back({"", "too many problems (limit " + std::to_string(max_) + "); the rest are not reported"});
      return;
    }
    list.push_back({std::move(pointer), std::move(message)});
  }

  bool windows_;
  std::size_t max_;
  Validation result_;
};

// The text as a JSON string literal, for messages ("foo" with escapes).
std::string quoted(std::string_view text);
// "a, b or c" from a list of names.
std::string one_of(known::Names names);
// `base` + "/" + escaped token / index.
std::string at(const std::string& base, std::string_view token);
std::string at(const std::string& base, std::size_t index);

// "/..." (POSIX absolute path).
bool is_posix_absolute(std::string_view path);
// "C:\...", "C:/...", "\\server\share..." or "\\?\..." (Windows absolute path).
bool is_windows_absolute(std::string_view path);
// A Windows volume GUID path: \\?\Volume{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}\ .
bool is_volume_guid_path(std::string_view path);
// A Linux CPU or memory-node list such as "0-3,7" (spaces allowed around items).
bool is_cpu_list(std::string_view list);

// Reports a path that is not absolute for the checker's platform (or for POSIX when `posix_only`).
void check_absolute(std::string_view path, const std::string& pointer, Checker& c, bool posix_only = false);
// Each entry must be NAME=value with a non-empty NAME.
void check_env(const std::vector<std::string>& env, const std::string& pointer, Checker& c);
// Each mapping must map at least one ID.
void check_id_mappings(const std::vector<IdMapping>& mappings, const std::string& pointer, Checker& c);

// The rules of one section each (validate_*.cpp).
void check_process(const Process& process, Checker& c);
void check_linux(const Linux& linux_config, Checker& c);
void check_resources(const LinuxResources& resources, const std::string& pointer, Checker& c);
void check_seccomp(const Seccomp& seccomp, const std::string& pointer, Checker& c);
void check_windows(const Windows& windows, Checker& c);
void check_vm(const Vm& vm, Checker& c);

}  // namespace oci::detail
