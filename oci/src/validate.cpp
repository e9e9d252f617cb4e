// validate(): the top-level rules (version, root, mounts, hooks, annotations, hostname) and the helpers.
#include "oci/validate.hpp"

#include <boost/json.hpp>

#include <exception>

#include "checker.hpp"
#include "oci/version.hpp"

namespace oci {

namespace detail {

std::string quoted(std::string_view text) {
  return boost::json::serialize(boost::json::string(boost::json::string_view(text.data(), text.size())));
}

std::string one_of(known::Names names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += (i + 1 == names.size()) ? " or " : ", ";
    out += names[i];
  }
  return out;
}

std::string at(const std::string& base, std::string_view token) { return base + "/" + escape_pointer_token(token); }
std::string at(const std::string& base, std::size_t index) { return base + "/" + std::to_string(index); }

bool is_posix_absolute(std::string_view path) { return !path.empty() && path.front() == '/'; }

bool is_windows_absolute(std::string_view path) {
  if (path.size() >= 3 && ((path[0] >= 'A' && path[0] <= 'Z') || (path[0] >= 'a' && path[0] <= 'z')) &&
      path[1] == ':' && (path[2] == '\\' || path[2] == '/')) {
    return true;
  }
  return path.size() >= 3 && path[0] == '\\' && path[1] == '\\';
}

bool is_volume_guid_path(std::string_view path) {
  constexpr std::string_view prefix = "\\\\?\\Volume{";
  constexpr std::string_view suffix = "}\\";
  if (path.size() != prefix.size() + 36 + suffix.size()) return false;
  if (path.substr(0, prefix.size()) != prefix || path.substr(path.size() - suffix.size()) != suffix) return false;
  const std::string_view guid = path.substr(prefix.size(), 36);
  for (std::size_t i = 0; i < guid.size(); ++i) {
    const char ch = guid[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (ch != '-') return false;
    } else if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F'))) {
      return false;
    }
  }
  return true;
}

bool is_cpu_list(std::string_view list) {
  // Items separated by commas; each "N" or "N-M" with N <= M; spaces around items are allowed.
  std::size_t pos = 0;
  if (list.find_first_not_of(' ') == std::string_view::npos) return false;
  while (pos <= list.size()) {
    std::size_t end = list.find(',', pos);
    if (end == std::string_view::npos) end = list.size();
    std::string_view item = list.substr(pos, end - pos);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    const auto parse = [](std::string_view digits, unsigned long& out) {
      if (digits.empty() || digits.size() > 6) return false;
      out = 0;
      for (const char ch : digits) {
        if (ch < '0' || ch > '9') return false;
        out = out * 10 + static_cast<unsigned long>(ch - '0');
      }
      return true;
    };
    unsigned long lo = 0;
    unsigned long hi = 0;
    const std::size_t dash = item.find('-');
    if (dash == std::string_view::npos) {
      if (!parse(item, lo)) return false;
    } else {
      if (!parse(item.substr(0, dash), lo) || !parse(item.substr(dash + 1), hi) || lo > hi) return false;
    }
    pos = end + 1;
  }
  return true;
}

void check_absolute(std::string_view path, const std::string& pointer, Checker& c, bool posix_only) {
  const bool ok = (!posix_only && c.windows()) ? is_windows_absolute(path) : is_posix_absolute(path);
  if (!ok) c.error(pointer, "must be an absolute path, got " + quoted(path));
}

void check_env(const std::vector<std::string>& env, const std::string& pointer, Checker& c) {
  for (std::size_t i = 0; i < env.size(); ++i) {
    const auto eq = env[i].find('=');
    if (eq == std::string::npos || eq == 0) {
      c.error(at(pointer, i), "must have the form NAME=value, got " + quoted(env[i]));
    }
  }
}

void check_id_mappings(const std::vector<IdMapping>& mappings, const std::string& pointer, Checker& c) {
  for (std::size_t i = 0; i < mappings.size(); ++i) {
    if (mappings[i].size == 0) c.error(at(at(pointer, i), "size"), "must map at least one ID, got 0");
    if (static_cast<std::uint64_t>(mappings[i].container_id) + mappings[i].size > (std::uint64_t{1} << 32) ||
        static_cast<std::uint64_t>(mappings[i].host_id) + mappings[i].size > (std::uint64_t{1} << 32)) {
      c.error(at(pointer, i), "maps IDs beyond 4294967295 (ID + size overflows 32 bits)");
    }
  }
}

