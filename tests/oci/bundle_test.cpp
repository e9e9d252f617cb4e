// load_bundle(): reading <bundle>/config.json under limits.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "oci/bundle.hpp"
#include "test_support.hpp"

namespace {

namespace fs = std::filesystem;

class BundleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("oci-bundle-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write_config(const std::string& text) { std::ofstream(dir_ / "config.json", std::ios::binary) << text; }

  fs::path dir_;
};

TEST_F(BundleTest, LoadsAValidBundle) {
  write_config(oci_test::read_fixture("containerd-ctr-run.json"));
  const auto r = oci::load_bundle(dir_);
  ASSERT_TRUE(r.ok()) << oci::format_diagnostics(r.errors);
  EXPECT_EQ(r.value->process->cwd, "/srv");
}

TEST_F(BundleTest, ReportsAMissingConfig) {
  const auto r = oci::load_bundle(dir_);
  EXPECT_FALSE(r.ok());
  ASSERT_EQ(r.errors.size(), 1U);
  EXPECT_NE(r.errors[0].message.find("config.json: cannot be read"), std::string::npos) << r.errors[0].message;
}

TEST_F(BundleTest, RefusesAnOversizedConfigBeforeReadingIt) {
  write_config(oci_test::read_fixture("runc-spec.json"));
  oci::ParseLimits limits;
  limits.max_bytes = 1024;
  const auto r = oci::load_bundle(dir_, limits);
  EXPECT_FALSE(r.ok());
  ASSERT_EQ(r.errors.size(), 1U);
  EXPECT_NE(r.errors[0].message.find("more than the limit of 1024 bytes"), std::string::npos) << r.errors[0].message;
}

TEST_F(BundleTest, RefusesDeepNesting) {
  write_config(R"({"ociVersion":"1.0.0","x":)" + std::string(2000, '[') + std::string(2000, ']') + "}");
  const auto r = oci::load_bundle(dir_);
  EXPECT_FALSE(r.ok());
  ASSERT_EQ(r.errors.size(), 1U);
  EXPECT_NE(r.errors[0].message.find("config.json: not accepted: nesting deeper"), std::string::npos)
      << r.errors[0].message;
}

TEST_F(BundleTest, RefusesANonRegularFile) {
#ifdef _WIN32
  // No FIFOs in a Windows file system; a directory is not a regular file either.
  fs::create_directory(dir_ / "config.json");
#else
  // A FIFO would block a naive reader forever.
  ASSERT_EQ(::mkfifo((dir_ / "config.json").c_str(), 0600), 0);
#endif
  const auto r = oci::load_bundle(dir_);
  EXPECT_FALSE(r.ok());
  ASSERT_EQ(r.errors.size(), 1U);
  EXPECT_NE(r.errors[0].message.find("is not a regular file"), std::string::npos);
}

TEST_F(BundleTest, ReportsValidationErrorsWithPointers) {
  auto doc = oci_test::fixture_json("runc-spec.json");
  oci_test::set_at(doc, "/mounts/0/destination", "proc");
  write_config(boost::json::serialize(doc));
  const auto r = oci::load_bundle(dir_);
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(oci_test::has_error(r.errors, "/mounts/0/destination", "must be an absolute path"));
}

}  // namespace
