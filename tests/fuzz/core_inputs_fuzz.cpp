// What the LiteBox core parses that a container can influence: guest paths (its own magic links, another
// process's, /proc/self rewriting), the core channel's message, /proc/<pid>/status as the kernel writes it for a
// guest (whose comm and fields a guest controls in part), and the fdinfo and children lists it reads when it
// reconciles a guest's table. Nothing may crash, hang or leak.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "litebox/linux/core/core_filter.hpp"
#include "litebox/linux/core/guest_credentials.hpp"
#include "litebox/linux/core/guest_table.hpp"
#include "path_open.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  namespace core = litebox::linux_host::core;
  switch (data[0] % 6) {
    case 0:
      (void)core::parse_core_channel_message(text);
      break;
    case 1: {
      auto creds = core::parse_guest_status(text);
      if (creds) (void)creds.value().nstgids.size();
      break;
    }
    case 2: {
      const std::string path(text);
      (void)core::detail::own_descriptor_alias(path, 1, 7);
      (void)core::detail::own_descriptor_alias(path, 0x7fffffff, 0x7fffffff);
      break;
    }
    case 4: {
      core::GuestFdInfo info;
      if (core::parse_fdinfo(text, info) == 0) (void)info.cloexec;
      break;
    }
    case 5: {
      for (pid_t child : core::parse_children(text)) {
        if (child <= 0) __builtin_trap();
      }
      break;
    }
    default: {
      core::GuestCredentials creds;
      creds.tgid = 4242;
      creds.nstgids = {4242, 1};
      (void)core::detail::names_foreign_magic_link(std::string(text), creds);
      break;
    }
  }
  return 0;
}
