// litebox-ctl: asks a running shim about the LiteBox core.
//   litebox-ctl [--namespace NS] [--root DIR | --address SOCKET] fds <container-id> [pid]
// prints each process's descriptor table: number, kind, descriptor flags, status flags, what it refers to.
#include <fcntl.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core.pb.h"
#include "small_file.hpp"
#include "task/core_introspection.hpp"
#include "ttrpc/client.hpp"

namespace {

constexpr const char* kUsage =
    "usage: litebox-ctl [--namespace NS] [--root DIR | --address SOCKET] fds <container-id> [pid]\n"
    "  --namespace  containerd namespace (default: $CONTAINERD_NAMESPACE or \"default\")\n"
    "  --root       the shim's runtime root (default: /run/containerd/litebox)\n"
    "  --address    the shim's socket, instead of looking it up under the root\n";

std::string status_flags_text(std::uint32_t flags) {
  std::string text;
  switch (flags & O_ACCMODE) {
    case O_RDONLY: text = "O_RDONLY"; break;
    case O_WRONLY: text = "O_WRONLY"; break;
    default: text = "O_RDWR"; break;
  }
  const std::pair<std::uint32_t, const char*> names[] = {
      {O_APPEND, "O_APPEND"}, {O_NONBLOCK, "O_NONBLOCK"}, {O_DIRECT, "O_DIRECT"}, {O_NOATIME, "O_NOATIME"},
      {O_PATH, "O_PATH"},     {O_DSYNC, "O_DSYNC"},       {O_ASYNC, "O_ASYNC"},   {O_DIRECTORY, "O_DIRECTORY"},
      {O_NOFOLLOW, "O_NOFOLLOW"}};
  for (const auto& [bit, name] : names) {
    if ((flags & bit) == bit && bit != 0) text += std::string("|") + name;
  }
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> words(argv + 1, argv + argc);
  std::string ns = std::getenv("CONTAINERD_NAMESPACE") ? std::getenv("CONTAINERD_NAMESPACE") : "default";
  std::string root = "/run/containerd/litebox";
  std::string address;
  std::vector<std::string> rest;
  for (std::size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= words.size()) {
        std::fprintf(stderr, "litebox-ctl: %s needs a value\n%s", w.c_str(), kUsage);
        std::exit(2);
      }
      out = words[++i];
    };
    if (w == "--namespace" || w == "-n") {
      value(ns);
    } else if (w == "--root") {
      value(root);
    } else if (w == "--address") {
      value(address);
    } else if (w == "-h" || w == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else {
      rest.push_back(w);
    }
  }
  if (rest.size() < 2 || rest.size() > 3 || rest[0] != "fds") {
    std::fputs(kUsage, stderr);
    return 2;
  }
  const std::string& id = rest[1];
  std::uint32_t pid = 0;
  if (rest.size() == 3) {
    char* end = nullptr;
    const unsigned long parsed = std::strtoul(rest[2].c_str(), &end, 10);
    if (rest[2].empty() || *end != '\0' || parsed == 0 || parsed > 0x3fffffff) {
      std::fprintf(stderr, "litebox-ctl: \"%s\" is not a pid\n", rest[2].c_str());
      return 2;
    }
    pid = static_cast<std::uint32_t>(parsed);
  }
  if (address.empty()) {
    const std::string file = root + "/" + ns + "/" + id + "/shim.address";
    auto text = litebox::shim::read_small_file(file, 4096);
    if (!text) {
      std::fprintf(stderr, "litebox-ctl: no shim serves container \"%s\" in namespace \"%s\" (%s)\n", id.c_str(),
                   ns.c_str(), text.error().message.c_str());
      return 1;
    }
    address = text.value();
    while (!address.empty() && (address.back() == '\n' || address.back() == ' ')) address.pop_back();
  }
  litebox::shim::RpcStatus error;
  auto client = litebox::shim::ttrpc::Client::connect(address, &error);
  if (!client) {
    std::fprintf(stderr, "litebox-ctl: connect to the shim at %s: %s\n", address.c_str(), error.message.c_str());
    return 1;
  }
  litebox::core::v1::ListDescriptorsRequest request;
  request.set_id(id);
  request.set_pid(pid);
  std::string reply;
  auto status = client->call(litebox::shim::kCoreServiceName, "ListDescriptors", request.SerializeAsString(), reply,
                             {}, std::chrono::seconds(10));
  if (!status.ok()) {
    std::fprintf(stderr, "litebox-ctl: %s\n", status.message.c_str());
    return 1;
  }
  litebox::core::v1::ListDescriptorsResponse response;
  if (!response.ParseFromString(reply)) {
    std::fprintf(stderr, "litebox-ctl: malformed reply from the shim\n");
    return 1;
  }
  for (const auto& p : response.processes()) {
    std::printf("PID %u (pid %u in the container) %s\n", p.pid(), p.guest_pid(), p.command().c_str());
    std::printf("%-6s %-12s %-8s %-28s %s\n", "FD", "KIND", "FD_FLAGS", "STATUS_FLAGS", "TARGET");
    for (const auto& d : p.descriptors()) {
      std::printf("%-6u %-12s %-8s %-28s %s\n", d.fd(), d.kind().c_str(), d.cloexec() ? "CLOEXEC" : "-",
                  status_flags_text(d.status_flags()).c_str(), d.target().c_str());
    }
  }
  return 0;
}
