// features.json: generated from the model's lists and the platform's switches; written and read back.
#include <algorithm>
#include <string>

#include "oci/features.hpp"
#include "oci/known_values.hpp"
#include "oci/version.hpp"
#include "test_support.hpp"

namespace {

bool has(const std::vector<std::string>& v, std::string_view x) { return std::find(v.begin(), v.end(), x) != v.end(); }

oci::PlatformSupport linux_platform() {
  oci::PlatformSupport p;
  p.seccomp = true;
  p.seccomp_supported_flags = {"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_NOT_A_FLAG"};
  p.apparmor = true;
  p.cgroup_v2 = true;
  p.cgroup_systemd = true;
  p.idmap_mounts = true;
  p.annotations["org.opencontainers.runc.version"] = "litebox 0.1.0";
  p.potentially_unsafe_config_annotations = {"io.litebox.debug."};
  return p;
}

TEST(Features, ListsWhatTheModelKnows) {
  const oci::Features f = oci::make_features(linux_platform());
  EXPECT_EQ(f.oci_version_min, "1.0.0");
  EXPECT_EQ(f.oci_version_max, oci::kOciVersionMax);
  EXPECT_EQ(f.hooks.size(), 6U);
  EXPECT_TRUE(has(f.hooks, "createRuntime"));
  EXPECT_TRUE(has(f.mount_options, "rbind"));
  EXPECT_TRUE(has(f.mount_options, "idmap"));
  ASSERT_TRUE(f.linux_features);
  const auto& l = *f.linux_features;
  EXPECT_TRUE(has(l.namespaces, "time"));
  EXPECT_TRUE(has(l.capabilities, "CAP_CHECKPOINT_RESTORE"));
  EXPECT_EQ(l.capabilities.size(), 41U);
  ASSERT_TRUE(l.seccomp);
  EXPECT_EQ(l.seccomp->enabled, true);
  EXPECT_TRUE(has(l.seccomp->actions, "SCMP_ACT_NOTIFY"));
  EXPECT_TRUE(has(l.seccomp->operators, "SCMP_CMP_MASKED_EQ"));
  EXPECT_TRUE(has(l.seccomp->archs, "SCMP_ARCH_X86_64"));
  EXPECT_EQ(l.seccomp->known_flags.size(), 4U);
  // Only flags the spec knows are published as supported.
  EXPECT_EQ(l.seccomp->supported_flags, std::vector<std::string>{"SECCOMP_FILTER_FLAG_LOG"});
  EXPECT_EQ(l.cgroup->v2, true);
  EXPECT_EQ(l.cgroup->v1, false);
  EXPECT_EQ(l.apparmor->enabled, true);
  EXPECT_EQ(l.selinux->enabled, false);
  EXPECT_EQ(l.mount_extensions->idmap->enabled, true);
  EXPECT_EQ(f.annotations.at("org.opencontainers.runc.version"), "litebox 0.1.0");
}

TEST(Features, MemoryPolicyModesAndFlagsArePublishedWhenApplied) {
  oci::PlatformSupport p = linux_platform();
  EXPECT_FALSE(oci::make_features(p).linux_features->memory_policy);
  p.memory_policy = true;
  const oci::Features f = oci::make_features(p);
  ASSERT_TRUE(f.linux_features->memory_policy);
  const auto& mp = *f.linux_features->memory_policy;
  EXPECT_EQ(mp.modes, (std::vector<std::string>{"MPOL_DEFAULT", "MPOL_BIND", "MPOL_INTERLEAVE",
                                                "MPOL_WEIGHTED_INTERLEAVE", "MPOL_PREFERRED", "MPOL_PREFERRED_MANY",
                                                "MPOL_LOCAL"}));
  EXPECT_EQ(mp.flags,
            (std::vector<std::string>{"MPOL_F_NUMA_BALANCING", "MPOL_F_RELATIVE_NODES", "MPOL_F_STATIC_NODES"}));
  // features-linux.md's member names, and intelRdt's 1.3.0 "monitoring".
  const auto doc = boost::json::parse(oci::to_json(f));
  EXPECT_EQ(doc.at("linux").at("memoryPolicy").at("modes").at(1), "MPOL_BIND");
  EXPECT_EQ(doc.at("linux").at("memoryPolicy").at("flags").at(2), "MPOL_F_STATIC_NODES");
  EXPECT_FALSE(doc.at("linux").at("intelRdt").at("monitoring").as_bool());
  const auto back = oci::parse_features(oci::to_json(f));
  ASSERT_TRUE(back.ok()) << oci::format_diagnostics(back.errors);
  EXPECT_EQ(*back.value, f);
}

TEST(Features, WithoutSeccompPublishesNoSeccompLists) {
  oci::PlatformSupport p;
  const oci::Features f = oci::make_features(p);
  ASSERT_TRUE(f.linux_features && f.linux_features->seccomp);
  EXPECT_EQ(f.linux_features->seccomp->enabled, false);
  EXPECT_TRUE(f.linux_features->seccomp->actions.empty());
}

TEST(Features, WindowsPlatformHasNoLinuxSection) {
  oci::PlatformSupport p;
  p.is_linux = false;
  const oci::Features f = oci::make_features(p);
  EXPECT_FALSE(f.linux_features);
  EXPECT_EQ(oci::to_json(f).find("\"linux\""), std::string::npos);
}

TEST(Features, WritesTheSpecsMemberNamesAndRoundTrips) {
  const oci::Features f = oci::make_features(linux_platform());
  const std::string text = oci::to_json(f);
  const auto doc = boost::json::parse(text);
  EXPECT_EQ(doc.at("ociVersionMin"), "1.0.0");
  EXPECT_TRUE(doc.at("linux").at("seccomp").at("knownFlags").is_array());
  EXPECT_TRUE(doc.at("linux").at("mountExtensions").at("idmap").at("enabled").as_bool());
  EXPECT_FALSE(doc.at("linux").at("cgroup").at("systemdUser").as_bool());
  EXPECT_EQ(doc.at("potentiallyUnsafeConfigAnnotations").at(0), "io.litebox.debug.");
  const auto back = oci::parse_features(text);
  ASSERT_TRUE(back.ok()) << oci::format_diagnostics(back.errors);
  EXPECT_EQ(*back.value, f);
}

TEST(Features, ParsingReportsMissingVersions) {
  const auto r = oci::parse_features(R"({"ociVersionMin":"1.0.0"})");
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(oci_test::has_error(r.errors, "/ociVersionMax", "is required but missing"));
}

TEST(KnownValues, ContainsIsExact) {
  EXPECT_TRUE(oci::known::contains(oci::known::rlimit_types(), "RLIMIT_NOFILE"));
  EXPECT_FALSE(oci::known::contains(oci::known::rlimit_types(), "rlimit_nofile"));
  EXPECT_FALSE(oci::known::contains(oci::known::namespace_types(), ""));
}

}  // namespace
