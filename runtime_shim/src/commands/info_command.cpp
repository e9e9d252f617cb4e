// `-info`: containerd 2.x asks a runtime what it is (RuntimeInfo) before using it.
#include <cstdio>

#include "commands/commands.hpp"
#ifndef _WIN32
#include "litebox/linux/features.hpp"
#endif
#include "oci/features.hpp"
#include "options.pb.h"
#include "shim_version.hpp"

namespace litebox::shim {

int info_command(const ShimArgs&) {
  litebox::shim::options::RuntimeInfo info;
  info.set_name(kRuntimeName);
  info.mutable_version()->set_version(shim_version());
  info.mutable_version()->set_revision(shim_revision());
#ifndef _WIN32  // the runtime-spec features document describes Linux containers; Windows reports none
  auto* features = info.mutable_features();
  features->set_type_url("types.containerd.io/opencontainers/runtime-spec/1/features/Features");
  features->set_value(oci::to_json(linux_host::runtime_features(), oci::JsonStyle::compact));
#endif
  std::string bytes;
  info.SerializeToString(&bytes);
  std::fwrite(bytes.data(), 1, bytes.size(), stdout);
  std::fflush(stdout);
  return 0;
}

}  // namespace litebox::shim
