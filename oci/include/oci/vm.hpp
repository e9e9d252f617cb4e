// Virtual-machine-based containers (config-vm.md: "vm").
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace oci {

// "vm.hypervisor".
struct VmHypervisor {
  std::string path;                     // "path": absolute host path (required)
  std::vector<std::string> parameters;  // "parameters"

  bool operator==(const VmHypervisor&) const = default;
};

// "vm.kernel".
struct VmKernel {
  std::string path;                     // "path": absolute host path (required)
  std::vector<std::string> parameters;  // "parameters"
  std::string initrd;                   // "initrd": absolute host path

  bool operator==(const VmKernel&) const = default;
};

// "vm.image".
struct VmImage {
  std::string path;    // "path": absolute host path (required)
  std::string format;  // "format": raw, qcow2, vdi, vmdk or vhd (required)

  bool operator==(const VmImage&) const = default;
};

// "vm".
struct Vm {
  std::optional<VmHypervisor> hypervisor;  // "hypervisor"
  VmKernel kernel;                         // "kernel" (required)
  std::optional<VmImage> image;            // "image"

  bool operator==(const Vm&) const = default;
};

}  // namespace oci
