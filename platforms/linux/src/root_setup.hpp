// The init's root file system, in two steps around the prestart/createRuntime/createContainer hooks.
#pragma once

#include "init_plan.hpp"

namespace litebox::linux_host::detail {

// Mounts: propagation, the rootfs bind, the spec's mounts, /dev. The root is not changed yet.
Status prepare_root(const InitPlan& plan);
// pivot_root (or MS_MOVE + chroot).
Status enter_root(const InitPlan& plan);
// Inside the new root, once the terminal is bound: read-only and masked paths, a read-only root, sysctls.
Status finish_root(const InitPlan& plan);

}  // namespace litebox::linux_host::detail
