// The Cgroup object: creation, persistence, membership, freezing, signalling, removal.
#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <chrono>
#include <csignal>
#include <spdlog/spdlog.h>
#include <thread>

#include "cgroup_files.hpp"
#include "litebox/linux/cgroups.hpp"

namespace litebox::linux_host {

namespace files = cgroup_files;

namespace {

constexpr std::string_view kStateHeader = "litebox-cgroup 1";

std::string parent_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

// The subdirectories (child cgroups) of a cgroup directory.
Expected<std::vector<std::string>> child_cgroups(const std::string& directory) {
  DIR* dir = ::opendir(directory.c_str());
  if (dir == nullptr) return Error::from_errno("list " + directory);
  std::vector<std::string> children;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string_view name = entry->d_name;
    if (entry->d_type == DT_DIR && name != "." && name != "..") children.push_back(files::join(directory, name));
  }
  ::closedir(dir);
  return children;
}

Status collect_pids(const std::string& directory, std::vector<pid_t>& pids) {
  auto procs = files::read(files::join(directory, "cgroup.procs"));
  if (!procs) return std::move(procs).error();
  for (const auto& line : files::split(procs.value(), '\n')) {
    if (const auto pid = files::parse_uint(line)) pids.push_back(static_cast<pid_t>(*pid));
  }
  auto children = child_cgroups(directory);
  if (!children) return std::move(children).error();
  for (const auto& child : children.value()) {
    if (auto status = collect_pids(child, pids); !status) {
      if (status.error().code == ENOENT) continue;  // removed while we walked
      return status;
    }
  }
  return {};
}

// rmdir with runc's retries: a cgroup stays busy for a moment after its last process exits.
Status remove_cgroup_directory(const std::string& directory) {
  auto delay = std::chrono::milliseconds(10);
  for (int attempt = 0;; ++attempt) {
    if (::rmdir(directory.c_str()) == 0) {
      spdlog::debug("cgroups: rmdir {}", directory);
      return {};
    }
    if (errno == ENOENT) return {};
    if (errno != EBUSY || attempt == 7) return Error::from_errno("rmdir " + directory);
    std::this_thread::sleep_for(delay);
    delay *= 2;
  }
}

Status remove_cgroup_tree(const std::string& directory) {
  auto children = child_cgroups(directory);
  if (!children) return children.error().code == ENOENT ? Status{} : Status{std::move(children).error()};
  for (const auto& child : children.value()) {
    if (auto status = remove_cgroup_tree(child); !status) return status;
  }
  return remove_cgroup_directory(directory);
}

// v1 cpuset: a new cgroup has empty cpuset.cpus/mems and no task may join until they are set; copy the
// parent's down every level below the mount point (runc's cpusetEnsureParent).
Status fill_cpuset(const std::string& mount_point, const std::string& directory) {
  if (directory.size() <= mount_point.size()) return {};
  if (auto status = fill_cpuset(mount_point, parent_of(directory)); !status) return status;
  for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
    const auto path = files::join(directory, file);
    auto current = files::read_line(path);
    if (!current) return std::move(current).error();
    if (!files::trim(current.value()).empty()) continue;
    auto inherited = files::read_line(files::join(parent_of(directory), file));
    if (!inherited) return std::move(inherited).error();
    if (auto status = files::write(path, inherited.value()); !status) return status;
  }
  return {};
}

