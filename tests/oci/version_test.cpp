// Semantic versions as ociVersion uses them.
#include <gtest/gtest.h>

#include "oci/version.hpp"

namespace {

TEST(SemanticVersion, ParsesReleasesAndPrereleases) {
  auto v = oci::parse_semantic_version("1.2.1");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->major, 1U);
  EXPECT_EQ(v->minor, 2U);
  EXPECT_EQ(v->patch, 1U);
  EXPECT_EQ(v->prerelease, "");
  v = oci::parse_semantic_version("1.0.2-dev");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->prerelease, "dev");
  v = oci::parse_semantic_version("1.1.0-rc.2+build.7");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->prerelease, "rc.2");
}

TEST(SemanticVersion, RejectsWhatIsNotOne) {
  for (const char* bad : {"", "1", "1.0", "1.0.0.0", "v1.0.0", "01.0.0", "1.0.0-", "1.0.0-a..b", "1.0.0+",
                          "1.a.0", "1.0.0-dev!", "9999999999.0.0", " 1.0.0"}) {
    EXPECT_FALSE(oci::parse_semantic_version(bad)) << bad;
  }
}

}  // namespace
