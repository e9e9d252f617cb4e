// Private: the JSON member list of every struct of the model, in the order the spec's Go types write them.
#pragma once

#include <tuple>

#include "codec.hpp"
#include "oci/features.hpp"
#include "oci/spec.hpp"
#include "oci/state.hpp"

namespace oci::detail {

inline constexpr Presence kRequired = Presence::required;
inline constexpr Presence kAlways = Presence::always;

#define OCI_FIELDS(Type, ...)                                                  \
  template <>                                                                  \
  struct Fields<Type> {                                                        \
    static constexpr auto list() { return std::make_tuple(__VA_ARGS__); }      \
  }

// ---- mounts.hpp ----
OCI_FIELDS(IdMapping, field("containerID", &IdMapping::container_id, kRequired),
           field("hostID", &IdMapping::host_id, kRequired), field("size", &IdMapping::size, kRequired));
OCI_FIELDS(Root, field("path", &Root::path, kRequired), field("readonly", &Root::readonly));
OCI_FIELDS(Mount, field("destination", &Mount::destination, kRequired), field("type", &Mount::type),
           field("source", &Mount::source), field("options", &Mount::options),
           field("uidMappings", &Mount::uid_mappings), field("gidMappings", &Mount::gid_mappings));

// ---- hooks.hpp ----
OCI_FIELDS(Hook, field("path", &Hook::path, kRequired), field("args", &Hook::args), field("env", &Hook::env),
           field("timeout", &Hook::timeout));
OCI_FIELDS(Hooks, field("prestart", &Hooks::prestart), field("createRuntime", &Hooks::create_runtime),
           field("createContainer", &Hooks::create_container),
           field("startContainer", &Hooks::start_container), field("poststart", &Hooks::poststart),
           field("poststop", &Hooks::poststop));

// ---- process.hpp ----
OCI_FIELDS(Box, field("height", &Box::height, kRequired), field("width", &Box::width, kRequired));
OCI_FIELDS(User, field("uid", &User::uid, kAlways), field("gid", &User::gid, kAlways),
           field("umask", &User::umask), field("additionalGids", &User::additional_gids),
           field("username", &User::username));
OCI_FIELDS(Capabilities, field("bounding", &Capabilities::bounding),
           field("effective", &Capabilities::effective), field("inheritable", &Capabilities::inheritable),
           field("permitted", &Capabilities::permitted), field("ambient", &Capabilities::ambient));
OCI_FIELDS(Rlimit, field("type", &Rlimit::type, kRequired), field("hard", &Rlimit::hard, kRequired),
           field("soft", &Rlimit::soft, kRequired));
OCI_FIELDS(IoPriority, field("class", &IoPriority::io_class, kRequired),
           field("priority", &IoPriority::priority, kAlways));
OCI_FIELDS(Scheduler, field("policy", &Scheduler::policy, kRequired), field("nice", &Scheduler::nice),
           field("priority", &Scheduler::priority), field("flags", &Scheduler::flags),
           field("runtime", &Scheduler::runtime), field("deadline", &Scheduler::deadline),
           field("period", &Scheduler::period));
OCI_FIELDS(ExecCpuAffinity, field("initial", &ExecCpuAffinity::initial),
           field("final", &ExecCpuAffinity::final));
OCI_FIELDS(Process, field("terminal", &Process::terminal), field("consoleSize", &Process::console_size),
           field("user", &Process::user, kAlways), field("args", &Process::args),
           field("commandLine", &Process::command_line), field("env", &Process::env),
           field("cwd", &Process::cwd, kRequired), field("capabilities", &Process::capabilities),
           field("rlimits", &Process::rlimits), field("noNewPrivileges", &Process::no_new_privileges),
           field("apparmorProfile", &Process::apparmor_profile),
           field("oomScoreAdj", &Process::oom_score_adj), field("selinuxLabel", &Process::selinux_label),
           field("ioPriority", &Process::io_priority), field("scheduler", &Process::scheduler),
           field("execCPUAffinity", &Process::exec_cpu_affinity));

// ---- linux_resources.hpp ----
OCI_FIELDS(DeviceCgroup, field("allow", &DeviceCgroup::allow, kRequired), field("type", &DeviceCgroup::type),
           field("major", &DeviceCgroup::major), field("minor", &DeviceCgroup::minor),
           field("access", &DeviceCgroup::access));
OCI_FIELDS(MemoryResources, field("limit", &MemoryResources::limit),
           field("reservation", &MemoryResources::reservation), field("swap", &MemoryResources::swap),
           field("kernel", &MemoryResources::kernel), field("kernelTCP", &MemoryResources::kernel_tcp),
           field("swappiness", &MemoryResources::swappiness),
           field("disableOOMKiller", &MemoryResources::disable_oom_killer),
           field("useHierarchy", &MemoryResources::use_hierarchy),
           field("checkBeforeUpdate", &MemoryResources::check_before_update));
OCI_FIELDS(CpuResources, field("shares", &CpuResources::shares), field("quota", &CpuResources::quota),
           field("burst", &CpuResources::burst), field("period", &CpuResources::period),
           field("realtimeRuntime", &CpuResources::realtime_runtime),
           field("realtimePeriod", &CpuResources::realtime_period), field("cpus", &CpuResources::cpus),
           field("mems", &CpuResources::mems), field("idle", &CpuResources::idle));
OCI_FIELDS(PidsResources, field("limit", &PidsResources::limit, kRequired));
OCI_FIELDS(WeightDevice, field("major", &WeightDevice::major, kRequired),
           field("minor", &WeightDevice::minor, kRequired), field("weight", &WeightDevice::weight),
           field("leafWeight", &WeightDevice::leaf_weight));
OCI_FIELDS(ThrottleDevice, field("major", &ThrottleDevice::major, kRequired),
           field("minor", &ThrottleDevice::minor, kRequired), field("rate", &ThrottleDevice::rate, kRequired));
OCI_FIELDS(BlockIoResources, field("weight", &BlockIoResources::weight),
           field("leafWeight", &BlockIoResources::leaf_weight),
           field("weightDevice", &BlockIoResources::weight_device),
           field("throttleReadBpsDevice", &BlockIoResources::throttle_read_bps_device),
           field("throttleWriteBpsDevice", &BlockIoResources::throttle_write_bps_device),
           field("throttleReadIOPSDevice", &BlockIoResources::throttle_read_iops_device),
           field("throttleWriteIOPSDevice", &BlockIoResources::throttle_write_iops_device));
OCI_FIELDS(HugepageLimit, field("pageSize", &HugepageLimit::page_size, kRequired),
           field("limit", &HugepageLimit::limit, kRequired));
OCI_FIELDS(InterfacePriority, field("name", &InterfacePriority::name, kRequired),
           field("priority", &InterfacePriority::priority, kRequired));
OCI_FIELDS(NetworkResources, field("classID", &NetworkResources::class_id),
           field("priorities", &NetworkResources::priorities));
OCI_FIELDS(RdmaResources, field("hcaHandles", &RdmaResources::hca_handles),
           field("hcaObjects", &RdmaResources::hca_objects));
OCI_FIELDS(LinuxResources, field("devices", &LinuxResources::devices), field("memory", &LinuxResources::memory),
           field("cpu", &LinuxResources::cpu), field("pids", &LinuxResources::pids),
           field("blockIO", &LinuxResources::block_io),
           field("hugepageLimits", &LinuxResources::hugepage_limits),
           field("network", &LinuxResources::network), field("rdma", &LinuxResources::rdma),
           field("unified", &LinuxResources::unified));

// ---- seccomp.hpp ----
OCI_FIELDS(SeccompArg, field("index", &SeccompArg::index, kRequired),
           field("value", &SeccompArg::value, kRequired), field("valueTwo", &SeccompArg::value_two),
           field("op", &SeccompArg::op, kRequired));
OCI_FIELDS(SeccompSyscall, field("names", &SeccompSyscall::names, kRequired),
           field("action", &SeccompSyscall::action, kRequired), field("errnoRet", &SeccompSyscall::errno_ret),
           field("args", &SeccompSyscall::args));
OCI_FIELDS(Seccomp, field("defaultAction", &Seccomp::default_action, kRequired),
           field("defaultErrnoRet", &Seccomp::default_errno_ret),
           field("architectures", &Seccomp::architectures), field("flags", &Seccomp::flags),
           field("listenerPath", &Seccomp::listener_path),
           field("listenerMetadata", &Seccomp::listener_metadata), field("syscalls", &Seccomp::syscalls));

// ---- linux.hpp ----
OCI_FIELDS(Namespace, field("type", &Namespace::type, kRequired), field("path", &Namespace::path));
OCI_FIELDS(Device, field("type", &Device::type, kRequired), field("path", &Device::path, kRequired),
           field("major", &Device::major), field("minor", &Device::minor), field("fileMode", &Device::file_mode),
           field("uid", &Device::uid), field("gid", &Device::gid));
OCI_FIELDS(IntelRdt, field("closID", &IntelRdt::clos_id), field("l3CacheSchema", &IntelRdt::l3_cache_schema),
           field("memBwSchema", &IntelRdt::mem_bw_schema), field("schemata", &IntelRdt::schemata),
           field("enableCMT", &IntelRdt::enable_cmt), field("enableMBM", &IntelRdt::enable_mbm),
           field("enableMonitoring", &IntelRdt::enable_monitoring));
OCI_FIELDS(MemoryPolicy, field("mode", &MemoryPolicy::mode, kRequired),
           field("nodes", &MemoryPolicy::nodes, kAlways), field("flags", &MemoryPolicy::flags));
OCI_FIELDS(Personality, field("domain", &Personality::domain, kRequired),
           field("flags", &Personality::flags));
OCI_FIELDS(TimeOffset, field("secs", &TimeOffset::secs), field("nanosecs", &TimeOffset::nanosecs));
OCI_FIELDS(NetDevice, field("name", &NetDevice::name));
OCI_FIELDS(Linux, field("uidMappings", &Linux::uid_mappings), field("gidMappings", &Linux::gid_mappings),
           field("sysctl", &Linux::sysctl), field("resources", &Linux::resources),
           field("cgroupsPath", &Linux::cgroups_path), field("namespaces", &Linux::namespaces),
           field("devices", &Linux::devices), field("netDevices", &Linux::net_devices),
           field("seccomp", &Linux::seccomp), field("rootfsPropagation", &Linux::rootfs_propagation),
           field("maskedPaths", &Linux::masked_paths), field("readonlyPaths", &Linux::readonly_paths),
           field("mountLabel", &Linux::mount_label), field("intelRdt", &Linux::intel_rdt),
           field("memoryPolicy", &Linux::memory_policy), field("personality", &Linux::personality),
           field("timeOffsets", &Linux::time_offsets));

// ---- windows.hpp ----
OCI_FIELDS(WindowsDevice, field("id", &WindowsDevice::id, kRequired),
           field("idType", &WindowsDevice::id_type, kRequired));
OCI_FIELDS(WindowsMemoryResources, field("limit", &WindowsMemoryResources::limit));
OCI_FIELDS(WindowsCpuResources, field("count", &WindowsCpuResources::count),
           field("shares", &WindowsCpuResources::shares), field("maximum", &WindowsCpuResources::maximum));
OCI_FIELDS(WindowsStorageResources, field("iops", &WindowsStorageResources::iops),
           field("bps", &WindowsStorageResources::bps),
           field("sandboxSize", &WindowsStorageResources::sandbox_size));
OCI_FIELDS(WindowsResources, field("memory", &WindowsResources::memory), field("cpu", &WindowsResources::cpu),
           field("storage", &WindowsResources::storage));
OCI_FIELDS(WindowsNetwork, field("endpointList", &WindowsNetwork::endpoint_list),
           field("allowUnqualifiedDNSQuery", &WindowsNetwork::allow_unqualified_dns_query),
           field("DNSSearchList", &WindowsNetwork::dns_search_list),
           field("networkSharedContainerName", &WindowsNetwork::network_shared_container_name),
           field("networkNamespace", &WindowsNetwork::network_namespace));
OCI_FIELDS(WindowsHyperV, field("utilityVMPath", &WindowsHyperV::utility_vm_path));
OCI_FIELDS(Windows, field("layerFolders", &Windows::layer_folders, kRequired),
           field("devices", &Windows::devices), field("resources", &Windows::resources),
           raw_field("credentialSpec", &Windows::credential_spec), field("servicing", &Windows::servicing),
           field("ignoreFlushesDuringBoot", &Windows::ignore_flushes_during_boot),
           field("hyperv", &Windows::hyperv), field("network", &Windows::network));

// ---- vm.hpp ----
OCI_FIELDS(VmHypervisor, field("path", &VmHypervisor::path, kRequired),
           field("parameters", &VmHypervisor::parameters));
OCI_FIELDS(VmKernel, field("path", &VmKernel::path, kRequired), field("parameters", &VmKernel::parameters),
           field("initrd", &VmKernel::initrd));
OCI_FIELDS(VmImage, field("path", &VmImage::path, kRequired), field("format", &VmImage::format, kRequired));
OCI_FIELDS(VmIoMem, field("firstGFN", &VmIoMem::first_gfn), field("firstMFN", &VmIoMem::first_mfn, kRequired),
           field("nrMFNs", &VmIoMem::nr_mfns, kRequired));
OCI_FIELDS(VmHwConfig, field("deviceTree", &VmHwConfig::device_tree), field("vcpus", &VmHwConfig::vcpus),
           field("memory", &VmHwConfig::memory), field("dtdevs", &VmHwConfig::dtdevs),
           field("iomems", &VmHwConfig::iomems), field("irqs", &VmHwConfig::irqs));
OCI_FIELDS(Vm, field("hypervisor", &Vm::hypervisor), field("kernel", &Vm::kernel, kRequired),
           field("image", &Vm::image), field("hwConfig", &Vm::hw_config));

// ---- spec.hpp ----
OCI_FIELDS(Spec, field("ociVersion", &Spec::oci_version, kRequired), field("process", &Spec::process),
           field("root", &Spec::root), field("hostname", &Spec::hostname),
           field("domainname", &Spec::domainname), field("mounts", &Spec::mounts), field("hooks", &Spec::hooks),
           field("annotations", &Spec::annotations), field("linux", &Spec::linux_config),
           field("windows", &Spec::windows_config), field("vm", &Spec::vm_config));

// ---- state.hpp ----
OCI_FIELDS(State, field("ociVersion", &State::oci_version, kRequired), field("id", &State::id, kRequired),
           field("status", &State::status, kRequired), field("pid", &State::pid),
           field("bundle", &State::bundle, kRequired), field("annotations", &State::annotations));

// ---- features.hpp ----
OCI_FIELDS(CgroupFeatures, field("v1", &CgroupFeatures::v1), field("v2", &CgroupFeatures::v2),
           field("systemd", &CgroupFeatures::systemd), field("systemdUser", &CgroupFeatures::systemd_user),
           field("rdma", &CgroupFeatures::rdma));
OCI_FIELDS(SeccompFeatures, field("enabled", &SeccompFeatures::enabled),
           field("actions", &SeccompFeatures::actions), field("operators", &SeccompFeatures::operators),
           field("archs", &SeccompFeatures::archs), field("knownFlags", &SeccompFeatures::known_flags),
           field("supportedFlags", &SeccompFeatures::supported_flags));
OCI_FIELDS(EnabledFeature, field("enabled", &EnabledFeature::enabled));
OCI_FIELDS(IntelRdtFeatures, field("enabled", &IntelRdtFeatures::enabled),
           field("schemata", &IntelRdtFeatures::schemata), field("monitoring", &IntelRdtFeatures::monitoring));
OCI_FIELDS(MemoryPolicyFeatures, field("modes", &MemoryPolicyFeatures::modes),
           field("flags", &MemoryPolicyFeatures::flags));
OCI_FIELDS(MountExtensionsFeatures, field("idmap", &MountExtensionsFeatures::idmap));
OCI_FIELDS(LinuxFeatures, field("namespaces", &LinuxFeatures::namespaces),
           field("capabilities", &LinuxFeatures::capabilities), field("cgroup", &LinuxFeatures::cgroup),
           field("seccomp", &LinuxFeatures::seccomp), field("apparmor", &LinuxFeatures::apparmor),
           field("selinux", &LinuxFeatures::selinux), field("intelRdt", &LinuxFeatures::intel_rdt),
           field("memoryPolicy", &LinuxFeatures::memory_policy),
           field("mountExtensions", &LinuxFeatures::mount_extensions),
           field("netDevices", &LinuxFeatures::net_devices));
OCI_FIELDS(Features, field("ociVersionMin", &Features::oci_version_min, kRequired),
           field("ociVersionMax", &Features::oci_version_max, kRequired), field("hooks", &Features::hooks),
           field("mountOptions", &Features::mount_options), field("linux", &Features::linux_features),
           field("annotations", &Features::annotations),
           field("potentiallyUnsafeConfigAnnotations", &Features::potentially_unsafe_config_annotations));

#undef OCI_FIELDS

}  // namespace oci::detail
