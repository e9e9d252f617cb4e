// A container's cgroup statistics as containerd's Stats expects them: io.containerd.cgroups.v1.Metrics on
// v1 and hybrid hosts (where the resource controllers are v1), io.containerd.cgroups.v2.Metrics on v2.
#pragma once

#include "litebox/linux/cgroups.hpp"
#include "wire.pb.h"

namespace litebox::shim {

litebox::wire::Any metrics_any(const linux_host::CgroupStats& stats, linux_host::CgroupMode mode);

}  // namespace litebox::shim
