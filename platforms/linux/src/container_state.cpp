#include "litebox/linux/container_state.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <chrono>
#include <ctime>
#include <fstream>
#include <sstream>

namespace litebox::linux_host {
namespace json = boost::json;

std::string_view to_string(ContainerStatus status) {
  switch (status) {
    case ContainerStatus::creating: return "creating";
    case ContainerStatus::created: return "created";
    case ContainerStatus::running: return "running";
    case ContainerStatus::paused: return "paused";
    case ContainerStatus::stopped: return "stopped";
  }
  return "unknown";
}

std::filesystem::path container_dir(const std::filesystem::path& root, std::string_view id) {
  return root / std::string(id);
}

Status check_container_id(std::string_view id) {
  if (id.empty()) return Error{EINVAL, "container id must not be empty"};
  if (id.size() > 1024) return Error{EINVAL, "container id is longer than 1024 bytes"};
  if (id.front() == '.') return Error{EINVAL, "invalid container id \"" + std::string(id) + "\": starts with a dot"};
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '+' || c == '-' || c == '.';
    if (!ok) {
      return Error{EINVAL, "invalid container id \"" + std::string(id) +
                               "\": only letters, digits and _ + - . are allowed"};
    }
  }
  return {};
}

Status save_record(const std::filesystem::path& dir, const ContainerRecord& r) {
  json::object annotations;
  for (const auto& [k, v] : r.annotations) annotations[k] = v;
  const json::object doc{
      {"id", r.id},
      {"bundle", r.bundle},
      {"rootfs", r.rootfs},
      {"init_pid", r.init_pid},
      {"init_start_time", r.init_start_time},
      {"created", r.created},
      {"cgroup_path", r.cgroup_path},
      {"annotations", std::move(annotations)},
  };
  // Write-then-rename: a reader never sees half a file, even if we die mid-write.
  const auto tmp = dir / "state.json.tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << json::serialize(doc);
    if (!out.flush()) return Error::from_errno("write " + tmp.string());
  }
  std::error_code ec;
  std::filesystem::rename(tmp, dir / "state.json", ec);
  if (ec) return Error{ec.value(), "rename " + tmp.string() + ": " + ec.message()};
  return {};
}

Expected<ContainerRecord> load_record(const std::filesystem::path& dir) {
  const auto path = dir / "state.json";
  std::ifstream in(path);
  if (!in) return Error::from_errno("read " + path.string());
  std::stringstream text;
  text << in.rdbuf();
  json::error_code ec;
  const json::value doc = json::parse(text.str(), ec);
  if (ec || !doc.is_object()) return Error{EINVAL, path.string() + ": not a state document: " + ec.message()};
  const auto& o = doc.as_object();
  ContainerRecord r;
  try {
    r.id = json::value_to<std::string>(o.at("id"));
    r.bundle = json::value_to<std::string>(o.at("bundle"));
    r.rootfs = json::value_to<std::string>(o.at("rootfs"));
    r.init_pid = json::value_to<pid_t>(o.at("init_pid"));
    r.init_start_time = json::value_to<std::uint64_t>(o.at("init_start_time"));
    r.created = json::value_to<std::string>(o.at("created"));
    r.cgroup_path = json::value_to<std::string>(o.at("cgroup_path"));
    for (const auto& [k, v] : o.at("annotations").as_object()) r.annotations[k] = json::value_to<std::string>(v);
  } catch (const std::exception& e) {
    return Error{EINVAL, path.string() + ": damaged state document: " + e.what()};
  }
  return r;
}

std::optional<std::uint64_t> process_start_time(pid_t pid) {
  if (pid <= 0) return std::nullopt;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!std::getline(in, text)) return std::nullopt;
  // The command name (field 2) may hold spaces and parentheses: fields after it start at the last ')'.
  const auto close = text.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(text.substr(close + 2));
  std::string state;
  rest >> state;
  if (state == "Z" || state == "X") return std::nullopt;
  std::string skip;
  for (int field = 4; field < 22; ++field) rest >> skip;  // fields 4..21
  std::uint64_t start = 0;
  if (!(rest >> start)) return std::nullopt;
  return start;
}

std::string rfc3339_now() {
  const auto now = std::chrono::system_clock::now();
  const auto secs = std::chrono::system_clock::to_time_t(now);
  const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count() %
                     1'000'000'000;
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[64];
  const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char frac[16];
  std::snprintf(frac, sizeof frac, ".%09lldZ", static_cast<long long>(nanos));
  return std::string(buf, n) + frac;
}

}  // namespace litebox::linux_host