// v2: controllers must be enabled in every ancestor's cgroup.subtree_control to be usable below it. Only the
// host's controllers (CgroupHierarchy::controllers) that each level offers; errors are ignored as runc does (a
// cgroup with processes of its own cannot delegate).
void enable_v2_controllers(const CgroupHierarchy& hierarchy, const std::string& directory) {
  const auto& mount_point = hierarchy.mount_point;
  std::vector<std::string> ancestors;
  for (auto path = parent_of(directory); path.size() >= mount_point.size(); path = parent_of(path)) {
    ancestors.push_back(path);
    if (path.size() == mount_point.size() || path == "/") break;
  }
  std::reverse(ancestors.begin(), ancestors.end());
  for (const auto& ancestor : ancestors) {
    auto offered = files::read_line(files::join(ancestor, "cgroup.controllers"));
    if (!offered) continue;
    std::vector<std::string> wanted;
    for (const auto& controller : files::split(offered.value(), ' ')) {
      if (hierarchy.has_controller(controller)) wanted.push_back(controller);
    }
    if (wanted.empty()) continue;
    std::string request;
    for (const auto& controller : wanted) request += (request.empty() ? "+" : " +") + controller;
    const auto control = files::join(ancestor, "cgroup.subtree_control");
    if (files::write(control, request)) continue;
    for (const auto& controller : wanted) {
      if (auto status = files::write(control, "+" + controller); !status) {
        spdlog::debug("cgroups: {}", status.error().message);
      }
    }
  }
}

}  // namespace

const char* to_string(FreezerState state) {
  switch (state) {
    case FreezerState::running: return "running";
    case FreezerState::freezing: return "freezing";
    case FreezerState::paused: return "paused";
  }
  return "?";
}

Expected<Cgroup> Cgroup::create(const CgroupHost& host, std::string_view cgroups_path, std::string_view container_id) {
  auto directories = resolve_cgroup_directories(host, cgroups_path, container_id);
  if (!directories) return std::move(directories).error().context("create cgroup");
  Cgroup cgroup;
  cgroup.mode_ = host.mode;
  // On failure remove only what this call made: an existing directory may be someone else's cgroup.
  const auto roll_back = [&cgroup](Error error) -> Error {
    Cgroup made;
    for (const auto& hierarchy : cgroup.hierarchies_) {
      if (!hierarchy.created_from.empty()) made.hierarchies_.push_back(hierarchy);
    }
    if (auto removed = made.destroy(); !removed) spdlog::warn("cgroups: create rollback: {}", removed.error().message);
    return std::move(error.context("create cgroup"));
  };
  for (const auto& hierarchy : host.hierarchies) {
    Hierarchy made{hierarchy.name, hierarchy.is_cgroup2, hierarchy.controllers,
                   directories.value().at(hierarchy.name), {}};
    auto created_from = files::make_directories(made.directory);
    if (!created_from) return roll_back(std::move(created_from).error());
    made.created_from = std::move(created_from).value();
    cgroup.directories_[made.name] = made.directory;
    cgroup.hierarchies_.push_back(made);
    Status prepared;
    if (!made.is_cgroup2 && hierarchy.has_controller("cpuset")) {
      prepared = fill_cpuset(hierarchy.mount_point, made.directory);
    } else if (made.is_cgroup2 && host.mode == CgroupMode::v2) {
      enable_v2_controllers(hierarchy, made.directory);
    }
    if (!prepared) return roll_back(std::move(prepared).error());
  }
  spdlog::debug("cgroups: created {} in {} hierarchies", cgroup.directory_of(host.mode == CgroupMode::v2 ? "unified"
                                                                                                      : "memory"),
                cgroup.hierarchies_.size());
  return cgroup;
}

std::string Cgroup::state() const {
  std::string text = std::string(kStateHeader) + " " + to_string(mode_) + "\n";
  for (const auto& hierarchy : hierarchies_) {
    std::string controllers;
    for (const auto& controller : hierarchy.controllers) controllers += (controllers.empty() ? "" : ",") + controller;
    text += hierarchy.name + "\t" + (hierarchy.is_cgroup2 ? "cgroup2" : "cgroup") + "\t" +
            (controllers.empty() ? "-" : controllers) + "\t" + hierarchy.directory + "\t" +
            (hierarchy.created_from.empty() ? "-" : hierarchy.created_from) + "\n";
  }
  return text;
}

