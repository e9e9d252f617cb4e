#include "litebox/linux/features.hpp"

namespace litebox::linux_host {

oci::Features runtime_features() {
  oci::PlatformSupport platform;
  platform.is_linux = true;
  platform.seccomp = true;
  platform.seccomp_supported_flags = {"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
                                      "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"};
  platform.cgroup_v1 = true;
  platform.cgroup_v2 = true;
  platform.cgroup_systemd = true;  // the slice:prefix:name form of cgroupsPath
  platform.memory_policy = true;   // linux.memoryPolicy: set_mempolicy(2) in the init and exec'd processes
  platform.annotations = {{"io.github.litebox.runtime.version", "0.1.0"}};
  return oci::make_features(platform);
}

}  // namespace litebox::linux_host
