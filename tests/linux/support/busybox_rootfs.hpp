// Test root filesystems built from Debian's busybox-static: a directory with /bin/busybox, a link for each
// applet, /etc/passwd and /etc/group, and the empty mount points a container needs.
#pragma once

#include <filesystem>
#include <string>

namespace litebox::testing {

// Where Debian's busybox-static installs the binary.
inline constexpr const char* kBusybox = "/bin/busybox";

// True when busybox-static is installed (the tests skip with a message otherwise).
bool have_busybox();

// Builds (or rebuilds) a busybox root filesystem at `dir`. Throws std::runtime_error on failure.
void make_busybox_rootfs(const std::filesystem::path& dir);

// A fresh directory under the build tree's scratch area (LITEBOX_TEST_TMPDIR, else /tmp), removed by the
// caller. `tag` makes it recognisable: "<tag>-XXXXXX".
std::filesystem::path make_scratch_dir(const std::string& tag);

}  // namespace litebox::testing
