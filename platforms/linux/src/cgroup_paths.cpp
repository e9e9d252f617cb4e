// Host detection and cgroupsPath resolution.
#include <algorithm>
#include <optional>
#include <spdlog/spdlog.h>

#include "cgroup_files.hpp"
#include "litebox/linux/cgroups.hpp"

namespace litebox::linux_host {

namespace files = cgroup_files;

const char* to_string(CgroupMode mode) {
  switch (mode) {
    case CgroupMode::v1: return "v1";
    case CgroupMode::v2: return "v2";
    case CgroupMode::hybrid: return "hybrid";
  }
  return "?";
}

bool CgroupHierarchy::has_controller(std::string_view controller) const {
  return std::find(controllers.begin(), controllers.end(), controller) != controllers.end();
}

namespace {

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape_mountinfo(std::string_view field) {
  std::string out;
  for (std::size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size()) {
      const auto octal = field.substr(i + 1, 3);
      if (std::all_of(octal.begin(), octal.end(), [](char c) { return c >= '0' && c <= '7'; })) {
        out += static_cast<char>((octal[0] - '0') * 64 + (octal[1] - '0') * 8 + (octal[2] - '0'));
        i += 3;
        continue;
      }
    }
    out += field[i];
  }
  return out;
}

struct MountEntry {
  std::string root;
  std::string mount_point;
  std::string fs_type;
  std::vector<std::string> super_options;
};

std::vector<MountEntry> cgroup_mounts(std::string_view mountinfo) {
  std::vector<MountEntry> mounts;
  for (const auto& line : files::split(mountinfo, '\n')) {
    const auto fields = files::split(line, ' ');
    const auto dash = std::find(fields.begin(), fields.end(), "-");
    if (fields.size() < 7 || dash == fields.end() || fields.end() - dash < 4) continue;
    const auto& fs_type = *(dash + 1);
    if (fs_type != "cgroup" && fs_type != "cgroup2") continue;
    mounts.push_back({unescape_mountinfo(fields[3]), unescape_mountinfo(fields[4]), fs_type,
                      files::split(*(dash + 3), ',')});
  }
  return mounts;
}

// runc's CleanPath: lexical, and ".." cannot climb above the start. Keeps a relative path relative.
std::string clean_path(std::string_view path) {
  std::vector<std::string> parts;
  for (auto& part : files::split(path, '/')) {
    if (part == ".") continue;
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
      continue;
    }
    parts.push_back(std::move(part));
  }
  std::string cleaned = path.starts_with('/') ? "/" : "";
  for (std::size_t i = 0; i < parts.size(); ++i) cleaned += (i ? "/" : "") + parts[i];
  return cleaned;
}

std::string join_paths(std::string_view base, std::string_view tail) {
  std::string joined(base);
  while (joined.size() > 1 && joined.back() == '/') joined.pop_back();
  for (const auto& part : files::split(tail, '/')) {
    if (joined.empty() || joined.back() != '/') joined += '/';
    joined += part;
  }
  return joined;
}

// This process's directory in the hierarchy: its /proc/self/cgroup path seen through the mount's root.
std::string own_directory(const CgroupHierarchy& hierarchy) {
  std::string_view own = hierarchy.own_path;
  const std::string_view root = hierarchy.mount_root;
  if (root != "/" && own.starts_with(root) && (own.size() == root.size() || own[root.size()] == '/')) {
    own.remove_prefix(root.size());
  } else if (root != "/") {
    own = "/";  // our cgroup is outside what is mounted (nested container): the mount's top is ours
  }
  return join_paths(hierarchy.mount_point, own);
}

}  // namespace

