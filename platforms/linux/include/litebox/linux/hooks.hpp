// OCI lifecycle hooks: each hook program runs with the container's state JSON on its stdin, its own
// environment, and its timeout. The first hook that fails stops the list.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "litebox/linux/error.hpp"
#include "oci/hooks.hpp"

namespace litebox::linux_host {

// Runs `hooks` in order. `stage` names them in errors ("prestart", "poststop", ...). No logging (the init
// runs createContainer and startContainer hooks after fork).
Status run_hooks(const std::vector<oci::Hook>& hooks, const std::string& state_json, std::string_view stage);

}  // namespace litebox::linux_host
