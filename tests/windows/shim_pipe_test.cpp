// containerd-shim-litebox-v1.exe end to end under wine, as containerd on Windows drives it: `start` prints
// a named pipe's address, our ttrpc client (built for Windows) makes the task service's calls on it, garbage
// on the pipe is answered or dropped without taking the shim down, Shutdown ends the server, `delete` answers.
#include <windows.h>
#include <aclapi.h>
#include <sddl.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "options.pb.h"
#include "task.pb.h"
#include "ttrpc/client.hpp"
#include "ttrpc/codec.hpp"
#include "ttrpc/frame.hpp"
#include "test_support.hpp"
#include "rpc/stdio_accessor_names.hpp"  // last

namespace {

namespace tt = litebox::shim::ttrpc;
namespace task = containerd::task::v3;
using litebox::shim::RpcStatus;
using litebox::shim::StatusCode;

constexpr const char* kService = "containerd.task.v2.Task";
constexpr const char* kNamespace = "litebox-test";

std::wstring widen(const std::string& s) { return std::wstring(s.begin(), s.end()); }  // ASCII only here

using litebox_test::json_string;

std::string process_json(const std::vector<std::string>& args) {
  std::string argv = json_string(litebox_test::probe_exe().string());
  for (const auto& a : args) argv += "," + json_string(a);
  return "{\"args\": [" + argv + "], \"cwd\": \"C:\\\\\", \"env\": [\"LITEBOX=yes\"]}";
}

// Runs the shim with `args` in `cwd`: its exit code and stdout.
struct ShimRun {
  DWORD code = 0;
  std::string out;
};
ShimRun run_shim(const std::vector<std::string>& args, const std::filesystem::path& cwd) {
  std::wstring command_line = L"\"" + litebox_test::wine_path(LITEBOX_SHIM_EXE).wstring() + L"\"";
  for (const auto& a : args) command_line += L" \"" + widen(a) + L"\"";
  litebox_test::Pipe out;
  SetHandleInformation(out.write, HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT);
  const HANDLE nul = CreateFileW(L"NUL", GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, nullptr, OPEN_EXISTING, 0, nullptr);
  SetHandleInformation(nul, HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT);
  STARTUPINFOW si{};
  si.cb = sizeof(si);
  si.dwFlags = STARTF_USESTDHANDLES;
  si.hStdInput = nul;  // containerd writes the runtime options here; none
  si.hStdOutput = out.write;
  si.hStdError = GetStdHandle(STD_ERROR_HANDLE);
  PROCESS_INFORMATION pi{};
  ShimRun run;
  run.code = 999;
  if (!CreateProcessW(nullptr, command_line.data(), nullptr, nullptr, TRUE, 0, nullptr, cwd.wstring().c_str(), &si, &pi)) {
    CloseHandle(nul);
    ADD_FAILURE() << "CreateProcess of the shim: error " << GetLastError();
    return run;
  }
  CloseHandle(nul);
  CloseHandle(pi.hThread);
  CloseHandle(out.take_write());
  run.out = litebox_test::read_all(out.read, 30000);
  if (WaitForSingleObject(pi.hProcess, 30000) != WAIT_OBJECT_0) {
    TerminateProcess(pi.hProcess, 1);
    ADD_FAILURE() << "the shim did not exit";
  }
  GetExitCodeProcess(pi.hProcess, &run.code);
  CloseHandle(pi.hProcess);
  return run;
}

std::string read_text(const std::filesystem::path& p) {
  std::string text;
  const HANDLE h = CreateFileW(p.wstring().c_str(), GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                               nullptr, OPEN_EXISTING, 0, nullptr);
  if (h == INVALID_HANDLE_VALUE) return text;
  char buf[4096];
  DWORD n = 0;
  while (ReadFile(h, buf, sizeof buf, &n, nullptr) && n > 0) text.append(buf, n);
  CloseHandle(h);
  return text;
}

// Opens the pipe as a raw client. Every instance may be taken for a moment (the server makes the next one
// after each accept): wait as go-winio's DialPipe does.
HANDLE open_pipe(const std::string& address, DWORD access) {
  HANDLE h = INVALID_HANDLE_VALUE;
  for (int i = 0; i < 100 && h == INVALID_HANDLE_VALUE; ++i) {
    h = CreateFileW(widen(address).c_str(), access, 0, nullptr, OPEN_EXISTING, 0, nullptr);
    if (h == INVALID_HANDLE_VALUE && GetLastError() != ERROR_PIPE_BUSY) break;
    if (h == INVALID_HANDLE_VALUE) WaitNamedPipeW(widen(address).c_str(), 100);
  }
  return h;
}

// A bundle, a started shim and a client on its pipe.
class ShimOverPipe : public ::testing::Test {
 protected:
  void SetUp() override {
    id_ = "c" + std::to_string(GetCurrentProcessId()) + "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::create_directories(bundle_.path / L"rootfs");
    litebox_test::write_file(bundle_.path / L"config.json",
                             "{\"ociVersion\": \"1.1.0\", \"root\": {\"path\": \"rootfs\"}, \"process\": " +
                                 process_json({"write", "1", "hello from the init"}) +
                                 ", \"windows\": {\"layerFolders\": []}}");
    const ShimRun started = run_shim({"-namespace", kNamespace, "-id", id_, "-address", "\\\\.\\pipe\\litebox-test-containerd",
                                  "-publish-binary", "", "start"},
                                 bundle_.path);
    ASSERT_EQ(started.code, 0u) << started.out;
    address_ = started.out;
    ASSERT_EQ(address_, "\\\\.\\pipe\\containerd-shim-" + std::string(kNamespace) + "-" + id_ + "-pipe");
    EXPECT_EQ(read_text(bundle_.path / L"address"), address_);
    RpcStatus error;
    client_ = tt::Client::connect(address_, &error);
    ASSERT_TRUE(client_) << error.message;
  }

