// validate(): one negative test per rule (each names its pointer and what is wrong), plus collection of
// every error at once and the warnings.
#include <optional>
#include <string>
#include <vector>

#include "oci/config.hpp"
#include "oci/validate.hpp"
#include "oci/version.hpp"
#include "test_support.hpp"

namespace {

using oci_test::has_error;

// One change to a fixture: set the value at `pointer` to `json`, or erase it when `json` is empty.
struct Edit {
  std::string_view pointer;
  std::optional<std::string_view> json;
};

struct RuleCase {
  std::string_view name;
  std::string_view fixture;
  std::vector<Edit> edits;
  std::string_view pointer;  // where the error must be reported
  std::string_view message;  // what it must say (a substring)
};

oci::Validation validate_edited(std::string_view fixture, const std::vector<Edit>& edits) {
  auto doc = oci_test::fixture_json(fixture);
  for (const auto& e : edits) {
    if (e.json) oci_test::set_at(doc, e.pointer, boost::json::parse(*e.json));
    else oci_test::erase_at(doc, e.pointer);
  }
  const auto parsed = oci::parse_config(boost::json::serialize(doc));
  EXPECT_TRUE(parsed.ok()) << oci::format_diagnostics(parsed.errors);
  if (!parsed.value) return {};
  return oci::validate(*parsed.value);
}

constexpr std::string_view kLinux = "full-1.2.json";
constexpr std::string_view kRunc = "runc-spec.json";
constexpr std::string_view kWin = "windows-container.json";
constexpr std::string_view kLinux13 = "full-1.3.json";  // with linux.memoryPolicy (MPOL_INTERLEAVE) and vm.hwConfig

const std::vector<RuleCase>& rule_cases() {
  static const std::vector<RuleCase> cases = {
      // ---- version, root, mounts, hooks, annotations, names ----
      {"VersionNotSemver", kLinux, {{"/ociVersion", "\"1.0\""}}, "/ociVersion", "must be a semantic version"},
      {"VersionMajorNotOne", kLinux, {{"/ociVersion", "\"2.0.0\""}}, "/ociVersion", "major version 2 is not supported"},
      {"RootMissingOnLinux", kLinux, {{"/root", std::nullopt}}, "/root", "is required on Linux"},
      {"RootPathEmpty", kLinux, {{"/root/path", "\"\""}}, "/root/path", "must not be empty"},
      {"RootMissingOnWindows", kWin, {{"/root", std::nullopt}}, "/root", "is required for Windows Server containers"},
      {"RootWithHyperV", kWin, {{"/windows/hyperv", "{}"}}, "/root", "must be omitted for Hyper-V containers"},
      {"RootNotVolumeOnWindows", kWin, {{"/root/path", "\"C:\\\\rootfs\""}}, "/root/path", "must be a volume GUID path"},
      {"RootReadonlyOnWindows", kWin, {{"/root/readonly", "true"}}, "/root/readonly", "must be false or omitted"},
      {"MountRelativeDestination", kLinux, {{"/mounts/0/destination", "\"proc\""}}, "/mounts/0/destination",
       "must be an absolute path, got \"proc\""},
      {"MountRelativeDestinationWindows", kWin, {{"/mounts/0/destination", "\"data\""}}, "/mounts/0/destination",
       "must be an absolute path, got \"data\""},
      {"IdMappedMountWithoutGidMappings", kLinux, {{"/mounts/1/gidMappings", std::nullopt}}, "/mounts/1/gidMappings",
       "needs both uidMappings and gidMappings"},
      {"IdMappingOfNoIds", kLinux, {{"/mounts/1/uidMappings/0/size", "0"}}, "/mounts/1/uidMappings/0/size",
       "must map at least one ID"},
      {"IdMappingOverflows", kLinux, {{"/linux/uidMappings/0/hostID", "4294967295"}}, "/linux/uidMappings/0",
       "beyond 4294967295"},
      {"HookRelativePath", kLinux, {{"/hooks/poststart/0/path", "\"notify\""}}, "/hooks/poststart/0/path",
       "must be an absolute path"},
      {"HookZeroTimeout", kLinux, {{"/hooks/poststart/0/timeout", "0"}}, "/hooks/poststart/0/timeout",
       "greater than zero"},
      {"HookEnvWithoutEquals", kLinux, {{"/hooks/createRuntime/0/env/0", "\"MODE\""}}, "/hooks/createRuntime/0/env/0",
       "must have the form NAME=value"},
      {"AnnotationEmptyKey", kLinux, {{"/annotations/", "\"x\""}}, "/annotations/", "must not be empty"},
      {"HostnameWithoutUts", kRunc, {{"/linux/namespaces/3", std::nullopt}}, "/hostname", "UTS namespace"},
      {"DomainnameWithoutUts", kLinux, {{"/linux/namespaces/3", std::nullopt}}, "/domainname", "UTS namespace"},
      // ---- process ----
      {"ArgsEmpty", kLinux, {{"/process/args", "[]"}}, "/process/args", "must be a non-empty array of strings"},
      {"ArgsMissing", kRunc, {{"/process/args", std::nullopt}}, "/process/args", "must be a non-empty array of strings"},
      {"ArgsFirstEmpty", kLinux, {{"/process/args/0", "\"\""}}, "/process/args/0", "must name the program"},
      {"WindowsNeitherArgsNorCommandLine", kWin, {{"/process/args", std::nullopt}}, "/process/args",
       "or set /process/commandLine"},
      {"CwdRelative", kLinux, {{"/process/cwd", "\"srv\""}}, "/process/cwd", "must be an absolute path, got \"srv\""},
      {"CwdEmpty", kLinux, {{"/process/cwd", "\"\""}}, "/process/cwd", "got an empty string"},
      {"CwdNotWindowsAbsolute", kWin, {{"/process/cwd", "\"app\""}}, "/process/cwd", "must be an absolute path"},
      {"EnvWithoutEquals", kLinux, {{"/process/env/1", "\"LANG\""}}, "/process/env/1", "must have the form NAME=value"},
      {"EnvEmptyName", kLinux, {{"/process/env/1", "\"=x\""}}, "/process/env/1", "must have the form NAME=value"},
      {"UmaskTooLarge", kLinux, {{"/process/user/umask", "512"}}, "/process/user/umask", "must be at most 0777"},
      {"CapabilityMalformed", kLinux, {{"/process/capabilities/bounding/0", "\"net_admin\""}},
       "/process/capabilities/bounding/0", "is not a capability name"},
      {"RlimitUnknownType", kLinux, {{"/process/rlimits/0/type", "\"RLIMIT_FOO\""}}, "/process/rlimits/0/type",
       "unknown rlimit type \"RLIMIT_FOO\""},
      {"RlimitDuplicate", kLinux, {{"/process/rlimits/1/type", "\"RLIMIT_NOFILE\""}}, "/process/rlimits/1/type",
       "duplicate rlimit type \"RLIMIT_NOFILE\" (also at /process/rlimits/0)"},
      {"RlimitSoftAboveHard", kLinux, {{"/process/rlimits/0/soft", "5000"}}, "/process/rlimits/0",
       "soft limit 5000 is above the hard limit 4096"},
      {"OomScoreAdjOutOfRange", kLinux, {{"/process/oomScoreAdj", "1001"}}, "/process/oomScoreAdj",
       "must be between -1000 and 1000"},
      {"IoPriorityUnknownClass", kLinux, {{"/process/ioPriority/class", "\"IOPRIO_CLASS_NONE\""}},
       "/process/ioPriority/class", "unknown I/O priority class"},
      {"IoPriorityOutOfRange", kLinux, {{"/process/ioPriority/priority", "8"}}, "/process/ioPriority/priority",
       "must be between 0 (highest) and 7 (lowest)"},
      {"SchedulerUnknownPolicy", kLinux, {{"/process/scheduler/policy", "\"SCHED_FAST\""}}, "/process/scheduler/policy",
       "unknown scheduling policy"},
      {"SchedulerNiceOutOfRange", kLinux, {{"/process/scheduler/nice", "20"}}, "/process/scheduler/nice",
       "must be between -20 and 19"},
      {"SchedulerUnknownFlag", kLinux, {{"/process/scheduler/flags/0", "\"SCHED_FLAG_TURBO\""}},
       "/process/scheduler/flags/0", "unknown scheduler flag"},
      {"SchedulerRealtimePriority", kLinux,
       {{"/process/scheduler/policy", "\"SCHED_RR\""}, {"/process/scheduler/priority", "0"}},
       "/process/scheduler/priority", "must be between 1 and 99"},
      {"SchedulerPriorityForNormalPolicy", kLinux,
       {{"/process/scheduler/policy", "\"SCHED_OTHER\""}, {"/process/scheduler/priority", "5"}},
       "/process/scheduler/priority", "must be 0 unless"},
      {"SchedulerDeadlineFieldsWithOtherPolicy", kLinux, {{"/process/scheduler/policy", "\"SCHED_BATCH\""}},
       "/process/scheduler/runtime", "is only valid with policy SCHED_DEADLINE"},
      {"SchedulerRuntimeAboveDeadline", kLinux, {{"/process/scheduler/runtime", "25000000"}},
       "/process/scheduler/runtime", "must not exceed the deadline"},
      {"SchedulerDeadlineAbovePeriod", kLinux, {{"/process/scheduler/deadline", "40000000"}},
       "/process/scheduler/deadline", "must not exceed the period"},
      {"ExecCpuAffinityMalformed", kLinux, {{"/process/execCPUAffinity/final", "\"3-1\""}},
       "/process/execCPUAffinity/final", "must be a CPU list"},
      // ---- linux ----
      {"NamespaceUnknown", kLinux, {{"/linux/namespaces/2/type", "\"foo\""}}, "/linux/namespaces/2/type",
       "unknown namespace \"foo\""},
      {"NamespaceDuplicate", kLinux, {{"/linux/namespaces/3/type", "\"pid\""}}, "/linux/namespaces/3/type",
       "duplicate namespace \"pid\" (also at /linux/namespaces/0)"},
      {"NamespaceRelativePath", kLinux, {{"/linux/namespaces/0/path", "\"proc/1/ns/pid\""}},
       "/linux/namespaces/0/path", "must be an absolute path"},
      {"MappingsWithoutUserNamespace", kLinux, {{"/linux/namespaces/5", std::nullopt}}, "/linux/uidMappings",
       "requires a user namespace"},
      {"TimeOffsetsWithoutTimeNamespace", kLinux, {{"/linux/namespaces/7", std::nullopt}}, "/linux/timeOffsets",
       "requires a time namespace"},
      {"TimeOffsetUnknownClock", kLinux, {{"/linux/timeOffsets/realtime", "{\"secs\":1}"}},
       "/linux/timeOffsets/realtime", "unknown clock \"realtime\""},
      {"TimeOffsetNanosecondsTooLarge", kLinux, {{"/linux/timeOffsets/boottime/nanosecs", "1000000000"}},
       "/linux/timeOffsets/boottime/nanosecs", "must be below 1000000000"},
      {"DeviceUnknownType", kLinux, {{"/linux/devices/0/type", "\"x\""}}, "/linux/devices/0/type",
       "unknown device type \"x\""},
      {"DeviceWithoutMajor", kLinux, {{"/linux/devices/1/major", std::nullopt}}, "/linux/devices/1/major",
       "is required for device type \"b\""},
      {"DeviceRelativePath", kLinux, {{"/linux/devices/0/path", "\"dev/fuse\""}}, "/linux/devices/0/path",
       "must be an absolute path"},
      {"DeviceDuplicatePath", kLinux, {{"/linux/devices/1/path", "\"/dev/fuse\""}}, "/linux/devices/1/path",
       "duplicate device \"/dev/fuse\""},
      {"DeviceFileModeTooLarge", kLinux, {{"/linux/devices/0/fileMode", "8192"}}, "/linux/devices/0/fileMode",
       "permission bits only"},
      {"IntelRdtClosIdPath", kLinux, {{"/linux/intelRdt/closID", "\"../x\""}}, "/linux/intelRdt/closID",
       "must be a plain resctrl group name"},
      {"SysctlEmptyName", kLinux, {{"/linux/sysctl/", "\"1\""}}, "/linux/sysctl/", "must not be empty"},
      {"RootfsPropagationUnknown", kLinux, {{"/linux/rootfsPropagation", "\"bogus\""}}, "/linux/rootfsPropagation",
       "unknown propagation \"bogus\""},
      {"MaskedPathRelative", kLinux, {{"/linux/maskedPaths/0", "\"proc/kcore\""}}, "/linux/maskedPaths/0",
       "must be an absolute path"},
      {"ReadonlyPathRelative", kLinux, {{"/linux/readonlyPaths/1", "\"sysrq\""}}, "/linux/readonlyPaths/1",
       "must be an absolute path"},
      {"PersonalityUnknownDomain", kLinux, {{"/linux/personality/domain", "\"LINUX64\""}},
       "/linux/personality/domain", "unknown personality domain"},
      {"PersonalityFlag", kLinux, {{"/linux/personality/flags", "[\"SHORT_INODE\"]"}},
       "/linux/personality/flags/0", "unknown personality flag"},
      {"NetDevicesWithoutNetworkNamespace", kLinux, {{"/linux/namespaces/1", std::nullopt}}, "/linux/netDevices",
       "requires a network namespace"},
      {"NetDeviceBadHostName", kLinux, {{"/linux/netDevices/averyveryverylongname", "{}"}},
       "/linux/netDevices/averyveryverylongname", "is not a network interface name"},
      {"NetDeviceBadName", kLinux, {{"/linux/netDevices/eth1/name", "\"a:b\""}}, "/linux/netDevices/eth1/name",
       "is not a network interface name"},
      // ---- linux.memoryPolicy ----
      {"MemoryPolicyUnknownMode", kLinux13, {{"/linux/memoryPolicy/mode", "\"INTERLEAVE\""}},
       "/linux/memoryPolicy/mode", "unknown memory policy mode \"INTERLEAVE\" (expected one of MPOL_DEFAULT"},
      {"MemoryPolicyEmptyMode", kLinux13, {{"/linux/memoryPolicy/mode", "\"\""}}, "/linux/memoryPolicy/mode",
       "unknown memory policy mode \"\""},
      {"MemoryPolicyUnknownFlag", kLinux13, {{"/linux/memoryPolicy/flags/0", "\"badflag\""}},
       "/linux/memoryPolicy/flags/0", "unknown memory policy flag \"badflag\""},
      {"MemoryPolicyNodesMalformed", kLinux13, {{"/linux/memoryPolicy/nodes", "\"0-\""}},
       "/linux/memoryPolicy/nodes", "must be a memory node list such as \"0-3,7\", got \"0-\""},
      {"MemoryPolicyNodesReversedRange", kLinux13, {{"/linux/memoryPolicy/nodes", "\"3-1\""}},
       "/linux/memoryPolicy/nodes", "must be a memory node list"},
      {"MemoryPolicyNodesTooLarge", kLinux13, {{"/linux/memoryPolicy/nodes", "\"0-9876543210\""}},
       "/linux/memoryPolicy/nodes", "must be a memory node list"},
      {"MemoryPolicyNodesNotNumbers", kLinux13, {{"/linux/memoryPolicy/nodes", "\"node0\""}},
       "/linux/memoryPolicy/nodes", "must be a memory node list"},
      {"MemoryPolicyBindWithoutNodes", kLinux13,
       {{"/linux/memoryPolicy/mode", "\"MPOL_BIND\""}, {"/linux/memoryPolicy/nodes", std::nullopt}},
       "/linux/memoryPolicy/nodes", "is required with mode MPOL_BIND"},
      {"MemoryPolicyInterleaveWithEmptyNodes", kLinux13, {{"/linux/memoryPolicy/nodes", "\"\""}},
       "/linux/memoryPolicy/nodes", "is required with mode MPOL_INTERLEAVE"},
      {"MemoryPolicyPreferredManyWithoutNodes", kLinux13,
       {{"/linux/memoryPolicy/mode", "\"MPOL_PREFERRED_MANY\""}, {"/linux/memoryPolicy/nodes", "\"\""},
        {"/linux/memoryPolicy/flags", "[]"}},
       "/linux/memoryPolicy/nodes", "is required with mode MPOL_PREFERRED_MANY"},
      {"MemoryPolicyDefaultWithNodes", kLinux13,
       {{"/linux/memoryPolicy/mode", "\"MPOL_DEFAULT\""}, {"/linux/memoryPolicy/nodes", "\"0-7\""}},
       "/linux/memoryPolicy/nodes", "must be empty with mode MPOL_DEFAULT, which takes no nodes; got \"0-7\""},
      {"MemoryPolicyLocalWithNodes", kLinux13,
       {{"/linux/memoryPolicy/mode", "\"MPOL_LOCAL\""}, {"/linux/memoryPolicy/flags", "[]"}},
       "/linux/memoryPolicy/nodes", "must be empty with mode MPOL_LOCAL"},
      {"MemoryPolicyStaticAndRelativeNodes", kLinux13,
       {{"/linux/memoryPolicy/flags", "[\"MPOL_F_STATIC_NODES\", \"MPOL_F_RELATIVE_NODES\"]"}},
       "/linux/memoryPolicy/flags/1",
       "MPOL_F_RELATIVE_NODES and MPOL_F_STATIC_NODES (at /linux/memoryPolicy/flags/0) exclude each other"},
      {"MemoryPolicyNumaBalancingWithInterleave", kLinux13,
       {{"/linux/memoryPolicy/flags", "[\"MPOL_F_NUMA_BALANCING\"]"}}, "/linux/memoryPolicy/flags/0",
       "MPOL_F_NUMA_BALANCING is only valid with mode MPOL_BIND or MPOL_PREFERRED_MANY, not MPOL_INTERLEAVE"},
      {"MemoryPolicyNodeFlagWithoutNodes", kLinux13,
       {{"/linux/memoryPolicy/mode", "\"MPOL_PREFERRED\""}, {"/linux/memoryPolicy/nodes", "\"\""}},
       "/linux/memoryPolicy/flags/0", "MPOL_F_STATIC_NODES needs a node list, and mode MPOL_PREFERRED has none"},
      // ---- linux.resources ----
      {"DeviceRuleUnknownType", kLinux, {{"/linux/resources/devices/1/type", "\"x\""}},
       "/linux/resources/devices/1/type", "expected a, b or c"},
      {"DeviceRuleBadAccess", kLinux, {{"/linux/resources/devices/1/access", "\"rx\""}},
       "/linux/resources/devices/1/access", "must contain only r, w and m"},
      {"MemoryLimitBelowMinusOne", kLinux, {{"/linux/resources/memory/limit", "-2"}}, "/linux/resources/memory/limit",
       "or -1 for no limit"},
      {"MemorySwappinessTooLarge", kLinux, {{"/linux/resources/memory/swappiness", "101"}},
       "/linux/resources/memory/swappiness", "must be between 0 and 100"},
      {"MemorySwapBelowLimit", kLinux, {{"/linux/resources/memory/swap", "1000"}}, "/linux/resources/memory/swap",
       "is below the memory limit"},
      {"CpuQuotaBelowMinusOne", kLinux, {{"/linux/resources/cpu/quota", "-5"}}, "/linux/resources/cpu/quota",
       "or -1 for no limit"},
      {"CpuPeriodOutOfRange", kLinux, {{"/linux/resources/cpu/period", "500"}}, "/linux/resources/cpu/period",
       "between 1000 and 1000000"},
      {"CpuIdleNotBoolean", kLinux, {{"/linux/resources/cpu/idle", "2"}}, "/linux/resources/cpu/idle",
       "must be 0 or 1"},
      {"CpusMalformed", kLinux, {{"/linux/resources/cpu/cpus", "\"0-\""}}, "/linux/resources/cpu/cpus",
       "must be a CPU list"},
      {"MemsMalformed", kLinux, {{"/linux/resources/cpu/mems", "\"a\""}}, "/linux/resources/cpu/mems",
       "must be a memory node list"},
      {"BlkioWeightOutOfRange", kLinux, {{"/linux/resources/blockIO/weight", "5"}}, "/linux/resources/blockIO/weight",
       "must be between 10 and 1000"},
      {"BlkioDeviceLeafWeightOutOfRange", kLinux, {{"/linux/resources/blockIO/weightDevice/0/leafWeight", "2000"}},
       "/linux/resources/blockIO/weightDevice/0/leafWeight", "must be between 10 and 1000"},
      {"HugepageSizeMalformed", kLinux, {{"/linux/resources/hugepageLimits/0/pageSize", "\"2M\""}},
       "/linux/resources/hugepageLimits/0/pageSize", "must be a page size"},
      {"NetworkPriorityWithoutName", kLinux, {{"/linux/resources/network/priorities/0/name", "\"\""}},
       "/linux/resources/network/priorities/0/name", "must name a network interface"},
      {"RdmaEmptyDevice", kLinux, {{"/linux/resources/rdma/", "{}"}}, "/linux/resources/rdma/", "must not be empty"},
      {"UnifiedKeyMalformed", kLinux, {{"/linux/resources/unified/cgroup", "\"x\""}},
       "/linux/resources/unified/cgroup", "must name a cgroup v2 interface file"},
      // ---- linux.seccomp ----
      {"SeccompUnknownDefaultAction", kLinux, {{"/linux/seccomp/defaultAction", "\"SCMP_ACT_FOO\""}},
       "/linux/seccomp/defaultAction", "unknown seccomp action \"SCMP_ACT_FOO\""},
      {"SeccompDefaultErrnoWithoutErrnoAction", kLinux, {{"/linux/seccomp/defaultAction", "\"SCMP_ACT_ALLOW\""}},
       "/linux/seccomp/defaultErrnoRet", "is only valid when defaultAction is SCMP_ACT_ERRNO"},
      {"SeccompUnknownArchitecture", kLinux, {{"/linux/seccomp/architectures/1", "\"SCMP_ARCH_Z80\""}},
       "/linux/seccomp/architectures/1", "unknown seccomp architecture \"SCMP_ARCH_Z80\""},
      {"SeccompUnknownFlag", kLinux, {{"/linux/seccomp/flags/0", "\"SECCOMP_FILTER_FLAG_FAST\""}},
       "/linux/seccomp/flags/0", "unknown seccomp flag"},
      {"SeccompRuleWithoutNames", kLinux, {{"/linux/seccomp/syscalls/0/names", "[]"}},
       "/linux/seccomp/syscalls/0/names", "must be a non-empty array of system call names"},
      {"SeccompRuleEmptyName", kLinux, {{"/linux/seccomp/syscalls/0/names/1", "\"\""}},
       "/linux/seccomp/syscalls/0/names/1", "got an empty string"},
      {"SeccompRuleUnknownAction", kLinux, {{"/linux/seccomp/syscalls/0/action", "\"SCMP_ACT_MAYBE\""}},
       "/linux/seccomp/syscalls/0/action", "unknown seccomp action \"SCMP_ACT_MAYBE\""},
      {"SeccompErrnoRetWithoutErrnoAction", kLinux, {{"/linux/seccomp/syscalls/0/errnoRet", "1"}},
       "/linux/seccomp/syscalls/0/errnoRet", "is only valid when the action is SCMP_ACT_ERRNO"},
      {"SeccompArgIndexTooLarge", kLinux, {{"/linux/seccomp/syscalls/2/args/0/index", "6"}},
       "/linux/seccomp/syscalls/2/args/0/index", "from 0 to 5"},
      {"SeccompArgUnknownOperator", kLinux, {{"/linux/seccomp/syscalls/2/args/0/op", "\"SCMP_CMP_XX\""}},
       "/linux/seccomp/syscalls/2/args/0/op", "unknown seccomp operator"},
      {"SeccompNotifyWithoutListener", kLinux, {{"/linux/seccomp/listenerPath", std::nullopt}},
       "/linux/seccomp/listenerPath", "is required when an action is SCMP_ACT_NOTIFY"},
      {"SeccompListenerRelative", kLinux, {{"/linux/seccomp/listenerPath", "\"run/x.sock\""}},
       "/linux/seccomp/listenerPath", "must be an absolute path"},
      // ---- windows ----
      {"WindowsNoLayerFolders", kWin, {{"/windows/layerFolders", "[]"}}, "/windows/layerFolders",
       "must list at least one layer folder"},
      {"WindowsLayerFolderRelative", kWin, {{"/windows/layerFolders/0", "\"layers\\\\12\""}},
       "/windows/layerFolders/0", "must be an absolute Windows path"},
      {"WindowsDeviceWithoutId", kWin, {{"/windows/devices/0/id", "\"\""}}, "/windows/devices/0/id",
       "must identify the device"},
      {"WindowsDeviceWithoutIdType", kWin, {{"/windows/devices/0/idType", "\"\""}}, "/windows/devices/0/idType",
       "must say what kind of ID"},
      {"WindowsCpuCountZero", kWin, {{"/windows/resources/cpu/count", "0"}}, "/windows/resources/cpu/count",
       "must be at least 1"},
      {"WindowsCpuSharesTooLarge", kWin, {{"/windows/resources/cpu/shares", "10001"}}, "/windows/resources/cpu/shares",
       "must be between 0 and 10000"},
      {"WindowsCpuMaximumZero", kWin, {{"/windows/resources/cpu/maximum", "0"}}, "/windows/resources/cpu/maximum",
       "must be between 1 and 10000"},
      {"WindowsUtilityVmPathRelative", kWin,
       {{"/root", std::nullopt}, {"/windows/hyperv", "{\"utilityVMPath\":\"uvm\"}"}},
       "/windows/hyperv/utilityVMPath", "must be an absolute Windows path"},
      // ---- vm ----
      {"VmHypervisorRelative", kLinux, {{"/vm/hypervisor/path", "\"qemu\""}}, "/vm/hypervisor/path",
       "must be an absolute path"},
      {"VmKernelRelative", kLinux, {{"/vm/kernel/path", "\"vmlinuz\""}}, "/vm/kernel/path", "must be an absolute path"},
      {"VmInitrdRelative", kLinux, {{"/vm/kernel/initrd", "\"initrd\""}}, "/vm/kernel/initrd",
       "must be an absolute path"},
      {"VmImageRelative", kLinux, {{"/vm/image/path", "\"disk.img\""}}, "/vm/image/path", "must be an absolute path"},
      {"VmImageUnknownFormat", kLinux, {{"/vm/image/format", "\"iso\""}}, "/vm/image/format",
       "unknown image format \"iso\""},
  };
  return cases;
}

class RuleTest : public ::testing::TestWithParam<RuleCase> {};

TEST_P(RuleTest, ReportsTheViolationAtItsPointer) {
  const RuleCase& rc = GetParam();
  // The unedited fixture is valid, so the error comes from the edit.
  ASSERT_TRUE(oci::validate(*oci::parse_config(oci_test::read_fixture(rc.fixture)).value).ok());
  const oci::Validation v = validate_edited(rc.fixture, rc.edits);
  EXPECT_FALSE(v.ok());
  EXPECT_TRUE(has_error(v.errors, rc.pointer, rc.message))
      << "expected " << rc.pointer << ": ..." << rc.message << "...\ngot:\n" << oci::format_diagnostics(v.errors);
}

INSTANTIATE_TEST_SUITE_P(Validate, RuleTest, ::testing::ValuesIn(rule_cases()),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(Validate, TheIssuesExampleMessagesAreExact) {
  auto v = validate_edited(kLinux, {{"/process/args", "[]"}, {"/linux/namespaces/2/type", "\"foo\""}});
  ASSERT_EQ(v.errors.size(), 2U) << oci::format_diagnostics(v.errors);
  EXPECT_EQ(v.errors[0].to_string(), "/process/args: must be a non-empty array of strings");
  EXPECT_EQ(v.errors[1].to_string().rfind("/linux/namespaces/2/type: unknown namespace \"foo\"", 0), 0U)
      << v.errors[1].to_string();
}

TEST(Validate, CollectsEveryError) {
  const auto v = validate_edited(kLinux, {{"/ociVersion", "\"3.1.0\""},
                                          {"/process/cwd", "\"relative\""},
                                          {"/mounts/0/destination", "\"proc\""},
                                          {"/process/rlimits/0/type", "\"RLIMIT_BOGUS\""},
                                          {"/linux/namespaces/4/type", "\"pid\""},
                                          {"/linux/seccomp/architectures/0", "\"SCMP_ARCH_NOPE\""},
                                          {"/linux/seccomp/syscalls/1/action", "\"SCMP_ACT_NOPE\""}});
  EXPECT_EQ(v.errors.size(), 7U) << oci::format_diagnostics(v.errors);
  for (const auto* p : {"/ociVersion", "/process/cwd", "/mounts/0/destination", "/process/rlimits/0/type",
                        "/linux/namespaces/4/type", "/linux/seccomp/architectures/0", "/linux/seccomp/syscalls/1/action"}) {
    EXPECT_TRUE(has_error(v.errors, p, "")) << p;
  }
}

TEST(Validate, UnknownCapabilityIsAWarningNotAnError) {
  const auto v = validate_edited(kLinux, {{"/process/capabilities/permitted/0", "\"CAP_FUTURE_THING\""}});
  EXPECT_TRUE(v.ok()) << oci::format_diagnostics(v.errors);
  EXPECT_TRUE(has_error(v.warnings, "/process/capabilities/permitted/0", "unknown capability \"CAP_FUTURE_THING\""));
}

TEST(Validate, NewerMinorVersionIsAWarning) {
  const auto v = validate_edited(kLinux, {{"/ociVersion", "\"1.9.0\""}});
  EXPECT_TRUE(v.ok());
  EXPECT_TRUE(has_error(v.warnings, "/ociVersion", "newer than"));
}

TEST(Validate, TheNewestKnownVersionGivesNoWarningANewerOneDoes) {
  // containerd 2.4 writes 1.3.0 into every config.json.
  EXPECT_EQ(oci::kOciVersionMax, "1.3.0");
  for (const auto* version : {"\"1.3.0\"", "\"1.2.1\"", "\"1.3.0-rc.1\"", "\"1.3.0+dev\""}) {
    const auto v = validate_edited(kLinux13, {{"/ociVersion", version}});
    EXPECT_TRUE(v.ok()) << version << "\n" << oci::format_diagnostics(v.errors);
    EXPECT_FALSE(has_error(v.warnings, "/ociVersion", "")) << version << "\n" << oci::format_diagnostics(v.warnings);
  }
  for (const auto* version : {"\"1.4.0\"", "\"1.3.1\""}) {
    const auto v = validate_edited(kLinux13, {{"/ociVersion", version}});
    EXPECT_TRUE(v.ok()) << version;
    EXPECT_TRUE(has_error(v.warnings, "/ociVersion", "is newer than 1.3.0, the newest this runtime knows")) << version;
  }
}

TEST(Validate, MemoryPolicyModesAndTheirNodes) {
  struct Case {
    std::string_view mode;
    std::string_view nodes;
    std::string_view flags;
  };
  // Accepted: what set_mempolicy(2) takes (MPOL_PREFERRED without nodes is local allocation; the kernel
  // ignores MPOL_DEFAULT's flags).
  for (const Case& ok : {Case{"MPOL_DEFAULT", "", "[]"}, Case{"MPOL_LOCAL", "", "[]"},
                         Case{"MPOL_BIND", "0", "[\"MPOL_F_NUMA_BALANCING\", \"MPOL_F_STATIC_NODES\"]"},
                         Case{"MPOL_PREFERRED_MANY", "0-1", "[\"MPOL_F_NUMA_BALANCING\"]"},
                         Case{"MPOL_WEIGHTED_INTERLEAVE", " 0 , 2-3 ", "[\"MPOL_F_RELATIVE_NODES\"]"},
                         Case{"MPOL_PREFERRED", "", "[]"}, Case{"MPOL_PREFERRED", "1", "[\"MPOL_F_RELATIVE_NODES\"]"},
                         Case{"MPOL_DEFAULT", "", "[\"MPOL_F_STATIC_NODES\"]"}}) {
    const std::string policy = "{\"mode\":\"" + std::string(ok.mode) + "\",\"nodes\":\"" + std::string(ok.nodes) +
                               "\",\"flags\":" + std::string(ok.flags) + "}";
    const auto v = validate_edited(kLinux13, {{"/linux/memoryPolicy", policy}});
    EXPECT_TRUE(v.ok()) << policy << "\n" << oci::format_diagnostics(v.errors);
  }
  // Without "nodes" at all (its Go member has no omitempty, but reading does not require it).
  EXPECT_TRUE(validate_edited(kLinux13, {{"/linux/memoryPolicy", "{\"mode\":\"MPOL_DEFAULT\"}"}}).ok());
  // Every problem at once, each at its pointer.
  const auto v = validate_edited(
      kLinux13, {{"/linux/memoryPolicy",
                  "{\"mode\":\"MPOL_LOCAL\",\"nodes\":\"1\",\"flags\":[\"MPOL_F_NUMA_BALANCING\",\"nope\"]}"}});
  EXPECT_EQ(v.errors.size(), 3U) << oci::format_diagnostics(v.errors);
  EXPECT_TRUE(has_error(v.errors, "/linux/memoryPolicy/nodes", "must be empty with mode MPOL_LOCAL"));
  EXPECT_TRUE(has_error(v.errors, "/linux/memoryPolicy/flags/0", "only valid with mode MPOL_BIND"));
  EXPECT_TRUE(has_error(v.errors, "/linux/memoryPolicy/flags/1", "unknown memory policy flag \"nope\""));
}

TEST(Validate, AcceptsTheSpecsVersionForms) {
  for (const auto* version : {"\"1.0.0\"", "\"1.0.2-dev\"", "\"1.1.0-rc.1\"", "\"1.2.0+build.5\""}) {
    EXPECT_TRUE(validate_edited(kRunc, {{"/ociVersion", version}}).ok()) << version;
  }
}

TEST(Validate, LoadConfigDropsTheValueOnValidationErrors) {
  auto doc = oci_test::fixture_json(kRunc);
  oci_test::set_at(doc, "/process/cwd", "tmp");
  const auto r = oci::load_config(boost::json::serialize(doc));
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(r.value.has_value());
  EXPECT_TRUE(has_error(r.errors, "/process/cwd", "must be an absolute path"));
}

TEST(Validate, CapsTheNumberOfErrors) {
  oci::Spec spec = *oci::parse_config(oci_test::read_fixture(kRunc)).value;
  spec.hostname.clear();
  spec.linux_config->namespaces.assign(5000, oci::Namespace{"bogus", ""});
  const auto v = oci::validate(spec, 50);
  ASSERT_EQ(v.errors.size(), 50U);
  EXPECT_EQ(v.errors[0].pointer, "/linux/namespaces/0/type");
  EXPECT_NE(v.errors.back().message.find("too many problems"), std::string::npos);
  EXPECT_EQ(oci::validate(spec).errors.size(), 1000U);
}

TEST(Validate, ProcessIsOptional) {
  EXPECT_TRUE(validate_edited(kRunc, {{"/process", std::nullopt}}).ok());
}

}  // namespace
