// launch_process: a child inherits exactly its table's non-FD_CLOEXEC handles, at the table's numbers.
#include <windows.h>

#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "litebox/windows/process_launch.hpp"
#include "test_support.hpp"

namespace {

using namespace litebox::windows_host;

RawHandle raw(HANDLE h) { return reinterpret_cast<RawHandle>(h); }
HANDLE handle(RawHandle r) { return reinterpret_cast<HANDLE>(r); }

// Runs the probe with `args` over `table` and returns its exit code (or -1).
int run(const std::wstring& args, HandleTable& table) {
  LaunchRequest req;
  req.application = litebox_test::probe_exe().wstring();
  req.command_line = litebox_test::quoted_probe() + L" " + args;
  req.table = &table;
  req.suspended = false;
  auto launched = launch_process(req);
  EXPECT_TRUE(launched) << (launched ? "" : launched.error().message);
  if (!launched) return -1;
  table.clear();  // the shim's copies: the pipes reach EOF when the child exits
  WaitForSingleObject(handle(launched.value().process), 30000);
  DWORD code = 0;
  GetExitCodeProcess(handle(launched.value().process), &code);
  CloseHandle(handle(launched.value().process));
  CloseHandle(handle(launched.value().thread));
  return static_cast<int>(code);
}

TEST(WindowsProcessLaunch, TheChildSeesExactlyTheTablesInheritableDescriptors) {
  HandleTable table;
  litebox_test::Pipe report;
  litebox_test::Pipe three;
  litebox_test::Pipe cloexec;
  const HANDLE w1 = report.take_write();
  const HANDLE w3 = three.take_write();
  ASSERT_TRUE(table.install(raw(w1), 1, false, 0, "report"));
  ASSERT_TRUE(table.install(raw(w3), 3, false, 0, "three"));
  ASSERT_TRUE(table.install(raw(cloexec.take_write()), 4, true, 0, "cloexec"));
  const std::string expected = "1:" + std::to_string(raw(w1)) + "\n3:" + std::to_string(raw(w3)) + "\n";
  std::string out;
  ASSERT_EQ(run(L"list", table), 0);
  out = litebox_test::read_all(report.read);
  EXPECT_EQ(out, expected);
}

TEST(WindowsProcessLaunch, AnInheritableHandleOutsideTheTableDoesNotLeak) {
  SECURITY_ATTRIBUTES sa{sizeof sa, nullptr, TRUE};
  HANDLE leak = CreateEventW(&sa, TRUE, FALSE, nullptr);
  ASSERT_NE(leak, nullptr);
  HandleTable table;
  litebox_test::Pipe report;
  ASSERT_TRUE(table.install(raw(report.take_write()), 1, false, 0, ""));
  ASSERT_EQ(run(L"check " + std::to_wstring(raw(leak)), table), 0);
  EXPECT_EQ(litebox_test::read_all(report.read), "invalid");
  CloseHandle(leak);
}

TEST(WindowsProcessLaunch, AWriteToFd3LandsInThePipeTheTablePutAt3) {
  HandleTable table;
  litebox_test::Pipe three;
  ASSERT_TRUE(table.install(raw(three.take_write()), 3, false, 0, ""));
  ASSERT_EQ(run(L"write 3 hello-fd3", table), 0);
  EXPECT_EQ(litebox_test::read_all(three.read), "hello-fd3");
}

TEST(WindowsProcessLaunch, ACloexecDescriptorIsAHoleInTheChild) {
  HandleTable table;
  litebox_test::Pipe three;
  ASSERT_TRUE(table.install(raw(three.take_write()), 3, true, 0, ""));
  EXPECT_EQ(run(L"write 3 nope", table), 101);  // _write(3) fails: EBADF
}

TEST(WindowsProcessLaunch, TheExitCodeIsTheChilds) {
  HandleTable table;
  EXPECT_EQ(run(L"exit 42", table), 42);
}

TEST(WindowsProcessLaunch, TheCrtBlockHasCountFlagsThenHandles) {
  litebox_test::Pipe p;
  std::vector<TableEntry> entries{{2, raw(p.write), false, true}};
  auto block = crt_descriptor_block(entries);
  ASSERT_TRUE(block);
  ASSERT_EQ(block.value().size(), 4u + 3u + 3u * sizeof(HANDLE));
  EXPECT_EQ(block.value()[0], 3);
  EXPECT_EQ(block.value()[4], 0);      // fd 0: a hole
  EXPECT_EQ(block.value()[6], 0x29);   // FOPEN | FPIPE | FAPPEND
  HANDLE at2 = nullptr;
  std::memcpy(&at2, block.value().data() + 7 + 2 * sizeof(HANDLE), sizeof at2);
  EXPECT_EQ(at2, p.write);
}

}  // namespace