  void TearDown() override {
    if (client_ && !shut_down_) {
      task::ShutdownRequest req;
      req.set_id(id_);
      req.set_now(true);
      std::string reply;
      call("Shutdown", req, reply);
    }
  }

  template <typename Message>
  RpcStatus call(const char* method, const Message& request, std::string& reply) {
    return client_->call(kService, method, request.SerializeAsString(), reply,
                         {{"containerd-namespace-ttrpc", kNamespace}}, std::chrono::seconds(30));
  }
  template <typename Response, typename Message>
  Response ok_call(const char* method, const Message& request) {
    std::string reply;
    const RpcStatus st = call(method, request, reply);
    EXPECT_TRUE(st.ok()) << method << ": " << static_cast<int>(st.code) << " " << st.message;
    Response response;
    EXPECT_TRUE(response.ParseFromString(reply)) << method;
    return response;
  }

  litebox_test::TempDir bundle_;
  std::string id_;
  std::string address_;
  std::unique_ptr<tt::Client> client_;
  bool shut_down_ = false;
};

TEST_F(ShimOverPipe, CreateStartWaitStateDelete) {
  const std::filesystem::path out = bundle_.path / L"init.out";
  task::CreateTaskRequest create;
  create.set_id(id_);
  create.set_bundle(bundle_.path.string());
  create.set_stdout(out.string());
  const auto created = ok_call<task::CreateTaskResponse>("Create", create);
  EXPECT_GT(created.pid(), 0u);

  task::StateRequest state_req;
  state_req.set_id(id_);
  auto state = ok_call<task::StateResponse>("State", state_req);
  EXPECT_EQ(state.status(), containerd::types::CREATED);
  EXPECT_EQ(state.pid(), created.pid());

  task::StartRequest start;
  start.set_id(id_);
  EXPECT_EQ(ok_call<task::StartResponse>("Start", start).pid(), created.pid());
  task::WaitRequest wait;
  wait.set_id(id_);
  EXPECT_EQ(ok_call<task::WaitResponse>("Wait", wait).exit_status(), 0u);
  EXPECT_EQ(read_text(out), "hello from the init");
  state = ok_call<task::StateResponse>("State", state_req);
  EXPECT_EQ(state.status(), containerd::types::STOPPED);

  std::string reply;
  task::DeleteRequest del;
  del.set_id(id_);
  EXPECT_EQ(ok_call<task::DeleteResponse>("Delete", del).exit_status(), 0u);
  EXPECT_EQ(call("State", state_req, reply).code, StatusCode::not_found);
}

TEST_F(ShimOverPipe, ExecKillPidsStatsOnARunningContainer) {
  litebox_test::write_file(bundle_.path / L"config.json",
                           "{\"ociVersion\": \"1.1.0\", \"root\": {\"path\": \"rootfs\"}, \"process\": " +
                               process_json({"sleep", "60000"}) + ", \"windows\": {\"layerFolders\": []}}");
  task::CreateTaskRequest create;
  create.set_id(id_);
  create.set_bundle(bundle_.path.string());
  const auto init_pid = ok_call<task::CreateTaskResponse>("Create", create).pid();
  task::StartRequest start;
  start.set_id(id_);
  ok_call<task::StartResponse>("Start", start);

  const std::filesystem::path exec_out = bundle_.path / L"exec.out";
  task::ExecProcessRequest exec;
  exec.set_id(id_);
  exec.set_exec_id("e1");
  exec.set_stdout(exec_out.string());
  exec.mutable_spec()->set_type_url("types.containerd.io/opencontainers/runtime-spec/1/Process");
  exec.mutable_spec()->set_value(process_json({"write", "1", "from the exec"}));
  std::string reply;
  ASSERT_TRUE(call("Exec", exec, reply).ok());
  start.set_exec_id("e1");
  const auto exec_pid = ok_call<task::StartResponse>("Start", start).pid();
  EXPECT_NE(exec_pid, init_pid);
  task::WaitRequest wait;
  wait.set_id(id_);
  wait.set_exec_id("e1");
  EXPECT_EQ(ok_call<task::WaitResponse>("Wait", wait).exit_status(), 0u);
  EXPECT_EQ(read_text(exec_out), "from the exec");
  task::DeleteRequest del;
  del.set_id(id_);
  del.set_exec_id("e1");
  ok_call<task::DeleteResponse>("Delete", del);

  task::PidsRequest pids;
  pids.set_id(id_);
  const auto listed = ok_call<task::PidsResponse>("Pids", pids);
  bool init_listed = false;
  for (const auto& p : listed.processes()) init_listed = init_listed || p.pid() == init_pid;
  EXPECT_TRUE(init_listed) << listed.processes_size() << " processes listed";

  task::StatsRequest stats;
  stats.set_id(id_);
  const auto stats_reply = ok_call<task::StatsResponse>("Stats", stats);
  EXPECT_FALSE(stats_reply.stats().type_url().empty());

  task::KillRequest kill;
  kill.set_id(id_);
  kill.set_signal(9);
  ASSERT_TRUE(call("Kill", kill, reply).ok());
  wait.set_exec_id("");
  EXPECT_EQ(ok_call<task::WaitResponse>("Wait", wait).exit_status(), 137u);
  del.set_exec_id("");
  EXPECT_EQ(ok_call<task::DeleteResponse>("Delete", del).exit_status(), 137u);

  task::ShutdownRequest shutdown;
  shutdown.set_id(id_);
  std::string ignored;
  call("Shutdown", shutdown, ignored);  // the server may close the pipe before or after answering
  shut_down_ = true;
  // The server ends: its pipe goes away.
  bool gone = false;
  for (int i = 0; i < 200 && !gone; ++i) {
    gone = WaitNamedPipeW(widen(address_).c_str(), 0) == FALSE && GetLastError() == ERROR_FILE_NOT_FOUND;
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(gone) << address_ << " still served after Shutdown";

  const ShimRun deleted = run_shim({"-namespace", kNamespace, "-id", id_, "-address", "x", "delete"}, bundle_.path);
  EXPECT_EQ(deleted.code, 0u);
  task::DeleteResponse response;
  ASSERT_TRUE(response.ParseFromString(deleted.out));
  EXPECT_EQ(response.exit_status(), 137u);
}

TEST_F(ShimOverPipe, GarbageOnThePipeGetsAnErrorNotACrash) {
  const HANDLE raw = open_pipe(address_, GENERIC_READ | GENERIC_WRITE);
  ASSERT_NE(raw, INVALID_HANDLE_VALUE) << GetLastError();
  // A request frame whose payload is not a Request message: INVALID_ARGUMENT on that stream.
  const std::string junk = "\xff\xff\xff\xff garbage";
  auto frame = tt::encode_frame(1, tt::MessageType::request, 0, junk, tt::kMaxPayload);
  ASSERT_TRUE(frame);
  DWORD n = 0;
  ASSERT_TRUE(WriteFile(raw, frame->data(), static_cast<DWORD>(frame->size()), &n, nullptr));
  tt::FrameDecoder decoder(tt::kMaxPayload);
  std::optional<tt::Frame> answer;
  char buf[4096];
  while (!answer && ReadFile(raw, buf, sizeof buf, &n, nullptr) && n > 0) {
    decoder.feed(std::string_view(buf, n));
    answer = decoder.next();
  }
  ASSERT_TRUE(answer) << "no answer to a garbage request";
  EXPECT_EQ(answer->header.stream_id, 1u);
  EXPECT_EQ(answer->header.type, static_cast<std::uint8_t>(tt::MessageType::response));
  RpcStatus status;
  std::string payload;
  ASSERT_TRUE(tt::decode_response(answer->payload, status, payload));
  EXPECT_EQ(status.code, StatusCode::invalid_argument) << status.message;
  // Then bytes that are no frame at all, cut off: the connection is dropped.
  const std::string noise(1000, '\x5a');
  WriteFile(raw, noise.data(), static_cast<DWORD>(noise.size()), &n, nullptr);
  CloseHandle(raw);
  // The shim still serves.
  task::StateRequest state_req;
  state_req.set_id("no-such-task");
  std::string reply;
  EXPECT_EQ(call("State", state_req, reply).code, StatusCode::not_found);
  task::ConnectRequest connect;
  connect.set_id(id_);
  EXPECT_GT(ok_call<task::ConnectResponse>("Connect", connect).shim_pid(), 0u);
}

TEST_F(ShimOverPipe, TheLogPipeCarriesTheShimsLog) {
  // containerd connects to the log pipe right after `start` and copies it into its own log.
  const std::string log_address = "\\\\.\\pipe\\containerd-shim-" + std::string(kNamespace) + "-" + id_ + "-log";
  HANDLE log = INVALID_HANDLE_VALUE;
  for (int i = 0; i < 100 && log == INVALID_HANDLE_VALUE; ++i) {
    log = CreateFileW(widen(log_address).c_str(), GENERIC_READ, 0, nullptr, OPEN_EXISTING, 0, nullptr);
    if (log == INVALID_HANDLE_VALUE) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_NE(log, INVALID_HANDLE_VALUE) << log_address << ": error " << GetLastError();
  task::ShutdownRequest shutdown;
  shutdown.set_id(id_);
  std::string ignored;
  call("Shutdown", shutdown, ignored);
  shut_down_ = true;
  const std::string text = litebox_test::read_all(log, 20000);
  CloseHandle(log);
  EXPECT_NE(text.find("msg=\"shim for " + id_ + " exits\""), std::string::npos) << text;
  EXPECT_NE(text.find("runtime=io.containerd.litebox.v1"), std::string::npos) << text;
}

TEST(ShimExe, InfoAnswersARuntimeInfoInBinary) {
  // containerd 2.x decodes -info's stdout as protobuf: a CRLF translation of stdout would corrupt it.
  litebox_test::TempDir dir;
  const ShimRun info = run_shim({"-info"}, dir.path);
  ASSERT_EQ(info.code, 0u);
  litebox::shim::options::RuntimeInfo parsed;
  ASSERT_TRUE(parsed.ParseFromString(info.out)) << info.out.size() << " bytes";
  EXPECT_EQ(parsed.name(), "io.containerd.litebox.v1");
  EXPECT_FALSE(parsed.version().version().empty());
}

TEST_F(ShimOverPipe, ThePipeAdmitsOnlySystemAdministratorsAndOurUser) {
  const HANDLE h = open_pipe(address_, READ_CONTROL);
  ASSERT_NE(h, INVALID_HANDLE_VALUE) << GetLastError();
  PSECURITY_DESCRIPTOR sd = nullptr;
  const DWORD got = GetSecurityInfo(h, SE_KERNEL_OBJECT, DACL_SECURITY_INFORMATION, nullptr, nullptr, nullptr, nullptr, &sd);
  CloseHandle(h);
  if (got != ERROR_SUCCESS && litebox_test::under_wine()) {
    GTEST_SKIP() << "wine 8 does not report a named pipe's DACL (GetSecurityInfo: " << got
                 << "); on real Windows the pipe's DACL must be D:P(A;;GA;;;SY)(A;;GA;;;BA)(A;;GA;;;<our SID>)";
  }
  ASSERT_EQ(got, ERROR_SUCCESS);
  wchar_t* text = nullptr;
  ASSERT_TRUE(ConvertSecurityDescriptorToStringSecurityDescriptorW(sd, SDDL_REVISION_1, DACL_SECURITY_INFORMATION, &text, nullptr));
  const std::wstring sddl = text;
  LocalFree(text);
  LocalFree(sd);
  if (sddl.find(L"(A;;") == std::wstring::npos && litebox_test::under_wine()) {
    GTEST_SKIP() << "wine 8 keeps no DACL on named pipes (reported: " << std::string(sddl.begin(), sddl.end())
                 << "); on real Windows only SYSTEM, Administrators and the shim's user may open the pipe";
  }
  EXPECT_NE(sddl.find(L";;;SY)"), std::wstring::npos) << std::string(sddl.begin(), sddl.end());
  EXPECT_NE(sddl.find(L";;;BA)"), std::wstring::npos) << std::string(sddl.begin(), sddl.end());
  EXPECT_EQ(sddl.find(L";;;WD)"), std::wstring::npos) << "Everyone must not be admitted";
  EXPECT_NE(sddl.find(L"D:P"), std::wstring::npos) << "the DACL must not inherit entries";
}

TEST_F(ShimOverPipe, ASecondServerForTheSamePipeIsRefused) {
  if (litebox_test::under_wine()) {
    GTEST_SKIP() << "wine 8 does not enforce FILE_FLAG_FIRST_PIPE_INSTANCE: a second `serve` on " << address_
                 << " would share the name; on real Windows it must exit 1 with CreateNamedPipe's access-denied error";
  }
  const ShimRun second = run_shim({"-namespace", kNamespace, "-id", id_, "-socket-path", address_, "serve"}, bundle_.path);
  EXPECT_EQ(second.code, 1u);
}

}  // namespace
