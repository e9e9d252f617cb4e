// The pure parts of the root file system code: mount options, container paths, sysctl rules, the device
// list. No root needed (openat2 works for anyone).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <unistd.h>

#include <filesystem>

#include "busybox_rootfs.hpp"
#include "litebox/linux/devices.hpp"
#include "litebox/linux/mount_options.hpp"
#include "litebox/linux/path_in_root.hpp"
#include "litebox/linux/rootfs_setup.hpp"

namespace fs = std::filesystem;
using namespace litebox::linux_host;

namespace {

TEST(MountOptions, FlagsPropagationRecursiveAndData) {
  auto parsed = parse_mount_options({"rbind", "ro", "nosuid", "nodev", "noexec", "rprivate", "rro", "rnoatime",
                                     "size=10m", "mode=755", "tmpcopyup", "strictatime", "nostrictatime"});
  ASSERT_TRUE(parsed) << parsed.error().message;
  const auto& options = parsed.value();
  EXPECT_EQ(options.flags, MS_BIND | MS_REC | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
  EXPECT_TRUE(options.is_bind());
  ASSERT_EQ(options.propagation.size(), 1U);
  EXPECT_EQ(options.propagation[0], MS_PRIVATE | MS_REC);
  EXPECT_EQ(options.recursive.set, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOATIME);
  EXPECT_EQ(options.recursive.clear, MOUNT_ATTR__ATIME);
  EXPECT_EQ(options.data, "size=10m,mode=755");
  EXPECT_TRUE(options.tmpcopyup);
}

TEST(MountOptions, LaterOptionsWin) {
  auto parsed = parse_mount_options({"ro", "rw", "nosuid", "suid", "rro", "rrw", "noexec"});
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed.value().flags, static_cast<unsigned long>(MS_NOEXEC));
  EXPECT_EQ(parsed.value().recursive.set, 0U);
  EXPECT_EQ(parsed.value().recursive.clear, static_cast<std::uint64_t>(MOUNT_ATTR_RDONLY));
  EXPECT_TRUE(parsed.value().data.empty());
}

TEST(MountOptions, IdmapIsRefusedClearly) {
  auto parsed = parse_mount_options({"rbind", "idmap"});
  ASSERT_FALSE(parsed);
  EXPECT_NE(parsed.error().message.find("id-mapped mounts are not supported"), std::string::npos);
}

TEST(MountOptions, RootfsPropagation) {
  EXPECT_EQ(parse_propagation("rslave").value(), MS_SLAVE | MS_REC);
  EXPECT_EQ(parse_propagation("shared").value(), static_cast<unsigned long>(MS_SHARED));
  EXPECT_EQ(parse_propagation("").value(), 0UL);
  auto bad = parse_propagation("sideways");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("sideways"), std::string::npos);
}

TEST(PathInRoot, CleanContainerPath) {
  EXPECT_EQ(clean_container_path("a//b/./c/").value(), "/a/b/c");
  EXPECT_EQ(clean_container_path("/a/../b").value(), "/b");
  EXPECT_EQ(clean_container_path("/").value(), "/");
  EXPECT_EQ(clean_container_path("").value(), "/");
  auto escaping = clean_container_path("/a/../../etc");
  ASSERT_FALSE(escaping);
  EXPECT_EQ(escaping.error().message, "/a/../../etc escapes the root");
}

TEST(PathInRoot, SymlinksResolveInsideTheRoot) {
  const fs::path root = fs::canonical(litebox::testing::make_scratch_dir("path-in-root"));
  fs::create_directories(root / "etc");
  fs::create_symlink("/../../../../etc", root / "evil");
  fs::create_symlink("../../../../../etc", root / "evil-relative");
  fs::create_symlink("/nowhere/at/all", root / "dangling");
  OwnedFd root_fd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(root_fd.valid());
  for (const char* path : {"/evil", "evil-relative", "/evil/../evil/.", "/../../etc"}) {
    auto opened = open_in_root(root_fd.get(), path, O_PATH);
    ASSERT_TRUE(opened) << path << ": " << opened.error().message;
    EXPECT_EQ(descriptor_path(opened.value().get()), (root / "etc").string()) << path;
  }
  auto created = mkdir_all_in_root(root_fd.get(), "/evil/new/deeper", 0755);
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_TRUE(fs::is_directory(root / "etc/new/deeper"));
  auto file = create_file_in_root(root_fd.get(), "/evil-relative/new-file", 0644);
  ASSERT_TRUE(file) << file.error().message;
  EXPECT_TRUE(fs::is_regular_file(root / "etc/new-file"));
  auto through_dangling = mkdir_all_in_root(root_fd.get(), "/dangling", 0755);
  EXPECT_TRUE(through_dangling) << "a dangling absolute link is followed inside the root: "
                                << through_dangling.error().message;
  EXPECT_TRUE(fs::is_directory(root / "nowhere/at/all"));
  auto no_symlinks = open_in_root(root_fd.get(), "/evil", O_PATH, RESOLVE_NO_SYMLINKS);
  EXPECT_FALSE(no_symlinks);
  fs::remove_all(root);
}

TEST(Sysctls, OnlyNamespacedKeysAreAccepted) {
  oci::Spec spec;
  spec.linux_config = oci::Linux{};
  spec.linux_config->namespaces = {{"network", ""}, {"ipc", ""}, {"uts", ""}};
  spec.linux_config->sysctl = {{"net.ipv4.ip_forward", "1"},
                               {"kernel.shmmax", "1"},
                               {"fs.mqueue.msg_max", "10"},
                               {"kernel.domainname", "example"}};
  EXPECT_TRUE(validate_sysctls(spec));

  spec.linux_config->sysctl = {{"kernel.panic", "1"}};
  auto refused = validate_sysctls(spec);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message, "sysctl \"kernel.panic\" is not in a separate kernel namespace");

  spec.linux_config->sysctl = {{"net/../../kernel/panic", "1"}};
  EXPECT_FALSE(validate_sysctls(spec));
  spec.linux_config->sysctl = {{"net..ipv4", "1"}};
  EXPECT_FALSE(validate_sysctls(spec));
  spec.linux_config->sysctl = {{"kernel.hostname", "x"}};
  EXPECT_FALSE(validate_sysctls(spec));

  spec.linux_config->namespaces = {{"uts", ""}};
  spec.linux_config->sysctl = {{"net.ipv4.ip_forward", "1"}};
  auto host_network = validate_sysctls(spec);
  ASSERT_FALSE(host_network);
  EXPECT_NE(host_network.error().message.find("host's network namespace"), std::string::npos);
}

TEST(Devices, SpecDevicesReplaceDefaults) {
  oci::Device null_override;
  null_override.type = "c";
  null_override.path = "/dev/null";
  null_override.major = 1;
  null_override.minor = 3;
  null_override.file_mode = 0600;
  const auto devices = devices_to_create({null_override});
  ASSERT_EQ(devices.size(), default_devices().size());
  int nulls = 0;
  for (const auto& device : devices) {
    if (device.path == "/dev/null") {
      ++nulls;
      EXPECT_EQ(device.file_mode, 0600U);
    }
  }
  EXPECT_EQ(nulls, 1);
}

}  // namespace