Expected<CgroupHost> CgroupHost::parse(std::string_view mountinfo, std::string_view proc_self_cgroup,
                                       std::string_view cgroup2_controllers) {
  const auto mounts = cgroup_mounts(mountinfo);
  CgroupHost host;
  bool has_v1 = false;
  std::optional<CgroupHierarchy> cgroup2;
  for (const auto& line : files::split(proc_self_cgroup, '\n')) {
    // "hierarchy-id:controllers:path"; the path may itself contain ':'.
    const auto first = line.find(':');
    const auto second = first == std::string::npos ? std::string::npos : line.find(':', first + 1);
    if (second == std::string::npos) continue;
    const auto controllers = files::split(std::string_view(line).substr(first + 1, second - first - 1), ',');
    const std::string path = line.substr(second + 1);
    if (controllers.empty()) {
      if (line.substr(0, first) != "0") continue;
      for (const auto& mount : mounts) {
        if (mount.fs_type != "cgroup2") continue;
        CgroupHierarchy hierarchy{"unified", files::split(cgroup2_controllers, ' '), true, mount.mount_point,
                                  mount.root, path};
        for (auto& controller : hierarchy.controllers) controller = std::string(files::trim(controller));
        // Prefer the mount at /sys/fs/cgroup (v2) or /sys/fs/cgroup/unified (hybrid) over other mounts.
        if (!cgroup2 || mount.mount_point == "/sys/fs/cgroup" || mount.mount_point == "/sys/fs/cgroup/unified") {
          cgroup2 = std::move(hierarchy);
        }
      }
      continue;
    }
    for (const auto& mount : mounts) {
      if (mount.fs_type != "cgroup") continue;
      const bool matches = std::all_of(controllers.begin(), controllers.end(), [&](const std::string& c) {
        return std::find(mount.super_options.begin(), mount.super_options.end(), c) != mount.super_options.end();
      });
      if (!matches) continue;
      std::string name;
      for (const auto& controller : controllers) {
        name += (name.empty() ? "" : ",") + (controller.starts_with("name=") ? controller.substr(5) : controller);
      }
      host.hierarchies.push_back({name, controllers, false, mount.mount_point, mount.root, path});
      has_v1 = true;
      break;
    }
  }
  if (cgroup2) {
    host.mode = has_v1 ? CgroupMode::hybrid : CgroupMode::v2;
    host.hierarchies.push_back(std::move(*cgroup2));
  } else if (!has_v1) {
    return Error{ENOENT, "detect cgroups: no cgroup or cgroup2 file system is mounted (see /proc/self/mountinfo)"};
  }
  return host;
}

Expected<CgroupHost> CgroupHost::detect() {
  auto mountinfo = files::read("/proc/self/mountinfo");
  if (!mountinfo) return std::move(mountinfo).error().context("detect cgroups");
  auto own = files::read("/proc/self/cgroup");
  if (!own) return std::move(own).error().context("detect cgroups");
  std::string cgroup2_controllers;
  for (const auto& mount : cgroup_mounts(mountinfo.value())) {
    if (mount.fs_type != "cgroup2") continue;
    if (auto controllers = files::read_line(files::join(mount.mount_point, "cgroup.controllers"))) {
      cgroup2_controllers = controllers.value();
    }
    if (mount.mount_point == "/sys/fs/cgroup" || mount.mount_point == "/sys/fs/cgroup/unified") break;
  }
  auto host = parse(mountinfo.value(), own.value(), cgroup2_controllers);
  if (host) spdlog::debug("cgroups: host mode {}, {} hierarchies", to_string(host.value().mode),
                          host.value().hierarchies.size());
  return host;
}

const CgroupHierarchy* CgroupHost::find(std::string_view controller) const {
  for (const auto& hierarchy : hierarchies) {
    if (hierarchy.has_controller(controller)) return &hierarchy;
  }
  return nullptr;
}

const CgroupHierarchy* CgroupHost::unified() const {
  for (const auto& hierarchy : hierarchies) {
    if (hierarchy.is_cgroup2) return &hierarchy;
  }
  return nullptr;
}

bool is_systemd_cgroups_path(std::string_view cgroups_path) {
  return !cgroups_path.starts_with('/') && std::count(cgroups_path.begin(), cgroups_path.end(), ':') == 2;
}