Expected<Cgroup> Cgroup::open(std::string_view state) {
  const auto lines = files::split(state, '\n');
  const auto malformed = [&](const std::string& why) {
    return Error{EINVAL, "open cgroup: malformed state (" + why + ")"};
  };
  if (lines.empty() || !lines[0].starts_with(std::string(kStateHeader) + " ")) return malformed("no header");
  Cgroup cgroup;
  const auto mode = lines[0].substr(kStateHeader.size() + 1);
  if (mode == "v1") cgroup.mode_ = CgroupMode::v1;
  else if (mode == "v2") cgroup.mode_ = CgroupMode::v2;
  else if (mode == "hybrid") cgroup.mode_ = CgroupMode::hybrid;
  else return malformed("mode \"" + mode + "\"");
  bool any_exists = false;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const auto fields = files::split(lines[i], '\t');
    if (fields.size() != 5) return malformed("line " + std::to_string(i + 1));
    Hierarchy hierarchy{fields[0], fields[1] == "cgroup2",
                        fields[2] == "-" ? std::vector<std::string>{} : files::split(fields[2], ','), fields[3],
                        fields[4] == "-" ? std::string() : fields[4]};
    any_exists = any_exists || files::exists(hierarchy.directory);
    cgroup.directories_[hierarchy.name] = hierarchy.directory;
    cgroup.hierarchies_.push_back(std::move(hierarchy));
  }
  if (!any_exists) {
    return Error{ENOENT, "open cgroup: " + (cgroup.hierarchies_.empty() ? std::string("(no directories)")
                                                                       : cgroup.hierarchies_.front().directory) +
                             " no longer exists"};
  }
  return cgroup;
}

const Cgroup::Hierarchy* Cgroup::hierarchy_with(std::string_view controller) const {
  for (const auto& hierarchy : hierarchies_) {
    if (controller == "unified" ? hierarchy.is_cgroup2 : (mode_ == CgroupMode::v2 && hierarchy.is_cgroup2)) {
      return &hierarchy;
    }
    const auto& controllers = hierarchy.controllers;
    if (!hierarchy.is_cgroup2 && std::find(controllers.begin(), controllers.end(), controller) != controllers.end()) {
      return &hierarchy;
    }
  }
  return nullptr;
}

std::string Cgroup::directory_of(std::string_view controller) const {
  const auto* hierarchy = hierarchy_with(controller);
  return hierarchy ? hierarchy->directory : std::string();
}

const Cgroup::Hierarchy* Cgroup::process_hierarchy() const {
  if (const auto* freezer = hierarchy_with("freezer")) return freezer;
  if (const auto* unified = hierarchy_with("unified")) return unified;
  return hierarchies_.empty() ? nullptr : &hierarchies_.front();
}

Status Cgroup::add_process(pid_t pid) {
  for (const auto& hierarchy : hierarchies_) {
    if (auto status = files::write(files::join(hierarchy.directory, "cgroup.procs"), std::to_string(pid)); !status) {
      return std::move(status).error().context("add process " + std::to_string(pid) + " to cgroup");
    }
  }
  return {};
}

Expected<std::vector<pid_t>> Cgroup::pids() const {
  const auto* hierarchy = process_hierarchy();
  if (hierarchy == nullptr) return Error{ENOENT, "list cgroup processes: the cgroup has no directories"};
  std::vector<pid_t> pids;
  if (auto status = collect_pids(hierarchy->directory, pids); !status) {
    return std::move(status).error().context("list cgroup processes");
  }
  std::sort(pids.begin(), pids.end());
  pids.erase(std::unique(pids.begin(), pids.end()), pids.end());
  return pids;
}

namespace {

// Polls until `reached()` says yes, for about ten seconds.
template <typename Step>
Expected<bool> wait_for(Step step) {
  auto delay = std::chrono::microseconds(500);
  for (int attempt = 0; attempt < 1000; ++attempt) {
    auto done = step(attempt);
    if (!done || done.value()) return done;
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 2, std::chrono::microseconds(std::chrono::milliseconds(10)));
  }
  return false;
}

}  // namespace

