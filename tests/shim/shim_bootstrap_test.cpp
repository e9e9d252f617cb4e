// The shim's bootstrap pieces: containerd's command line, the runtime options on start's stdin, the socket
// name and the address file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "options.pb.h"
#include "shim_args.hpp"
#include "shim_config.hpp"
#include "shim_socket.hpp"
#include "wire.pb.h"

namespace litebox::shim {
namespace {

TEST(ShimArgs, ParsesContainerdStartCommandLine) {
  auto parsed = parse_shim_args({"containerd-shim-litebox-v1", "-namespace", "k8s.io", "-address",
                                 "/run/containerd/containerd.sock", "-publish-binary", "/usr/bin/containerd", "-id",
                                 "abc", "-debug", "start"});
  ASSERT_TRUE(parsed.args) << parsed.error;
  EXPECT_EQ(parsed.args->namespace_name, "k8s.io");
  EXPECT_EQ(parsed.args->address, "/run/containerd/containerd.sock");
  EXPECT_EQ(parsed.args->publish_binary, "/usr/bin/containerd");
  EXPECT_EQ(parsed.args->id, "abc");
  EXPECT_TRUE(parsed.args->debug);
  EXPECT_EQ(parsed.args->action, "start");
}

TEST(ShimArgs, AcceptsGoFlagForms) {
  auto parsed = parse_shim_args({"shim", "--namespace=default", "-id=x", "-bundle", "/b", "-debug=false",
                                 "-some-new-flag=1", "delete"});
  ASSERT_TRUE(parsed.args) << parsed.error;
  EXPECT_EQ(parsed.args->namespace_name, "default");
  EXPECT_EQ(parsed.args->id, "x");
  EXPECT_EQ(parsed.args->bundle, "/b");
  EXPECT_FALSE(parsed.args->debug);
  EXPECT_EQ(parsed.args->action, "delete");
  EXPECT_TRUE(parse_shim_args({"shim", "-v"}).args->version);
  EXPECT_TRUE(parse_shim_args({"shim", "-info"}).args->info);
}

TEST(ShimArgs, RejectsMissingValueAndSecondAction) {
  EXPECT_FALSE(parse_shim_args({"shim", "-id"}).args);
  EXPECT_FALSE(parse_shim_args({"shim", "start", "delete"}).args);
}

std::string runtime_options_any(const std::string& path, const std::string& body) {
  options::RuntimeOptions options;
  options.set_type_url("runtimeoptions.v1.Options");
  options.set_config_path(path);
  options.set_config_body(body);
  litebox::wire::Any any;
  any.set_type_url("runtimeoptions.v1.Options");
  options.SerializeToString(any.mutable_value());
  std::string bytes;
  any.SerializeToString(&bytes);
  return bytes;
}

linux_host::Expected<ShimConfig> start_config(std::string_view bytes) {
  auto input = parse_start_input(bytes);
  if (!input) return input.error();
  EXPECT_FALSE(input.value().bootstrap_params);
  return input.value().config;
}

// containerd 2.3+'s stdin: BootstrapParams with the runtime options' Any as an extension.
std::string bootstrap_params(const std::string& options_any, int log_level, const char* socket_dir) {
  litebox::shim::options::BootstrapParams params;
  params.set_instance_id("c1");
  params.set_namespace_("default");
  params.set_log_level(log_level);
  params.set_containerd_version("v2.4.2");
  params.set_containerd_ttrpc_address("/run/containerd/containerd.sock.ttrpc");
  params.set_containerd_grpc_address("/run/containerd/containerd.sock");
  params.set_containerd_binary("/usr/bin/containerd");
  if (!options_any.empty()) {
    litebox::wire::Any any;
    EXPECT_TRUE(any.ParseFromString(options_any));
    *params.add_extensions()->mutable_value() = any;
  }
  if (socket_dir != nullptr) params.set_socket_dir(socket_dir);
  return params.SerializeAsString();
}

TEST(ShimConfig, BootstrapParamsCarryTheOptionsAndAskForABootstrapResult) {
  const auto path = std::filesystem::temp_directory_path() / ("shim-bootstrap-" + std::to_string(::getpid()) + ".json");
  std::ofstream(path) << R"({"transport": "grpc", "runtime_root": "/run/y"})";
  auto input = parse_start_input(bootstrap_params(runtime_options_any(path, ""), -8, "/run/sockets"));
  std::filesystem::remove(path);
  ASSERT_TRUE(input) << input.error().message;
  EXPECT_TRUE(input.value().bootstrap_params);
  EXPECT_EQ(input.value().config.transport, "grpc");
  EXPECT_EQ(input.value().config.runtime_root, "/run/y");
  EXPECT_EQ(input.value().config.log_level, "trace");
  EXPECT_EQ(input.value().socket_dir, "/run/sockets");

  auto bare = parse_start_input(bootstrap_params("", 0, nullptr));  // no options at all: the defaults
  ASSERT_TRUE(bare);
  EXPECT_TRUE(bare.value().bootstrap_params);
  EXPECT_EQ(bare.value().config.transport, "ttrpc");
  EXPECT_TRUE(bare.value().socket_dir.empty());

  auto relative = parse_start_input(bootstrap_params("", 0, "run/s"));
  ASSERT_FALSE(relative);
  EXPECT_NE(relative.error().message.find("socket_dir"), std::string::npos);
  auto broken = parse_start_input(bootstrap_params(runtime_options_any("/nonexistent/l.json", ""), 0, nullptr));
  ASSERT_FALSE(broken);
  EXPECT_NE(broken.error().message.find("/nonexistent/l.json"), std::string::npos);
}

TEST(ShimConfig, EmptyInputMeansDefaults) {
  auto config = start_config("");
  ASSERT_TRUE(config);
  EXPECT_EQ(config.value().transport, "ttrpc");
  EXPECT_EQ(config.value().runtime_root, kDefaultRuntimeRoot);
}

TEST(ShimConfig, ReadsTheFileNamedByRuntimeOptions) {
  const auto path = std::filesystem::temp_directory_path() / ("shim-config-" + std::to_string(::getpid()) + ".json");
  std::ofstream(path) << R"({"transport": "grpc", "log_level": "debug", "runtime_root": "/run/x"})";
  auto config = start_config(runtime_options_any(path, ""));
  std::filesystem::remove(path);
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config.value().transport, "grpc");
  EXPECT_EQ(config.value().log_level, "debug");
  EXPECT_EQ(config.value().runtime_root, "/run/x");
}

TEST(ShimConfig, ConfigBodyWinsAndErrorsAreClear) {
  auto config = start_config(runtime_options_any("/nonexistent", R"({"transport": "ttrpc"})"));
  ASSERT_TRUE(config) << config.error().message;
  auto missing = start_config(runtime_options_any("/nonexistent/litebox.json", ""));
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("/nonexistent/litebox.json"), std::string::npos);
  auto typo = parse_shim_config(R"({"transprot": "grpc"})");
  ASSERT_FALSE(typo);
  EXPECT_NE(typo.error().message.find("unknown option \"transprot\""), std::string::npos);
  EXPECT_FALSE(parse_shim_config(R"({"transport": "http"})"));
  EXPECT_FALSE(parse_shim_config(R"({"runtime_root": "relative"})"));
  EXPECT_FALSE(parse_shim_config("[1,2"));
}

