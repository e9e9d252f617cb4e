// Pieces the Runtime's operations share.
#pragma once

#include <filesystem>

#include "litebox/linux/cgroups.hpp"
#include "litebox/linux/container_state.hpp"
#include "litebox/linux/error.hpp"
#include "oci/spec.hpp"

namespace litebox::linux_host::detail {

// The container's config.json as create read it, kept in its state directory (exec and delete need it
// even when the bundle changed or went away).
Status save_config(const std::filesystem::path& dir, const oci::Spec& spec);
Expected<oci::Spec> load_saved_config(const std::filesystem::path& dir);

// Sets a new terminal's size from process.consoleSize, when the spec gives one.
void set_console_size(int master, const oci::Process& process);

// The live status of a recorded container: its init, its exec FIFO and its cgroup's freezer.
ContainerStatus live_status(const std::filesystem::path& dir, const ContainerRecord& record);

}  // namespace litebox::linux_host::detail
