#include <windows.h>

#include "litebox/windows/windows_host.hpp"

#include <cerrno>
#include <fstream>
#include <mutex>
#include <sstream>

#include "litebox/windows/job.hpp"
#include "litebox/windows/utf.hpp"
#include "oci/config.hpp"
#include "oci/validate.hpp"
#include "win_container.hpp"

namespace litebox::windows_host {
namespace {

platform::Error refuse(const std::string& what) {
  return platform::Error{EINVAL, what + " is not supported: " + kJobOnly};
}

platform::Expected<oci::Spec> load_spec(const std::filesystem::path& bundle) {
  const auto file = bundle / L"config.json";
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) {
    return platform::Error{ENOENT, "read " + narrow(file.wstring()) + ": no such file"};
  }
  const oci::ParseLimits limits;
  const auto size = std::filesystem::file_size(file, ec);
  if (ec || size > limits.max_bytes) {
    return platform::Error{EINVAL, "read " + narrow(file.wstring()) + ": larger than " +
                                       std::to_string(limits.max_bytes) + " bytes"};
  }
  std::ifstream in(file, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  auto parsed = oci::parse_config(text.str(), limits);
  if (!parsed.ok()) return platform::Error{EINVAL, "config.json: " + oci::format_diagnostics(parsed.errors)};
  return std::move(*parsed.value);
}

// After check_supported(), so that a spec asking for what this host cannot do hears that first.
platform::Status validate_spec(const oci::Spec& spec) {
  // The runtime-spec wants at least one layer folder for a Windows container and a volume GUID path as its
  // root; a job-object container has neither (its root is a plain folder, checked to exist below), so those
  // two rules are not applied here.
  auto validation = oci::validate(spec);
  oci::Diagnostics errors;
  for (auto& d : validation.errors) {
    if (d.pointer.rfind("/windows/layerFolders", 0) != 0 && d.pointer != "/root/path") errors.push_back(std::move(d));
  }
  if (!errors.empty()) return platform::Error{EINVAL, "config.json: " + oci::format_diagnostics(errors)};
  return {};
}

platform::Status check_supported(const oci::Spec& spec, const platform::CreateParams& params) {
  if (const auto& w = spec.windows_config) {
    if (w->hyperv) return refuse("Hyper-V isolation (windows.hyperv)");
    if (!w->layer_folders.empty()) return refuse("HCS image layers (windows.layerFolders)");
    if (w->network) return refuse("an HNS network (windows.network)");
    if (!w->devices.empty()) return refuse("devices (windows.devices)");
    if (!w->credential_spec.empty()) return refuse("a credential spec (windows.credentialSpec)");
    if (w->servicing) return refuse("servicing mode (windows.servicing)");
  }
  if (!params.rootfs.empty()) return refuse("rootfs mounts (" + params.rootfs[0].type + ")");
  if (!spec.process) return platform::Error{EINVAL, "config.json: no process to run"};
  return {};
}

class WinHost final : public platform::Host {
 public:
  platform::HostFeatures features() const override {
    platform::HostFeatures f;
    f.os = "windows";
    f.terminals = true;  // ConPTY (pseudo_console.hpp)
    f.pause = false;
    f.oom_events = false;
    f.descriptor_core = false;
    return f;
  }

  void on_oom(std::function<void(const std::string&)> callback) override {
    // Kept for the interface; a job's memory-limit notification is not wired yet (oom_events is false).
    std::lock_guard lock(mu_);
    on_oom_ = std::move(callback);
  }

  platform::Expected<std::unique_ptr<platform::Container>> create(platform::CreateParams params) override {
    if (params.id.empty()) return platform::Error{EINVAL, "create: empty container id"};
    auto spec = load_spec(params.bundle);
    if (!spec) return std::move(spec).error().context("create " + params.id);
    if (auto s = check_supported(spec.value(), params); !s) return std::move(s).error().context("create " + params.id);
    if (auto s = validate_spec(spec.value()); !s) return std::move(s).error().context("create " + params.id);

    std::filesystem::path rootfs = params.bundle;
    if (spec.value().root && !spec.value().root->path.empty()) {
      const std::filesystem::path root(widen(spec.value().root->path));
      rootfs = root.is_absolute() ? root : params.bundle / root;
    }
    std::error_code ec;
    if (!std::filesystem::is_directory(rootfs, ec)) {
      return platform::Error{ENOENT, "create " + params.id + ": root folder " + narrow(rootfs.wstring()) +
                                         " does not exist"};
    }
    auto job = Job::create();
    if (!job) return std::move(job).error().context("create " + params.id);
    if (spec.value().windows_config && spec.value().windows_config->resources) {
      if (auto s = job.value().apply(*spec.value().windows_config->resources); !s) {
        return std::move(s).error().context("create " + params.id);
      }
    }
    auto init = spawn_in_job(*spec.value().process, rootfs, params.stdio, job.value(), std::move(params.on_init_exit));
    if (!init) return std::move(init).error().context("create " + params.id);
    return std::unique_ptr<platform::Container>(
        std::make_unique<WinContainer>(params.id, std::move(job).value(), rootfs, std::move(init).value()));
  }

 private:
  std::mutex mu_;
  std::function<void(const std::string&)> on_oom_;
};

}  // namespace

std::unique_ptr<platform::Host> make_host() { return std::make_unique<WinHost>(); }

}  // namespace litebox::windows_host
