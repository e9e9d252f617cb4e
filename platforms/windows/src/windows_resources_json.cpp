// UpdateTask's WindowsResources JSON (the oci module parses whole configs and Linux resources; the Windows
// section on its own is read here, with the same members and ranges as config.json's windows.resources).
#include "litebox/windows/job.hpp"

#include <boost/json.hpp>
#include <cerrno>

namespace litebox::windows_host {
namespace {

platform::Error bad(const std::string& pointer, const std::string& what) {
  return platform::Error{EINVAL, "update resources: " + pointer + ": " + what};
}

template <typename T>
platform::Expected<std::optional<T>> unsigned_member(const boost::json::object& o, const char* name,
                                                     const std::string& at, std::uint64_t max) {
  const auto* v = o.if_contains(name);
  if (v == nullptr || v->is_null()) return std::optional<T>{};
  std::uint64_t n = 0;
  if (v->is_uint64()) n = v->as_uint64();
  else if (v->is_int64() && v->as_int64() >= 0) n = static_cast<std::uint64_t>(v->as_int64());
  else return bad(at + "/" + name, "must be a non-negative integer");
  if (n > max) return bad(at + "/" + name, "must be at most " + std::to_string(max));
  return std::optional<T>{static_cast<T>(n)};
}

const boost::json::object* section(const boost::json::object& o, const char* name, bool& wrong_type) {
  const auto* v = o.if_contains(name);
  if (v == nullptr || v->is_null()) return nullptr;
  if (!v->is_object()) wrong_type = true;
  return v->if_object();
}

}  // namespace

platform::Expected<oci::WindowsResources> parse_windows_resources(const std::string& json) {
  boost::system::error_code ec;
  boost::json::value doc = boost::json::parse(json, ec);
  if (ec) return bad("", "not JSON: " + ec.message());
  if (!doc.is_object()) return bad("", "must be an object (WindowsResources)");
  const auto& root = doc.as_object();
  oci::WindowsResources out;
  bool wrong = false;
  if (const auto* mem = section(root, "memory", wrong)) {
    auto limit = unsigned_member<std::uint64_t>(*mem, "limit", "/memory", UINT64_MAX);
    if (!limit) return std::move(limit).error();
    out.memory = oci::WindowsMemoryResources{limit.value()};
  }
  if (wrong) return bad("/memory", "must be an object");
  if (const auto* cpu = section(root, "cpu", wrong)) {
    oci::WindowsCpuResources c;
    auto count = unsigned_member<std::uint64_t>(*cpu, "count", "/cpu", UINT64_MAX);
    auto shares = unsigned_member<std::uint16_t>(*cpu, "shares", "/cpu", 10000);
    auto maximum = unsigned_member<std::uint16_t>(*cpu, "maximum", "/cpu", 10000);
    if (!count) return std::move(count).error();
    if (!shares) return std::move(shares).error();
    if (!maximum) return std::move(maximum).error();
    c.count = count.value();
    c.shares = shares.value();
    c.maximum = maximum.value();
    if (c.count && *c.count == 0) return bad("/cpu/count", "must be at least 1");
    if (c.maximum && *c.maximum == 0) return bad("/cpu/maximum", "must be between 1 and 10000");
    out.cpu = c;
  }
  if (wrong) return bad("/cpu", "must be an object");
  if (const auto* storage = section(root, "storage", wrong)) {
    (void)storage;
    out.storage = oci::WindowsStorageResources{};
  }
  if (wrong) return bad("/storage", "must be an object");
  return out;
}

}  // namespace litebox::windows_host
