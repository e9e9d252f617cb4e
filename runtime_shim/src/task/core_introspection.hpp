// litebox.core.v1.Core on the shim's socket: the live descriptor tables of a container's processes.
#pragma once

#include "litebox/linux/core/core_service.hpp"
#include "rpc/service_registry.hpp"

namespace litebox::shim {

inline constexpr const char* kCoreServiceName = "litebox.core.v1.Core";

void register_core_methods(ServiceRegistry& registry, const linux_host::core::CoreService& core);

}  // namespace litebox::shim
