// The whole container configuration: a bundle's config.json (config.md), OCI runtime-spec 1.0 to 1.2.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "oci/hooks.hpp"
#include "oci/linux.hpp"
#include "oci/mounts.hpp"
#include "oci/process.hpp"
#include "oci/vm.hpp"
#include "oci/windows.hpp"

namespace oci {

// config.json. Solaris and z/OS sections are not modelled: they are ignored like any unknown field.
struct Spec {
  std::string oci_version;                         // "ociVersion": semantic version, major 1 (required)
  std::optional<Root> root;                        // "root"
  std::vector<Mount> mounts;                       // "mounts"
  std::optional<Process> process;                  // "process"
  std::string hostname;                            // "hostname"
  std::string domainname;                          // "domainname"
  std::optional<Hooks> hooks;                      // "hooks"
  std::map<std::string, std::string> annotations;  // "annotations"
  std::optional<Linux> linux_config;               // "linux" (not `linux`: a macro in GNU modes)
  std::optional<Windows> windows_config;           // "windows"
  std::optional<Vm> vm_config;                     // "vm"

  bool operator==(const Spec&) const = default;
};

}  // namespace oci
