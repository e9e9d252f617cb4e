#include "task/core_introspection.hpp"

#include "core.pb.h"

namespace litebox::shim {

void register_core_methods(ServiceRegistry& registry, const linux_host::core::CoreService& core) {
  registry.add(kCoreServiceName, "ListDescriptors",
               [&core](const CallContext&, std::string_view bytes, std::string& out) -> RpcStatus {
                 litebox::core::v1::ListDescriptorsRequest request;
                 if (!request.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
                   return RpcStatus::error(StatusCode::invalid_argument, "malformed ListDescriptorsRequest");
                 }
                 auto tables = core.tables(request.id(), static_cast<pid_t>(request.pid()));
                 if (!tables) return RpcStatus::error(StatusCode::not_found, tables.error().message);
                 litebox::core::v1::ListDescriptorsResponse response;
                 for (const auto& table : tables.value()) {
                   auto* process = response.add_processes();
                   process->set_pid(static_cast<std::uint32_t>(table.pid));
                   process->set_guest_pid(static_cast<std::uint32_t>(table.guest_pid));
                   process->set_command(table.command);
                   for (const auto& d : table.descriptors) {
                     auto* out_d = process->add_descriptors();
                     out_d->set_fd(d.fd);
                     out_d->set_kind(std::string(fdcore::kind_name(d.kind)));
                     out_d->set_cloexec(d.cloexec);
                     out_d->set_status_flags(d.status_flags);
                     out_d->set_target(d.target);
                   }
                 }
                 response.SerializeToString(&out);
                 return {};
               });
}

}  // namespace litebox::shim
