#include "shim_group.hpp"

#include "oci/bundle.hpp"

namespace litebox::shim {

namespace {
constexpr const char* kGroupAnnotations[] = {"io.containerd.litebox.v1.group", "io.containerd.runc.v2.group",
                                             "io.kubernetes.cri.sandbox-id"};
}

std::string shim_group_of(const std::filesystem::path& bundle, const std::string& id) {
  auto spec = oci::load_bundle(bundle);
  if (!spec.value) return id;
  for (const char* key : kGroupAnnotations) {
    auto it = spec.value->annotations.find(key);
    if (it != spec.value->annotations.end() && !it->second.empty()) return it->second;
  }
  return id;
}

}  // namespace litebox::shim