Status Cgroup::freeze() {
  const auto* hierarchy = process_hierarchy();
  if (hierarchy == nullptr || (!hierarchy->is_cgroup2 && hierarchy->name != "freezer" &&
                               std::find(hierarchy->controllers.begin(), hierarchy->controllers.end(), "freezer") ==
                                   hierarchy->controllers.end())) {
    return Error{ENOTSUP, "freeze cgroup: no freezer (neither a v1 freezer hierarchy nor cgroup2)"};
  }
  if (!hierarchy->is_cgroup2) {
    const auto state_file = files::join(hierarchy->directory, "freezer.state");
    auto reached = wait_for([&](int attempt) -> Expected<bool> {
      // A task stuck in an uninterruptible sleep can hold FREEZING forever; thawing and retrying unsticks it
      // (runc does the same).
      if (attempt % 50 == 49) (void)files::write(state_file, "THAWED");
      if (auto status = files::write(state_file, "FROZEN"); !status) return std::move(status).error();
      auto state = files::read_line(state_file);
      if (!state) return std::move(state).error();
      return files::trim(state.value()) == "FROZEN";
    });
    if (!reached) return std::move(reached).error().context("freeze cgroup");
    if (!reached.value()) {
      (void)files::write(state_file, "THAWED");
      return Error{EBUSY, "freeze cgroup: " + state_file + " did not reach FROZEN in time; thawed again"};
    }
    return {};
  }
  const auto freeze_file = files::join(hierarchy->directory, "cgroup.freeze");
  if (auto status = files::write(freeze_file, "1"); !status) return std::move(status).error().context("freeze cgroup");
  auto reached = wait_for([&](int) -> Expected<bool> {
    auto events = files::read_keyed(files::join(hierarchy->directory, "cgroup.events"));
    if (!events) return std::move(events).error();
    return events.value()["frozen"] == 1;
  });
  if (!reached) return std::move(reached).error().context("freeze cgroup");
  if (!reached.value()) {
    (void)files::write(freeze_file, "0");
    return Error{EBUSY, "freeze cgroup: " + hierarchy->directory + "/cgroup.events did not show \"frozen 1\" in time"};
  }
  return {};
}

Status Cgroup::thaw() {
  const auto* hierarchy = process_hierarchy();
  if (hierarchy == nullptr) return Error{ENOTSUP, "thaw cgroup: the cgroup has no directories"};
  if (!hierarchy->is_cgroup2) {
    const auto state_file = files::join(hierarchy->directory, "freezer.state");
    auto reached = wait_for([&](int) -> Expected<bool> {
      if (auto status = files::write(state_file, "THAWED"); !status) return std::move(status).error();
      auto state = files::read_line(state_file);
      if (!state) return std::move(state).error();
      return files::trim(state.value()) == "THAWED";
    });
    if (!reached) return std::move(reached).error().context("thaw cgroup");
    if (!reached.value()) return Error{EBUSY, "thaw cgroup: " + state_file + " did not reach THAWED in time"};
    return {};
  }
  const auto freeze_file = files::join(hierarchy->directory, "cgroup.freeze");
  if (!files::exists(freeze_file)) return {};  // kernel without the v2 freezer: never frozen
  if (auto status = files::write(freeze_file, "0"); !status) return std::move(status).error().context("thaw cgroup");
  auto reached = wait_for([&](int) -> Expected<bool> {
    auto events = files::read_keyed(files::join(hierarchy->directory, "cgroup.events"));
    if (!events) return std::move(events).error();
    return events.value()["frozen"] == 0;
  });
  if (!reached) return std::move(reached).error().context("thaw cgroup");
  if (!reached.value()) return Error{EBUSY, "thaw cgroup: " + hierarchy->directory + "/cgroup.events still frozen"};
  return {};
}