TEST(ShimConfig, OtherRuntimesOptionsAndGarbageAreIgnoredNotFatal) {
  litebox::wire::Any any;
  any.set_type_url("containerd.runc.v1.Options");
  any.set_value("\x0a\x03" "abc");
  std::string bytes;
  any.SerializeToString(&bytes);
  EXPECT_TRUE(start_config(bytes));
  EXPECT_TRUE(start_config(std::string("\xff\xff\xff\xff", 4)));
}

TEST(ShimSocket, StableShortDistinctPaths) {
  const auto a = shim_socket_path("/run/containerd/containerd.sock", "default", "c1");
  EXPECT_EQ(a, shim_socket_path("/run/containerd/containerd.sock", "default", "c1"));
  EXPECT_NE(a, shim_socket_path("/run/containerd/containerd.sock", "default", "c2"));
  EXPECT_NE(a, shim_socket_path("/run/containerd/containerd.sock", "k8s.io", "c1"));
  EXPECT_EQ(a.rfind("/run/containerd/s/", 0), 0u);
  EXPECT_LT(a.size(), 108u);
  EXPECT_EQ(socket_path_of(socket_address(a)), a);
  EXPECT_EQ(socket_path_of(a), a);
  EXPECT_EQ(socket_path_of(R"({"version":2,"address":")" + a + R"(","protocol":"grpc"})"), a);
  EXPECT_EQ(socket_path_of(R"({"version":2,"address":7})"), "");
  EXPECT_EQ(socket_path_of("{not json"), "");
}

TEST(ShimSocket, ListensWithMode0600AndWritesTheAddressFile) {
  const auto dir = std::filesystem::temp_directory_path() / ("shim-socket-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "s" / "sock").string();
  auto fd = listen_on(path);
  ASSERT_TRUE(fd) << fd.error().message;
  EXPECT_EQ(std::filesystem::status(path).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  EXPECT_TRUE(socket_is_served(path));
  ::close(fd.value());
  EXPECT_FALSE(socket_is_served(path));
  ASSERT_TRUE(write_address_file(dir, socket_address(path)));
  std::ifstream in(dir / "address");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "unix://" + path);
  EXPECT_FALSE(listen_on(std::string(200, 'x')));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace litebox::shim
