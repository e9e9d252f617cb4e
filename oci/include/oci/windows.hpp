// Windows-specific configuration (config-windows.md: "windows").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace oci {

// One entry of "devices": a host device mapped into the container.
struct WindowsDevice {
  std::string id;       // "id": e.g. an interface class GUID (required)
  std::string id_type;  // "idType": e.g. "class" (required)

  bool operator==(const WindowsDevice&) const = default;
};

// "resources.memory".
struct WindowsMemoryResources {
  std::optional<std::uint64_t> limit;  // "limit": bytes

  bool operator==(const WindowsMemoryResources&) const = default;
};

// "resources.cpu".
struct WindowsCpuResources {
  std::optional<std::uint64_t> count;    // "count": number of CPUs
  std::optional<std::uint16_t> shares;   // "shares": relative weight, 0..10000
  std::optional<std::uint16_t> maximum;  // "maximum": cycles per 10000, 1..10000

  bool operator==(const WindowsCpuResources&) const = default;
};

// "resources.storage".
struct WindowsStorageResources {
  std::optional<std::uint64_t> iops;          // "iops"
  std::optional<std::uint64_t> bps;           // "bps"
  std::optional<std::uint64_t> sandbox_size;  // "sandboxSize": bytes

  bool operator==(const WindowsStorageResources&) const = default;
};

// "resources".
struct WindowsResources {
  std::optional<WindowsMemoryResources> memory;    // "memory"
  std::optional<WindowsCpuResources> cpu;          // "cpu"
  std::optional<WindowsStorageResources> storage;  // "storage"

  bool operator==(const WindowsResources&) const = default;
};

// "network".
struct WindowsNetwork {
  std::vector<std::string> endpoint_list;        // "endpointList": HNS endpoint IDs
  bool allow_unqualified_dns_query = false;      // "allowUnqualifiedDNSQuery"
  std::vector<std::string> dns_search_list;      // "DNSSearchList"
  std::string network_shared_container_name;    // "networkSharedContainerName"
  std::string network_namespace;                // "networkNamespace"

  bool operator==(const WindowsNetwork&) const = default;
};

// "hyperv": run the container in a utility VM.
struct WindowsHyperV {
  std::string utility_vm_path;  // "utilityVMPath"

  bool operator==(const WindowsHyperV&) const = default;
};

// "windows".
struct Windows {
  std::vector<std::string> layer_folders;      // "layerFolders": image layers, at least one (required)
  std::vector<WindowsDevice> devices;          // "devices"
  std::optional<WindowsResources> resources;   // "resources"
  std::string credential_spec;                 // "credentialSpec": any JSON, kept as compact JSON text
  bool servicing = false;                      // "servicing"
  bool ignore_flushes_during_boot = false;     // "ignoreFlushesDuringBoot"
  std::optional<WindowsHyperV> hyperv;         // "hyperv"
  std::optional<WindowsNetwork> network;       // "network"

  bool operator==(const Windows&) const = default;
};

}  // namespace oci
