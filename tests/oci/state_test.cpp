// state.json: reading `runc state` output, writing it the same way, and the state rules.
#include <string>

#include "oci/state.hpp"
#include "test_support.hpp"

namespace {

using oci_test::has_error;

// What `runc state` prints (runc 1.1): the OCI members plus runc's own rootfs, created and owner.
constexpr std::string_view kRuncState = R"({
  "ociVersion": "1.0.2-dev",
  "id": "web",
  "pid": 48213,
  "status": "running",
  "bundle": "/run/containerd/io.containerd.runtime.v2.task/default/web",
  "rootfs": "/run/containerd/io.containerd.runtime.v2.task/default/web/rootfs",
  "created": "2026-11-27T09:41:27.123456789Z",
  "owner": "",
  "annotations": {
    "io.kubernetes.cri.container-type": "container"
  }
})";

TEST(State, ReadsRuncStateOutput) {
  const auto r = oci::parse_state(kRuncState);
  ASSERT_TRUE(r.ok()) << oci::format_diagnostics(r.errors);
  const oci::State& s = *r.value;
  EXPECT_EQ(s.oci_version, "1.0.2-dev");
  EXPECT_EQ(s.id, "web");
  EXPECT_EQ(s.pid, 48213);
  EXPECT_EQ(s.status, oci::Status::running);
  EXPECT_EQ(s.bundle, "/run/containerd/io.containerd.runtime.v2.task/default/web");
  EXPECT_EQ(s.annotations.at("io.kubernetes.cri.container-type"), "container");
}

TEST(State, WritesIndentedLikeRunc) {
  oci::State s;
  s.oci_version = "1.2.1";
  s.id = "web";
  s.status = oci::Status::created;
  s.pid = 4242;
  s.bundle = "/var/lib/litebox/web";
  s.annotations["k"] = "v";
  EXPECT_EQ(oci::to_json(s), R"({
  "ociVersion": "1.2.1",
  "id": "web",
  "status": "created",
  "pid": 4242,
  "bundle": "/var/lib/litebox/web",
  "annotations": {
    "k": "v"
  }
}
)");
  EXPECT_EQ(oci::to_json(s, oci::JsonStyle::compact),
            R"({"ociVersion":"1.2.1","id":"web","status":"created","pid":4242,"bundle":"/var/lib/litebox/web","annotations":{"k":"v"}})");
}

TEST(State, RoundTripsEveryStatus) {
  for (const auto status : {oci::Status::creating, oci::Status::created, oci::Status::running, oci::Status::stopped}) {
    oci::State s;
    s.oci_version = "1.0.0";
    s.id = "c1";
    s.status = status;
    s.pid = status == oci::Status::stopped ? 0 : 17;
    s.bundle = "/b";
    const auto r = oci::parse_state(oci::to_json(s));
    ASSERT_TRUE(r.ok()) << oci::to_string(status) << oci::format_diagnostics(r.errors);
    EXPECT_EQ(*r.value, s);
    EXPECT_EQ(oci::status_from_string(oci::to_string(status)), status);
  }
  // A stopped container has no pid: it is omitted.
  oci::State stopped{"1.0.0", "c1", oci::Status::stopped, 0, "/b", {}};
  EXPECT_EQ(oci::to_json(stopped).find("pid"), std::string::npos);
}

struct StateCase {
  std::string_view json;
  std::string_view pointer;
  std::string_view message;
  friend void PrintTo(const StateCase& c, std::ostream* os) { *os << c.pointer << ": " << c.message; }
};

class StateRuleTest : public ::testing::TestWithParam<StateCase> {};

TEST_P(StateRuleTest, RejectsWithPointer) {
  const auto r = oci::parse_state(GetParam().json);
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(r.value.has_value());
  EXPECT_TRUE(has_error(r.errors, GetParam().pointer, GetParam().message)) << oci::format_diagnostics(r.errors);
}

INSTANTIATE_TEST_SUITE_P(
    State, StateRuleTest,
    ::testing::Values(
        StateCase{R"({"ociVersion":"1.0.0","id":"c","status":"paused","pid":1,"bundle":"/b"})", "/status",
                  "unknown status \"paused\""},
        StateCase{R"({"ociVersion":"1.0.0","id":"c","status":3,"pid":1,"bundle":"/b"})", "/status",
                  "must be a string"},
        StateCase{R"({"ociVersion":"1.0.0","id":"c","status":"running","bundle":"/b"})", "/pid",
                  "must be the positive process ID"},
        StateCase{R"({"ociVersion":"1.0.0","id":"c","status":"stopped","pid":-4,"bundle":"/b"})", "/pid",
                  "must not be negative"},
        StateCase{R"({"ociVersion":"1.0.0","id":"","status":"created","pid":1,"bundle":"/b"})", "/id",
                  "must be a non-empty container ID"},
        StateCase{R"({"ociVersion":"1.0.0","id":"c","status":"created","pid":1,"bundle":"b"})", "/bundle",
                  "must be the absolute path"},
        StateCase{R"({"ociVersion":"v1","id":"c","status":"created","pid":1,"bundle":"/b"})", "/ociVersion",
                  "must be a semantic version"},
        StateCase{R"({"ociVersion":"0.9.0","id":"c","status":"created","pid":1,"bundle":"/b"})", "/ociVersion",
                  "major version 0 is not supported"},
        StateCase{R"({"ociVersion":"1.0.0","status":"created","pid":1,"bundle":"/b"})", "/id",
                  "is required but missing"},
        StateCase{R"({"ociVersion":"1.0.0","id":"c","status":"created","pid":1,"bundle":"/b","annotations":{"":"x"}})",
                  "/annotations/", "must not be empty"},
        StateCase{R"({"ociVersion":"1.0.0","id":"c","status":"created","pid":1.5,"bundle":"/b"})", "/pid",
                  "must be an integer"}));

TEST(State, AcceptsAWindowsBundlePath) {
  const auto r = oci::parse_state(R"({"ociVersion":"1.1.0","id":"w","status":"running","pid":8,"bundle":"C:\\bundles\\w"})");
  ASSERT_TRUE(r.ok()) << oci::format_diagnostics(r.errors);
  EXPECT_EQ(r.value->bundle, "C:\\bundles\\w");
}

TEST(State, RefusesHostileInput) {
  oci::ParseLimits limits;
  limits.max_bytes = 64;
  EXPECT_FALSE(oci::parse_state(kRuncState, limits).ok());
  EXPECT_FALSE(oci::parse_state(std::string(5000, '{')).ok());
}

}  // namespace