Expected<std::string> expand_systemd_slice(std::string_view slice) {
  constexpr std::string_view suffix = ".slice";
  const auto invalid = [&] { return Error{EINVAL, "invalid systemd slice name \"" + std::string(slice) + "\""}; };
  if (slice.size() <= suffix.size() || !slice.ends_with(suffix) || slice.find('/') != std::string_view::npos) {
    return invalid();
  }
  const auto name = slice.substr(0, slice.size() - suffix.size());
  if (name == "-") return std::string("/");
  std::string path;
  std::string prefix;
  std::size_t start = 0;
  for (;;) {
    const auto end = name.find('-', start);
    const auto component = name.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (component.empty()) return invalid();  // "a--b.slice" and "-a.slice" are not slices
    path += "/" + prefix + std::string(component) + std::string(suffix);
    prefix += std::string(component) + "-";
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return path;
}

Expected<std::string> systemd_cgroup_path(std::string_view cgroups_path) {
  const auto parts_end1 = cgroups_path.find(':');
  const auto parts_end2 = parts_end1 == std::string_view::npos ? parts_end1 : cgroups_path.find(':', parts_end1 + 1);
  if (parts_end2 == std::string_view::npos || cgroups_path.find(':', parts_end2 + 1) != std::string_view::npos) {
    return Error{EINVAL, "cgroupsPath \"" + std::string(cgroups_path) + "\" is not of the form slice:prefix:name"};
  }
  std::string_view slice = cgroups_path.substr(0, parts_end1);
  const auto prefix = cgroups_path.substr(parts_end1 + 1, parts_end2 - parts_end1 - 1);
  const auto name = cgroups_path.substr(parts_end2 + 1);
  if (name.empty() || name.find('/') != std::string_view::npos || prefix.find('/') != std::string_view::npos) {
    return Error{EINVAL, "cgroupsPath \"" + std::string(cgroups_path) + "\": invalid systemd unit name"};
  }
  if (slice.empty()) slice = "system.slice";
  auto parent = expand_systemd_slice(slice);
  if (!parent) return std::move(parent).error().context("cgroupsPath \"" + std::string(cgroups_path) + "\"");
  // A name that is a slice is the unit itself; otherwise a scope "<prefix>-<name>.scope" (runc's getUnitName).
  std::string unit = name.ends_with(".slice") ? std::string(name)
                     : prefix.empty()         ? std::string(name) + ".scope"
                                              : std::string(prefix) + "-" + std::string(name) + ".scope";
  return join_paths(parent.value(), unit);
}

std::string default_cgroups_path(std::string_view container_id) { return "/litebox/" + std::string(container_id); }

Expected<std::map<std::string, std::string>> resolve_cgroup_directories(const CgroupHost& host,
                                                                       std::string_view cgroups_path,
                                                                       std::string_view container_id) {
  std::string path;
  if (cgroups_path.empty()) {
    if (container_id.empty() || container_id.find('/') != std::string_view::npos || container_id == "." ||
        container_id == "..") {
      return Error{EINVAL, "cgroup path: invalid container id \"" + std::string(container_id) + "\""};
    }
    path = default_cgroups_path(container_id);
  } else if (is_systemd_cgroups_path(cgroups_path)) {
    auto systemd_path = systemd_cgroup_path(cgroups_path);
    if (!systemd_path) return std::move(systemd_path).error();
    path = std::move(systemd_path).value();
  } else {
    path = std::string(cgroups_path);
  }
  if (path.find('\n') != std::string::npos || path.find('\t') != std::string::npos) {
    return Error{EINVAL, "cgroupsPath \"" + std::string(cgroups_path) + "\" contains a tab or newline"};
  }
  const bool absolute = path.starts_with('/');
  path = clean_path(absolute ? path : "/" + path);
  if (path == "/") {
    return Error{EINVAL, "cgroupsPath \"" + std::string(cgroups_path) + "\" names the hierarchy's root, not a cgroup"};
  }
  std::map<std::string, std::string> directories;
  for (const auto& hierarchy : host.hierarchies) {
    directories[hierarchy.name] =
        join_paths(absolute ? hierarchy.mount_point : own_directory(hierarchy), path);
  }
  return directories;
}

}  // namespace litebox::linux_host
