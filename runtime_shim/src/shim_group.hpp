// Which shim serves a container: containers that share a group annotation (a pod) share one shim.
#pragma once

#include <filesystem>
#include <string>

namespace litebox::shim {

// The group the bundle's config.json names (our annotation, runc's shim's, CRI's sandbox id, in that order);
// the container's own id when there is none or the spec cannot be read.
std::string shim_group_of(const std::filesystem::path& bundle, const std::string& id);

}  // namespace litebox::shim
