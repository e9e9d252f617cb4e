// validate(): the rules for "windows" and "vm".
#include "checker.hpp"

namespace oci::detail {

void check_windows(const Windows& w, Checker& c) {
  if (w.layer_folders.empty()) c.error("/windows/layerFolders", "must list at least one layer folder");
  for (std::size_t i = 0; i < w.layer_folders.size(); ++i) {
    if (!is_windows_absolute(w.layer_folders[i])) {
      c.error(at("/windows/layerFolders", i), "must be an absolute Windows path, got " + quoted(w.layer_folders[i]));
    }
  }
  for (std::size_t i = 0; i < w.devices.size(); ++i) {
    const std::string ptr = at("/windows/devices", i);
    if (w.devices[i].id.empty()) c.error(at(ptr, "id"), "must identify the device, got an empty string");
    if (w.devices[i].id_type.empty()) c.error(at(ptr, "idType"), "must say what kind of ID id is (e.g. \"class\")");
  }
  if (w.resources && w.resources->cpu) {
    const WindowsCpuResources& cpu = *w.resources->cpu;
    if (cpu.count && *cpu.count == 0) c.error("/windows/resources/cpu/count", "must be at least 1, got 0");
    if (cpu.shares && *cpu.shares > 10000) {
      c.error("/windows/resources/cpu/shares", "must be between 0 and 10000, got " + std::to_string(*cpu.shares));
    }
    if (cpu.maximum && (*cpu.maximum < 1 || *cpu.maximum > 10000)) {
      c.error("/windows/resources/cpu/maximum",
              "must be between 1 and 10000 (cycles per 10000), got " + std::to_string(*cpu.maximum));
    }
  }
  if (w.hyperv && !w.hyperv->utility_vm_path.empty() && !is_windows_absolute(w.hyperv->utility_vm_path)) {
    c.error("/windows/hyperv/utilityVMPath",
            "must be an absolute Windows path, got " + quoted(w.hyperv->utility_vm_path));
  }
}

void check_vm(const Vm& vm, Checker& c) {
  if (vm.hypervisor) check_absolute(vm.hypervisor->path, "/vm/hypervisor/path", c, true);
  check_absolute(vm.kernel.path, "/vm/kernel/path", c, true);
  if (!vm.kernel.initrd.empty()) check_absolute(vm.kernel.initrd, "/vm/kernel/initrd", c, true);
  if (vm.image) {
    check_absolute(vm.image->path, "/vm/image/path", c, true);
    if (!known::contains(known::vm_image_formats(), vm.image->format)) {
      c.error("/vm/image/format", "unknown image format " + quoted(vm.image->format) + " (expected one of " +
                                      one_of(known::vm_image_formats()) + ")");
    }
  }
}

}  // namespace oci::detail
