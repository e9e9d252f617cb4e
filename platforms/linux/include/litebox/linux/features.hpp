// What this runtime supports, as the runtime-spec's features document describes it (`litebox-runtime
// features`, and the shim's `-info` for containerd 2.x).
#pragma once

#include "oci/features.hpp"

namespace litebox::linux_host {

oci::Features runtime_features();

}  // namespace litebox::linux_host
