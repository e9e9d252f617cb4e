// The names the spec (and the Linux kernel) define for enumerated members. Validation checks against
// these lists and features.json publishes them.
#pragma once

#include <span>
#include <string_view>

namespace oci::known {

using Names = std::span<const std::string_view>;

Names namespace_types();        // mount, pid, network, uts, ipc, user, cgroup, time
Names capabilities();           // CAP_CHOWN .. CAP_CHECKPOINT_RESTORE (Linux 5.9)
Names rlimit_types();           // RLIMIT_AS .. RLIMIT_STACK
Names seccomp_actions();        // SCMP_ACT_*
Names seccomp_operators();      // SCMP_CMP_*
Names seccomp_architectures();  // SCMP_ARCH_*
Names seccomp_flags();          // SECCOMP_FILTER_FLAG_*
Names hook_names();             // prestart, createRuntime, ...
Names mount_options();          // the generic mount(2)/mount_setattr(2) options a runtime interprets
Names io_priority_classes();    // IOPRIO_CLASS_RT, IOPRIO_CLASS_BE, IOPRIO_CLASS_IDLE
Names scheduler_policies();     // SCHED_OTHER .. SCHED_DEADLINE
Names scheduler_flags();        // SCHED_FLAG_*
Names personality_domains();    // LINUX, LINUX32
Names rootfs_propagations();    // shared, slave, private, unbindable (and their recursive forms)
Names time_offset_clocks();     // boottime, monotonic
Names device_types();           // c, b, u, p
Names vm_image_formats();       // raw, qcow2, vdi, vmdk, vhd
Names memory_policy_modes();    // MPOL_DEFAULT, MPOL_BIND, MPOL_INTERLEAVE, ... (linux.memoryPolicy.mode)
Names memory_policy_flags();    // MPOL_F_NUMA_BALANCING, MPOL_F_RELATIVE_NODES, MPOL_F_STATIC_NODES

// Whether `names` contains `name` (exact, case-sensitive).
bool contains(Names names, std::string_view name);

}  // namespace oci::known
