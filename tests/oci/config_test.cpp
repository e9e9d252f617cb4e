// config.json: real-world configs parse, validate and round-trip; type errors name their pointer; unknown
// members are ignored with a debug log; hostile documents are refused within the limits.
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "oci/config.hpp"
#include "oci/validate.hpp"
#include "test_support.hpp"

namespace {

using oci_test::fixture_json;
using oci_test::has_error;
using oci_test::read_fixture;

class FixtureTest : public ::testing::TestWithParam<std::string_view> {};

TEST_P(FixtureTest, ParsesAndValidatesWithoutErrors) {
  const auto result = oci::load_config(read_fixture(GetParam()));
  EXPECT_TRUE(result.ok()) << oci::format_diagnostics(result.errors);
  ASSERT_TRUE(result.value.has_value());
}

TEST_P(FixtureTest, RoundTripsThroughTheModel) {
  const auto first = oci::parse_config(read_fixture(GetParam()));
  ASSERT_TRUE(first.ok()) << oci::format_diagnostics(first.errors);
  for (const auto style : {oci::JsonStyle::indented, oci::JsonStyle::compact}) {
    const std::string text = oci::to_json(*first.value, style);
    const auto second = oci::parse_config(text);
    ASSERT_TRUE(second.ok()) << oci::format_diagnostics(second.errors) << text;
    EXPECT_EQ(*first.value, *second.value);
    EXPECT_EQ(oci::to_json(*second.value, style), text);
  }
}

TEST_P(FixtureTest, WritesBackEveryMemberOfTheOriginal) {
  // Every member the fixture has is modelled: writing the model gives the same JSON value back.
  const auto result = oci::parse_config(read_fixture(GetParam()));
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(boost::json::parse(oci::to_json(*result.value)), fixture_json(GetParam()))
      << oci::to_json(*result.value);
}

INSTANTIATE_TEST_SUITE_P(RealWorldConfigs, FixtureTest, ::testing::ValuesIn(oci_test::kFixtures),
                         [](const auto& param_info) {
                           std::string name(param_info.param.substr(0, param_info.param.rfind('.')));
                           for (auto& ch : name) {
                             if (ch == '-' || ch == '.') ch = '_';
                           }
                           return name;
                         });

TEST(Config, RuncSpecHasItsDefaults) {
  const auto r = oci::load_config(read_fixture("runc-spec.json"));
  ASSERT_TRUE(r.ok());
  const oci::Spec& s = *r.value;
  EXPECT_EQ(s.oci_version, "1.0.2-dev");
  ASSERT_TRUE(s.process);
  EXPECT_TRUE(s.process->terminal);
  EXPECT_EQ(s.process->args, std::vector<std::string>{"sh"});
  EXPECT_EQ(s.process->cwd, "/");
  ASSERT_EQ(s.process->rlimits.size(), 1U);
  EXPECT_EQ(s.process->rlimits[0].type, "RLIMIT_NOFILE");
  EXPECT_EQ(s.process->rlimits[0].hard, 1024U);
  ASSERT_TRUE(s.process->capabilities);
  EXPECT_EQ(s.process->capabilities->bounding.size(), 3U);
  ASSERT_TRUE(s.root);
  EXPECT_EQ(s.root->path, "rootfs");
  EXPECT_TRUE(s.root->readonly);
  EXPECT_EQ(s.hostname, "runc");
  ASSERT_TRUE(s.linux_config);
  EXPECT_EQ(s.linux_config->namespaces.size(), 5U);
  EXPECT_EQ(s.linux_config->masked_paths.front(), "/proc/acpi");
  ASSERT_TRUE(s.linux_config->resources);
  ASSERT_EQ(s.linux_config->resources->devices.size(), 1U);
  EXPECT_FALSE(s.linux_config->resources->devices[0].allow);
}

TEST(Config, RootlessRuncSpecHasUserNamespaceMappings) {
  const auto r = oci::load_config(read_fixture("runc-spec-rootless.json"));
  ASSERT_TRUE(r.ok());
  const auto& l = *r.value->linux_config;
  ASSERT_EQ(l.uid_mappings.size(), 1U);
  EXPECT_EQ(l.uid_mappings[0].size, 1U);
  EXPECT_EQ(l.gid_mappings.size(), 1U);
}

TEST(Config, ContainerdConfigCarriesTheImageAndFlags) {
  const auto r = oci::load_config(read_fixture("containerd-ctr-run.json"));
  ASSERT_TRUE(r.ok());
  const oci::Spec& s = *r.value;
  EXPECT_EQ(s.process->user.uid, 1000U);
  EXPECT_EQ(s.process->user.additional_gids, std::vector<std::uint32_t>{1000});
  EXPECT_EQ(s.process->cwd, "/srv");
  EXPECT_EQ(s.process->args.front(), "/bin/app");
  EXPECT_EQ(s.process->env.back(), "EXTRA=1");
  EXPECT_TRUE(s.process->no_new_privileges);
  const auto& bind = s.mounts.back();
  EXPECT_EQ(bind.destination, "/data");
  EXPECT_EQ(bind.type, "bind");
  EXPECT_EQ(bind.options, (std::vector<std::string>{"rbind", "ro"}));
  EXPECT_EQ(s.linux_config->cgroups_path, "/default/ctr-run-test");
}

TEST(Config, KubernetesConfigCarriesCriFields) {
  const auto r = oci::load_config(read_fixture("kubernetes-pod-container.json"));
  ASSERT_TRUE(r.ok());
  const oci::Spec& s = *r.value;
  EXPECT_EQ(s.annotations.at("io.kubernetes.cri.container-type"), "container");
  EXPECT_EQ(*s.process->oom_score_adj, 968);
  const auto& l = *s.linux_config;
  EXPECT_NE(l.cgroups_path.find(":cri-containerd:"), std::string::npos);
  EXPECT_EQ(l.namespaces[2].path, "/proc/48213/ns/uts");
  EXPECT_EQ(*l.resources->cpu->quota, 50000);
  EXPECT_EQ(*l.resources->memory->limit, 268435456);
  EXPECT_EQ(l.resources->unified.at("memory.oom.group"), "1");
  ASSERT_TRUE(l.seccomp);
  EXPECT_EQ(l.seccomp->default_action, "SCMP_ACT_ERRNO");
  EXPECT_EQ(l.seccomp->syscalls[4].args[0].op, "SCMP_CMP_MASKED_EQ");
  EXPECT_EQ(l.seccomp->syscalls[3].args[0].value, 4294967295U);
  EXPECT_EQ(*l.seccomp->syscalls[5].errno_ret, 38U);
}

TEST(Config, WindowsConfigCarriesWindowsFields) {
  const auto r = oci::load_config(read_fixture("windows-container.json"));
  ASSERT_TRUE(r.ok()) << oci::format_diagnostics(r.errors);
  const oci::Spec& s = *r.value;
  EXPECT_EQ(s.process->user.username, "ContainerUser");
  EXPECT_EQ(s.process->cwd, "C:\\");
  ASSERT_TRUE(s.windows_config);
  const auto& w = *s.windows_config;
  EXPECT_EQ(w.layer_folders.size(), 2U);
  EXPECT_EQ(*w.resources->cpu->maximum, 5000);
  EXPECT_EQ(*w.resources->storage->sandbox_size, 21474836480U);
  EXPECT_EQ(w.network->dns_search_list.size(), 3U);
  EXPECT_TRUE(w.ignore_flushes_during_boot);
  EXPECT_EQ(boost::json::parse(w.credential_spec).at("CmsPlugins").at(0), "ActiveDirectory");
  EXPECT_FALSE(s.linux_config);
}

TEST(Config, FullConfigCoversTheNewerMembers) {
  const auto r = oci::load_config(read_fixture("full-1.2.json"));
  ASSERT_TRUE(r.ok()) << oci::format_diagnostics(r.errors);
  const oci::Spec& s = *r.value;
  EXPECT_EQ(s.process->io_priority->io_class, "IOPRIO_CLASS_BE");
  EXPECT_EQ(*s.process->scheduler->deadline, 20000000U);
  EXPECT_EQ(s.process->exec_cpu_affinity->final, "0-3,7");
  EXPECT_EQ(*s.process->user.umask, 18U);
  EXPECT_EQ(s.hooks->create_runtime[0].timeout, 30);
  EXPECT_EQ(s.mounts[1].uid_mappings[0].host_id, 100000U);
  const auto& l = *s.linux_config;
  EXPECT_EQ(l.time_offsets.at("monotonic").secs, -60);
  EXPECT_EQ(l.net_devices.at("eth1").name, "ctr1");
  EXPECT_EQ(l.personality->domain, "LINUX");
  EXPECT_EQ(l.intel_rdt->schemata.front(), "L2:0=ff");
  EXPECT_EQ(*l.resources->block_io->weight_device[0].leaf_weight, 300);
  EXPECT_EQ(l.resources->rdma.at("mlx5_1").hca_objects, 10000U);
  EXPECT_EQ(*l.resources->memory->check_before_update, true);
  EXPECT_EQ(l.seccomp->listener_path, "/run/litebox/seccomp.sock");
  EXPECT_EQ(s.vm_config->image->format, "qcow2");
  EXPECT_EQ(s.annotations.at("com.example/owner"), "team~a");
  // Deprecated prestart hooks are accepted with a warning.
  EXPECT_TRUE(has_error(r.warnings, "/hooks/prestart", "deprecated"));
}

TEST(Config, Spec130MembersMemoryPolicyAndHwConfig) {
  const auto r = oci::load_config(read_fixture("full-1.3.json"));
  ASSERT_TRUE(r.ok()) << oci::format_diagnostics(r.errors);
  const oci::Spec& s = *r.value;
  EXPECT_EQ(s.oci_version, "1.3.0");
  const oci::MemoryPolicy& mp = *s.linux_config->memory_policy;
  EXPECT_EQ(mp.mode, "MPOL_INTERLEAVE");
  EXPECT_EQ(mp.nodes, "0-3,7");
  EXPECT_EQ(mp.flags, std::vector<std::string>{"MPOL_F_STATIC_NODES"});
  const oci::VmHwConfig& hw = *s.vm_config->hw_config;
  EXPECT_EQ(hw.device_tree, "/var/lib/litebox/vm.dtb");
  EXPECT_EQ(hw.vcpus, 2U);
  EXPECT_EQ(hw.memory, 4294967296U);
  EXPECT_EQ(hw.dtdevs, std::vector<std::string>{"/soc/ethernet@ff0e0000"});
  ASSERT_EQ(hw.iomems.size(), 2U);
  EXPECT_FALSE(hw.iomems[0].first_gfn);
  EXPECT_EQ(hw.iomems[0].first_mfn, 12288U);
  EXPECT_EQ(hw.iomems[1].first_gfn, 12544U);
  EXPECT_EQ(hw.iomems[1].nr_mfns, 2U);
  EXPECT_EQ(hw.irqs, (std::vector<std::uint32_t>{11, 22}));
  EXPECT_TRUE(r.warnings.size() == 1 && has_error(r.warnings, "/hooks/prestart", "deprecated"))
      << oci::format_diagnostics(r.warnings);
}

TEST(Config, MemoryPolicyIsWrittenAsTheSpecsGoTypeWritesIt) {
  // "mode" and "nodes" are always written (no omitempty in the Go type), "flags" only when set; the
  // member follows intelRdt, as in the Go struct.
  oci::Spec spec = *oci::parse_config(read_fixture("full-1.3.json")).value;
  spec.linux_config->memory_policy = oci::MemoryPolicy{"MPOL_DEFAULT", "", {}};
  const std::string text = oci::to_json(spec, oci::JsonStyle::compact);
  EXPECT_NE(text.find(R"("intelRdt":)"), std::string::npos);
  EXPECT_LT(text.find(R"("intelRdt":)"), text.find(R"("memoryPolicy":{"mode":"MPOL_DEFAULT","nodes":""})"))
      << text;
  EXPECT_LT(text.find(R"("memoryPolicy":)"), text.find(R"("personality":)")) << text;
  const auto back = oci::parse_config(text);
  ASSERT_TRUE(back.ok()) << oci::format_diagnostics(back.errors);
  EXPECT_EQ(*back.value->linux_config->memory_policy, *spec.linux_config->memory_policy);
  // Absent "nodes" reads as none.
  auto doc = fixture_json("full-1.3.json");
  oci_test::erase_at(doc, "/linux/memoryPolicy/nodes");
  const auto without = oci::parse_config(boost::json::serialize(doc));
  ASSERT_TRUE(without.ok()) << oci::format_diagnostics(without.errors);
  EXPECT_EQ(without.value->linux_config->memory_policy->nodes, "");
}

TEST(Config, Spec130RequiredMembersAreNamed) {
  auto doc = fixture_json("full-1.3.json");
  oci_test::erase_at(doc, "/linux/memoryPolicy/mode");
  oci_test::erase_at(doc, "/vm/hwConfig/iomems/1/firstMFN");
  oci_test::erase_at(doc, "/vm/hwConfig/iomems/0/nrMFNs");
  const auto r = oci::parse_config(boost::json::serialize(doc));
  EXPECT_FALSE(r.ok());
  for (const auto* p : {"/linux/memoryPolicy/mode", "/vm/hwConfig/iomems/1/firstMFN", "/vm/hwConfig/iomems/0/nrMFNs"}) {
    EXPECT_TRUE(has_error(r.errors, p, "is required but missing")) << p << "\n" << oci::format_diagnostics(r.errors);
  }
  EXPECT_EQ(r.errors.size(), 3U) << oci::format_diagnostics(r.errors);
}

// ---- type errors ----

struct TypeCase {
  std::string_view pointer;
  std::string_view json_value;  // what to put there
  std::string_view message;     // expected in the error at `pointer`
  // The test's name in ctest: the pointer and value, not the struct's bytes (which hold addresses).
  friend void PrintTo(const TypeCase& c, std::ostream* os) { *os << c.pointer << " = " << c.json_value; }
};

class TypeErrorTest : public ::testing::TestWithParam<TypeCase> {};

TEST_P(TypeErrorTest, NamesThePointerAndTheExpectedType) {
  auto doc = fixture_json("full-1.2.json");
  oci_test::set_at(doc, GetParam().pointer, boost::json::parse(GetParam().json_value));
  const auto r = oci::parse_config(boost::json::serialize(doc));
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(r.value.has_value());
  EXPECT_TRUE(has_error(r.errors, GetParam().pointer, GetParam().message)) << oci::format_diagnostics(r.errors);
}

INSTANTIATE_TEST_SUITE_P(
    Config, TypeErrorTest,
    ::testing::Values(TypeCase{"/ociVersion", "1", "must be a string, got a number"},
                      TypeCase{"/process/args", "\"sh\"", "must be an array of strings, got a string"},
                      TypeCase{"/process/args/1", "7", "must be a string, got a number"},
                      TypeCase{"/process/terminal", "\"yes\"", "must be a boolean, got a string"},
                      TypeCase{"/process/user/uid", "-1", "must be an integer between 0 and 4294967295, got -1"},
                      TypeCase{"/process/user/gid", "4294967296", "between 0 and 4294967295, got 4294967296"},
                      TypeCase{"/process/oomScoreAdj", "1.5", "must be an integer"},
                      TypeCase{"/process/rlimits/0/hard", "1e3", "must be an integer"},
                      TypeCase{"/process/rlimits/0/soft", "18446744073709551616", "must be an integer"},
                      TypeCase{"/process/consoleSize", "[]", "must be an object, got an array"},
                      TypeCase{"/linux/sysctl/net.core.somaxconn", "1024", "must be a string, got a number"},
                      TypeCase{"/linux/resources/blockIO/weight", "70000", "between 0 and 65535"},
                      TypeCase{"/linux/resources/memory/limit", "true", "must be an integer"},
                      TypeCase{"/linux/namespaces/0", "\"pid\"", "must be an object, got a string"},
                      TypeCase{"/linux/timeOffsets/boottime/nanosecs", "-5", "between 0 and 4294967295"},
                      TypeCase{"/annotations", "[]", "must be an object whose members are strings, got an array"},
                      TypeCase{"/hooks/poststop/0/timeout", "\"10\"", "must be an integer"},
                      TypeCase{"/vm/kernel", "\"vmlinuz\"", "must be an object, got a string"}));

class TypeErrorTest130 : public TypeErrorTest {};

TEST_P(TypeErrorTest130, NamesThePointerAndTheExpectedType) {
  auto doc = fixture_json("full-1.3.json");
  oci_test::set_at(doc, GetParam().pointer, boost::json::parse(GetParam().json_value));
  const auto r = oci::parse_config(boost::json::serialize(doc));
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(has_error(r.errors, GetParam().pointer, GetParam().message)) << oci::format_diagnostics(r.errors);
}

INSTANTIATE_TEST_SUITE_P(
    Config, TypeErrorTest130,
    ::testing::Values(TypeCase{"/linux/memoryPolicy", "\"MPOL_BIND\"", "must be an object, got a string"},
                      TypeCase{"/linux/memoryPolicy/mode", "2", "must be a string, got a number"},
                      TypeCase{"/linux/memoryPolicy/nodes", "[0, 1]", "must be a string, got an array"},
                      TypeCase{"/linux/memoryPolicy/flags", "\"MPOL_F_STATIC_NODES\"",
                               "must be an array of strings, got a string"},
                      TypeCase{"/linux/memoryPolicy/flags/0", "32768", "must be a string, got a number"},
                      TypeCase{"/vm/hwConfig/vcpus", "-1", "must be an integer between 0 and 4294967295, got -1"},
                      TypeCase{"/vm/hwConfig/memory", "1.5", "must be an integer"},
                      TypeCase{"/vm/hwConfig/irqs/0", "\"11\"", "must be an integer"},
                      TypeCase{"/vm/hwConfig/iomems/0", "12288", "must be an object, got a number"},
                      TypeCase{"/vm/hwConfig/iomems/1/firstGFN", "-3", "must be an integer between 0 and"}));

TEST(Config, MissingRequiredMembersAreNamed) {
  auto doc = fixture_json("full-1.2.json");
  oci_test::erase_at(doc, "/process/cwd");
  oci_test::erase_at(doc, "/mounts/0/destination");
  oci_test::erase_at(doc, "/linux/seccomp/syscalls/0/action");
  oci_test::erase_at(doc, "/linux/resources/pids/limit");
  oci_test::erase_at(doc, "/ociVersion");
  const auto r = oci::parse_config(boost::json::serialize(doc));
  EXPECT_FALSE(r.ok());
  for (const auto* p : {"/process/cwd", "/mounts/0/destination", "/linux/seccomp/syscalls/0/action",
                        "/linux/resources/pids/limit", "/ociVersion"}) {
    EXPECT_TRUE(has_error(r.errors, p, "is required but missing")) << p << "\n" << oci::format_diagnostics(r.errors);
  }
  EXPECT_EQ(r.errors.size(), 5U);
}

TEST(Config, NullMeansAbsent) {
  auto doc = fixture_json("runc-spec.json");
  oci_test::set_at(doc, "/hostname", nullptr);
  oci_test::set_at(doc, "/process/capabilities", nullptr);
  const auto r = oci::parse_config(boost::json::serialize(doc));
  ASSERT_TRUE(r.ok()) << oci::format_diagnostics(r.errors);
  EXPECT_EQ(r.value->hostname, "");
  EXPECT_FALSE(r.value->process->capabilities);
}

TEST(Config, UnknownMembersAreIgnoredWithADebugLog) {
  auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(16);
  auto previous = spdlog::default_logger();
  auto logger = std::make_shared<spdlog::logger>("oci-test", sink);
  logger->set_level(spdlog::level::debug);
  spdlog::set_default_logger(logger);

  auto doc = fixture_json("runc-spec.json");
  oci_test::set_at(doc, "/futureFeature", boost::json::parse(R"({"a":[1,2,3]})"));
  oci_test::set_at(doc, "/linux/resources/memory", boost::json::parse(R"({"limit":1048576,"futureKnob":1})"));
  const auto r = oci::load_config(boost::json::serialize(doc));
  spdlog::set_default_logger(previous);

  ASSERT_TRUE(r.ok()) << oci::format_diagnostics(r.errors);
  EXPECT_EQ(*r.value->linux_config->resources->memory->limit, 1048576);
  const auto lines = sink->last_formatted();
  std::string all;
  for (const auto& l : lines) all += l;
  EXPECT_NE(all.find("ignoring unknown member /futureFeature"), std::string::npos) << all;
  EXPECT_NE(all.find("ignoring unknown member /linux/resources/memory/futureKnob"), std::string::npos) << all;
  // Writing drops what the model does not know.
  EXPECT_EQ(oci::to_json(*r.value).find("futureFeature"), std::string::npos);
}

TEST(Config, PointerTokensAreEscaped) {
  auto doc = fixture_json("runc-spec.json");
  oci_test::set_at(doc, "/annotations", boost::json::parse(R"({"a/b~c": 5})"));
  const auto r = oci::parse_config(boost::json::serialize(doc));
  EXPECT_TRUE(has_error(r.errors, "/annotations/a~1b~0c", "must be a string")) << oci::format_diagnostics(r.errors);
}

// ---- hostile input ----

TEST(ConfigLimits, RefusesDocumentsLargerThanTheLimit) {
  const std::string text = read_fixture("runc-spec.json");
  oci::ParseLimits limits;
  limits.max_bytes = 100;
  const auto r = oci::parse_config(text, limits);
  EXPECT_FALSE(r.ok());
  ASSERT_EQ(r.errors.size(), 1U);
  EXPECT_EQ(r.errors[0].pointer, "");
  EXPECT_NE(r.errors[0].message.find("more than the limit of 100 bytes"), std::string::npos);
}

TEST(ConfigLimits, RefusesNestingDeeperThanTheLimit) {
  // Deep nesting inside an unknown member must be refused too, before anything recurses over it.
  std::string text = R"({"ociVersion":"1.0.0","x":)" + std::string(100000, '[') + std::string(100000, ']') + "}";
  const auto r = oci::parse_config(text);
  EXPECT_FALSE(r.ok());
  ASSERT_EQ(r.errors.size(), 1U);
  EXPECT_NE(r.errors[0].message.find("nesting deeper than the limit of 64 levels"), std::string::npos)
      << r.errors[0].message;

  oci::ParseLimits shallow;
  shallow.max_depth = 3;
  EXPECT_FALSE(oci::parse_config(read_fixture("runc-spec.json"), shallow).ok());
}

TEST(ConfigLimits, CapsTheNumberOfErrors) {
  std::string text = R"({"ociVersion":"1.0.0","mounts":[)";
  for (int i = 0; i < 5000; ++i) text += (i ? ",7" : "7");
  text += "]}";
  oci::ParseLimits limits;
  limits.max_errors = 10;
  const auto r = oci::parse_config(text, limits);
  ASSERT_EQ(r.errors.size(), 10U);
  EXPECT_EQ(r.errors[0].pointer, "/mounts/0");
  EXPECT_NE(r.errors.back().message.find("too many errors"), std::string::npos);
}

TEST(ConfigLimits, ReportsMalformedJson) {
  for (const std::string_view text : {"", "{", "{\"ociVersion\": }", "[1,2", "{\"a\":1}x", "nul"}) {
    const auto r = oci::parse_config(text);
    EXPECT_FALSE(r.ok()) << text;
    ASSERT_EQ(r.errors.size(), 1U) << text;
    EXPECT_NE(r.errors[0].message.find("not valid JSON"), std::string::npos) << r.errors[0].message;
  }
  const auto bad_utf8 = oci::parse_config("{\"ociVersion\":\"1.0.0\",\"hostname\":\"\xff\xfe\"}");
  EXPECT_FALSE(bad_utf8.ok());
}

TEST(ConfigLimits, TopLevelMustBeAnObject) {
  for (const std::string_view text : {"[]", "42", "\"config\"", "null", "true"}) {
    const auto r = oci::parse_config(text);
    EXPECT_FALSE(r.ok()) << text;
    EXPECT_TRUE(has_error(r.errors, "", "must be an object")) << text << oci::format_diagnostics(r.errors);
  }
}

}  // namespace
