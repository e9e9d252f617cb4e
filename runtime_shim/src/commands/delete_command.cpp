// `delete`: containerd's clean-up when a shim cannot do it itself (it died, it never started, containerd
// lost it across a restart). Works with no server running: kills what is left of the container, removes
// its runtime state and cgroup, unmounts the rootfs, removes a socket nobody serves. stdout carries only
// the DeleteResponse.
#include <limits.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include <spdlog/spdlog.h>

#include "commands/bootstrap_common.hpp"
#include "commands/commands.hpp"
#include "commands/shim_log.hpp"
#include "litebox/linux/container.hpp"
#include "shim_config.hpp"
#include "shim_socket.hpp"
#include "small_file.hpp"
#include "litebox/linux/host/rootfs_mounts.hpp"

namespace litebox::shim {
namespace {

// What start left in the bundle (the runtime root, the address); empty when it is not there.
std::string bundle_note(const std::filesystem::path& path) {
  auto text = read_small_file(path, 4096);
  return text ? std::move(text.value()) : std::string();
}

}  // namespace

int delete_command(const ShimArgs& args) {
  log_to_stderr(args.log_level, args.debug);
  std::filesystem::path bundle = args.bundle;
  if (bundle.empty()) {
    char cwd[PATH_MAX];
    if (::getcwd(cwd, sizeof cwd) != nullptr) bundle = cwd;
  }
  std::string root = bundle_note(bundle / "litebox-runtime-root");
  if (root.empty()) root = kDefaultRuntimeRoot;

  linux_host::Runtime runtime(linux_host::RuntimeConfig{std::filesystem::path(root) / args.namespace_name});
  std::uint32_t pid = 0;
  if (!args.id.empty()) {
    if (auto state = runtime.state(args.id)) {
      pid = static_cast<std::uint32_t>(state.value().record.init_pid);
      if (auto removed = runtime.remove(args.id, true); !removed) {
        spdlog::warn("delete {}: {}", args.id, removed.error().message);
      }
    }
  }
  if (auto unmounted = linux_host::unmount_rootfs(bundle / "rootfs"); !unmounted) spdlog::warn("{}", unmounted.error().message);
  const std::string address = bundle_note(bundle / "address");
  if (!address.empty()) {
    const std::string path = socket_path_of(address);
    if (!socket_is_served(path)) ::unlink(path.c_str());
  }

  return answer_delete(pid);
}

}  // namespace litebox::shim
