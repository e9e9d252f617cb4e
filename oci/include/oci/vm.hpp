// Virtual-machine-based containers (config-vm.md: "vm").
#pragma once

#include <cstdint>
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

// One entry of "vm.hwConfig.iomems": host I/O memory pages an auto-translated guest may access (Xen's
// xl.cfg "iomem").
struct VmIoMem {
  std::optional<std::uint64_t> first_gfn;  // "firstGFN": guest frame to map at; absent maps at firstMFN
  std::uint64_t first_mfn = 0;             // "firstMFN": first physical page (required)
  std::uint64_t nr_mfns = 0;               // "nrMFNs": number of pages (required)

  bool operator==(const VmIoMem&) const = default;
};

// "vm.hwConfig" (spec 1.3.0): the hardware passed through to the VM.
struct VmHwConfig {
  std::string device_tree;                 // "deviceTree": the container's device-tree blob
  std::optional<std::uint32_t> vcpus;      // "vcpus"
  std::optional<std::uint64_t> memory;     // "memory": maximum bytes
  std::vector<std::string> dtdevs;         // "dtdevs": host device-tree nodes to pass through
  std::vector<VmIoMem> iomems;             // "iomems"
  std::vector<std::uint32_t> irqs;         // "irqs": physical IRQs the VM may use

  bool operator==(const VmHwConfig&) const = default;
};

// "vm".
struct Vm {
  std::optional<VmHypervisor> hypervisor;  // "hypervisor"
  VmKernel kernel;                         // "kernel" (required)
  std::optional<VmImage> image;            // "image"
  // "hwConfig", as config-vm.md and the JSON schema name it (the spec's Go type writes "hwconfig", which
  // only Go's case-insensitive decoding reads back).
  std::optional<VmHwConfig> hw_config;

  bool operator==(const Vm&) const = default;
};

}  // namespace oci