namespace {

bool has_namespace(const Spec& spec, std::string_view type) {
  if (!spec.linux_config) return false;
  for (const auto& ns : spec.linux_config->namespaces) {
    if (ns.type == type) return true;
  }
  return false;
}

void check_version(const Spec& spec, Checker& c) {
  const auto version = parse_semantic_version(spec.oci_version);
  if (!version) {
    c.error("/ociVersion", "must be a semantic version such as \"1.2.0\", got " + quoted(spec.oci_version));
    return;
  }
  if (version->major != 1) {
    c.error("/ociVersion", "major version " + std::to_string(version->major) +
                               " is not supported (this runtime implements runtime-spec 1.x)");
    return;
  }
  const auto max = parse_semantic_version(kOciVersionMax);
  if (max && (version->minor > max->minor || (version->minor == max->minor && version->patch > max->patch))) {
    c.warning("/ociVersion", "version " + spec.oci_version + " is newer than " + std::string(kOciVersionMax) +
                                 ", the newest this runtime knows; unknown members are ignored");
  }
}

void check_root(const Spec& spec, Checker& c) {
  const bool hyperv = spec.windows_config && spec.windows_config->hyperv;
  if (!spec.root) {
    if (!c.windows()) c.error("/root", "is required on Linux and other POSIX platforms");
    else if (!hyperv) c.error("/root", "is required for Windows Server containers (only Hyper-V containers omit it)");
    return;
  }
  if (c.windows()) {
    if (hyperv) {
      c.error("/root", "must be omitted for Hyper-V containers (windows.hyperv is set)");
      return;
    }
    if (!is_volume_guid_path(spec.root->path)) {
      c.error("/root/path", "must be a volume GUID path such as \\\\?\\Volume{<GUID>}\\ on Windows, got " +
                                quoted(spec.root->path));
    }
    if (spec.root->readonly) c.error("/root/readonly", "must be false or omitted on Windows");
    return;
  }
  if (spec.root->path.empty()) c.error("/root/path", "must not be empty");
}

void check_mounts(const Spec& spec, Checker& c) {
  for (std::size_t i = 0; i < spec.mounts.size(); ++i) {
    const Mount& m = spec.mounts[i];
    const std::string ptr = at("/mounts", i);
    check_absolute(m.destination, at(ptr, "destination"), c);
    if (m.uid_mappings.empty() != m.gid_mappings.empty()) {
      c.error(m.uid_mappings.empty() ? at(ptr, "uidMappings") : at(ptr, "gidMappings"),
              "an id-mapped mount needs both uidMappings and gidMappings");
    }
    check_id_mappings(m.uid_mappings, at(ptr, "uidMappings"), c);
    check_id_mappings(m.gid_mappings, at(ptr, "gidMappings"), c);
  }
}

void check_hook_list(const std::vector<Hook>& hooks, const std::string& ptr, Checker& c) {
  for (std::size_t i = 0; i < hooks.size(); ++i) {
    const Hook& h = hooks[i];
    const std::string hp = at(ptr, i);
    check_absolute(h.path, at(hp, "path"), c, true);
    check_env(h.env, at(hp, "env"), c);
    if (h.timeout && *h.timeout <= 0) {
      c.error(at(hp, "timeout"), "must be a number of seconds greater than zero, got " + std::to_string(*h.timeout));
    }
  }
}

void check_hooks(const Hooks& hooks, Checker& c) {
  check_hook_list(hooks.prestart, "/hooks/prestart", c);
  check_hook_list(hooks.create_runtime, "/hooks/createRuntime", c);
  check_hook_list(hooks.create_container, "/hooks/createContainer", c);
  check_hook_list(hooks.start_container, "/hooks/startContainer", c);
  check_hook_list(hooks.poststart, "/hooks/poststart", c);
  check_hook_list(hooks.poststop, "/hooks/poststop", c);
  if (!hooks.prestart.empty()) {
    c.warning("/hooks/prestart", "prestart hooks are deprecated; use createRuntime hooks");
  }
}

void check_names(const Spec& spec, Checker& c) {
  if (!spec.linux_config) return;
  if (!spec.hostname.empty() && !has_namespace(spec, "uts")) {
    c.error("/hostname", "can only be set with a UTS namespace in /linux/namespaces");
  }
  if (!spec.domainname.empty() && !has_namespace(spec, "uts")) {
    c.error("/domainname", "can only be set with a UTS namespace in /linux/namespaces");
  }
}

}  // namespace

}  // namespace detail

Validation validate(const Spec& spec, std::size_t max_errors) {
  detail::Checker c(spec.windows_config.has_value(), max_errors);
  try {
    detail::check_version(spec, c);
    detail::check_root(spec, c);
    detail::check_mounts(spec, c);
    if (spec.process) detail::check_process(*spec.process, c);
    detail::check_names(spec, c);
    if (spec.hooks) detail::check_hooks(*spec.hooks, c);
    if (spec.annotations.count("") != 0) c.error("/annotations/", "annotation keys must not be empty");
    if (spec.linux_config) detail::check_linux(*spec.linux_config, c);
    if (spec.windows_config) detail::check_windows(*spec.windows_config, c);
    if (spec.vm_config) detail::check_vm(*spec.vm_config, c);
  } catch (const std::exception& e) {
    c.error("", std::string("could not be validated: ") + e.what());
  }
  return c.take();
}

}  // namespace oci
