// Unary methods by (service, method) name, shared by the transports: ttrpc and gRPC both decode their
// envelope, look the method up here and hand it the request's bytes, so the task service is written once.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rpc/rpc_status.hpp"

namespace litebox::shim {

struct CallContext {
  std::string service;  // full name: "containerd.task.v2.Task"
  std::string method;   // bare name: "Create"
  std::vector<std::pair<std::string, std::string>> metadata;
  // From ttrpc's timeout_nano or gRPC's deadline; empty = none.
  std::optional<std::chrono::steady_clock::time_point> deadline;
};

// Fills `response` with the serialized reply message when it returns ok. Runs on a transport thread; may
// block (Wait does, for as long as the process runs). Must not throw.
using UnaryHandler = std::function<RpcStatus(const CallContext&, std::string_view request, std::string& response)>;

class ServiceRegistry {
 public:
  void add(std::string service, std::string method, UnaryHandler handler) {
    methods_[{std::move(service), std::move(method)}] = std::move(handler);
  }
  // nullptr when the pair is unknown (the transport answers UNIMPLEMENTED).
  const UnaryHandler* find(std::string_view service, std::string_view method) const {
    auto it = methods_.find(std::pair<std::string, std::string>(service, method));
    return it == methods_.end() ? nullptr : &it->second;
  }
  bool empty() const { return methods_.empty(); }

 private:
  std::map<std::pair<std::string, std::string>, UnaryHandler> methods_;
};

}  // namespace litebox::shim
