// A container's cgroup statistics as containerd's Stats expects them: io.containerd.cgroups.v1.Metrics on
// v1 and hybrid hosts (where the resource controllers are v1), io.containerd.cgroups.v2.Metrics on v2.
#pragma once

#include "litebox/linux/cgroups.hpp"
#include "litebox/platform/host.hpp"

namespace litebox::linux_host {

platform::EncodedMetrics encode_metrics(const CgroupStats& stats, CgroupMode mode);

}  // namespace litebox::linux_host