Expected<FreezerState> Cgroup::freezer_state() const {
  const auto* hierarchy = process_hierarchy();
  if (hierarchy == nullptr) return Error{ENOTSUP, "read freezer state: the cgroup has no directories"};
  if (!hierarchy->is_cgroup2) {
    auto state = files::read_line(files::join(hierarchy->directory, "freezer.state"));
    if (!state) return std::move(state).error();
    const auto text = files::trim(state.value());
    if (text == "THAWED") return FreezerState::running;
    if (text == "FROZEN") return FreezerState::paused;
    if (text == "FREEZING") return FreezerState::freezing;
    return Error{EINVAL,
                 "read " + hierarchy->directory + "/freezer.state: unknown state \"" + std::string(text) + "\""};
  }
  const auto freeze_file = files::join(hierarchy->directory, "cgroup.freeze");
  if (!files::exists(freeze_file)) return FreezerState::running;
  auto requested = files::read_uint(freeze_file);
  if (!requested) return std::move(requested).error();
  if (requested.value() == 0) return FreezerState::running;
  auto events = files::read_keyed(files::join(hierarchy->directory, "cgroup.events"));
  if (!events) return std::move(events).error();
  return events.value()["frozen"] == 1 ? FreezerState::paused : FreezerState::freezing;
}

Status Cgroup::kill_all(int signal) {
  if (const auto* unified = hierarchy_with("unified"); unified != nullptr && signal == SIGKILL) {
    // Every container process is in the cgroup2 directory too (hybrid joins it), so cgroup.kill covers them.
    const auto kill_file = files::join(unified->directory, "cgroup.kill");
    if (files::exists(kill_file)) {
      if (auto status = files::write(kill_file, "1"); !status) return std::move(status).error().context("kill cgroup");
      return {};
    }
  }
  if (const auto* hierarchy = process_hierarchy(); hierarchy == nullptr || !files::exists(hierarchy->directory)) {
    return Error{ENOENT, "kill cgroup: " + (hierarchy ? hierarchy->directory : std::string("(no directories)")) +
                             " does not exist"};
  }
  auto before = freezer_state();
  const bool was_running = !before || before.value() == FreezerState::running;
  if (auto status = freeze(); !status) spdlog::warn("cgroups: kill: {} (signalling unfrozen)", status.error().message);
  auto pids = this->pids();
  if (pids) {
    for (const pid_t pid : pids.value()) {
      if (::kill(pid, signal) != 0 && errno != ESRCH) {
        spdlog::warn("cgroups: kill {} with signal {}: {}", pid, signal, std::strerror(errno));
      }
    }
  }
  // SIGKILLed tasks die only once thawed; otherwise restore what the caller had (a paused container stays so).
  if (signal == SIGKILL || was_running) {
    if (auto status = thaw(); !status) spdlog::warn("cgroups: kill: {}", status.error().message);
  }
  if (!pids) return std::move(pids).error().context("kill cgroup");
  return {};
}

Status Cgroup::destroy() {
  std::optional<Error> first_error;
  for (const auto& hierarchy : hierarchies_) {
    if (auto status = remove_cgroup_tree(hierarchy.directory); !status) {
      if (!first_error) first_error = std::move(status).error();
      continue;
    }
    if (hierarchy.created_from.empty()) continue;
    // Parents create() made, while empty; another container may be using them, then rmdir fails and they stay.
    for (auto parent = parent_of(hierarchy.directory);
         parent.size() >= hierarchy.created_from.size() && parent.starts_with(hierarchy.created_from);
         parent = parent_of(parent)) {
      if (::rmdir(parent.c_str()) != 0) break;
      spdlog::debug("cgroups: rmdir {}", parent);
    }
  }
  if (first_error) return first_error->context("destroy cgroup");
  return {};
}

std::vector<CgroupMountSource> Cgroup::mount_sources() const {
  std::vector<CgroupMountSource> sources;
  for (const auto& hierarchy : hierarchies_) {
    CgroupMountSource source;
    source.host_directory = hierarchy.directory;
    if (hierarchy.is_cgroup2) {
      source.name = mode_ == CgroupMode::v2 ? "" : "unified";
      source.filesystem_type = "cgroup2";
    } else {
      source.name = hierarchy.name;
      source.filesystem_type = "cgroup";
      for (const auto& controller : hierarchy.controllers) {
        const bool named = controller.starts_with("name=");
        source.mount_options += (source.mount_options.empty() ? (named ? "none," : "") : ",") + controller;
        if (hierarchy.controllers.size() > 1 && !named) source.symlinks.push_back(controller);
      }
    }
    sources.push_back(std::move(source));
  }
  return sources;
}

}  // namespace litebox::linux_host
