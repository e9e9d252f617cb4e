// `start` on Windows: containerd runs it to get a shim; it prints the named pipe's address and exits, while
// the server it leaves behind (this executable again, `serve`, detached from containerd's console and
// inheriting no handle of it) creates and serves the pipe.
#include <windows.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "commands/bootstrap_common.hpp"
#include "commands/commands.hpp"
#include "litebox/windows/command_line.hpp"
#include "litebox/windows/utf.hpp"
#include "shim_config.hpp"
#include "shim_group.hpp"
#include "windows/shim_pipes.hpp"

namespace litebox::shim {
namespace {

constexpr std::size_t kMaxOptionsBytes = 1024 * 1024;
constexpr auto kServerStartLimit = std::chrono::seconds(20);

std::string read_stdin() {
  std::string data;
  const HANDLE in = GetStdHandle(STD_INPUT_HANDLE);
  if (in == nullptr || in == INVALID_HANDLE_VALUE) return data;
  char buffer[4096];
  while (data.size() < kMaxOptionsBytes) {
    DWORD n = 0;
    if (!ReadFile(in, buffer, sizeof buffer, &n, nullptr) || n == 0) break;
    data.append(buffer, n);
  }
  return data;
}

int fail(const std::string& message) {
  std::fprintf(stderr, "containerd-shim-litebox-v1 start: %s\n", message.c_str());
  return 1;
}

// The server, its console and handles none of ours; its stdio NUL until it connects its log pipe.
bool spawn_server(const ShimArgs& args, const ShimConfig& config, const std::string& address, PROCESS_INFORMATION& pi,
                  std::string& error) {
  const std::wstring self = self_executable_path();
  if (self.empty()) {
    error = "cannot find this executable's path";
    return false;
  }
  std::vector<std::string> words = {windows_host::narrow(self), "-namespace", args.namespace_name, "-id", args.id,
                                    "-address", args.address, "-publish-binary", args.publish_binary,
                                    "-socket-path", address};
  if (!config.log_level.empty()) {
    words.push_back("-log-level");
    words.push_back(config.log_level);
  }
  if (args.debug) words.push_back("-debug");
  words.push_back("serve");
  std::wstring command_line = windows_host::quote_command_line(words);
  STARTUPINFOW si{};
  si.cb = sizeof(si);
  if (!CreateProcessW(self.c_str(), command_line.data(), nullptr, nullptr, FALSE,
                      DETACHED_PROCESS | CREATE_NEW_PROCESS_GROUP, nullptr, nullptr, &si, &pi)) {
    error = "CreateProcess " + windows_host::narrow(self) + ": error " + std::to_string(GetLastError());
    return false;
  }
  return true;
}

// Until the server's pipe answers: false when the server exited first or took too long.
bool wait_for_server(const std::string& address, HANDLE server, std::string& error) {
  const auto give_up = std::chrono::steady_clock::now() + kServerStartLimit;
  while (!pipe_is_served(address)) {
    if (WaitForSingleObject(server, 10) == WAIT_OBJECT_0) {
      DWORD code = 0;
      GetExitCodeProcess(server, &code);
      error = "the shim's server exited (status " + std::to_string(code) + ") before serving " + address +
              "; its log is the pipe " + address.substr(0, address.size() - 5) + "-log";
      return false;
    }
    if (std::chrono::steady_clock::now() > give_up) {
      error = "the shim's server did not serve " + address + " within 20 s";
      return false;
    }
  }
  return true;
}

}  // namespace

int start_command(const ShimArgs& args) {
  const std::string input = read_stdin();
  if (args.id.empty()) return fail("-id is required");
  if (args.namespace_name.empty()) return fail("-namespace is required");
  auto start_input = parse_start_input(input);
  if (!start_input) return fail(start_input.error().message);
  const ShimConfig& config = start_input.value().config;
  if (config.transport != "ttrpc") return fail("transport \"" + config.transport + "\": only ttrpc is served on Windows");

  std::error_code ec;
  const std::filesystem::path bundle = std::filesystem::current_path(ec);
  if (ec) return fail("the working directory (the bundle): " + ec.message());
  const std::string address = shim_pipe_address(args.namespace_name, shim_group_of(bundle, args.id));
  auto print_address = [&] {
    std::string out = address;
    if (start_input.value().bootstrap_params) out = bootstrap_result(2, address, "ttrpc");
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
  };
  auto write_address_file = [&]() -> bool {
    std::ofstream file(bundle / "address", std::ios::binary | std::ios::trunc);
    file << address;
    return static_cast<bool>(file);
  };

  if (pipe_is_served(address)) {  // another container of the same group: its shim serves this one too
    if (!write_address_file()) return fail("cannot write " + (bundle / "address").string());
    print_address();
    return 0;
  }
  PROCESS_INFORMATION pi{};
  std::string error;
  if (!spawn_server(args, config, address, pi, error)) return fail(error);
  CloseHandle(pi.hThread);
  const bool served = wait_for_server(address, pi.hProcess, error);
  if (!served || !write_address_file()) {
    TerminateProcess(pi.hProcess, 1);
    CloseHandle(pi.hProcess);
    return fail(served ? "cannot write " + (bundle / "address").string() : error);
  }
  CloseHandle(pi.hProcess);
  print_address();
  return 0;
}

}  // namespace litebox::shim
