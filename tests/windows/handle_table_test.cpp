// HandleTable: an fdcore table of HANDLEs whose numbers are the guest's, and the Windows refusals.
#include <windows.h>

#include <cerrno>

#include <gtest/gtest.h>

#include "litebox/windows/handle_table.hpp"
#include "test_support.hpp"

namespace {

using litebox::windows_host::HandleTable;
using litebox::windows_host::RawHandle;

RawHandle raw(HANDLE h) { return reinterpret_cast<RawHandle>(h); }

bool is_open(HANDLE h) {
  DWORD flags = 0;
  return GetHandleInformation(h, &flags) != 0;
}

TEST(WindowsHandleTable, InstallPutsTheHandleAtTheAskedNumber) {
  HandleTable table;
  litebox_test::Pipe pipe;
  const HANDLE w = pipe.take_write();
  auto fd = table.install(raw(w), 3, false, 0, "pipe");
  ASSERT_TRUE(fd) << fd.error().message;
  EXPECT_EQ(fd.value(), 3);
  auto at3 = table.raw(3);
  ASSERT_TRUE(at3);
  EXPECT_EQ(at3.value(), raw(w));
  ASSERT_EQ(table.entries().size(), 1u);
  EXPECT_EQ(table.entries()[0].fd, 3u);
  EXPECT_FALSE(table.raw(0));
}

TEST(WindowsHandleTable, LowestFreeNumberWhenNoneIsAsked) {
  HandleTable table;
  litebox_test::Pipe a;
  litebox_test::Pipe b;
  ASSERT_TRUE(table.install(raw(a.take_write()), 1, false, 0, ""));
  auto fd = table.install(raw(b.take_write()), -1, false, 0, "");
  ASSERT_TRUE(fd);
  EXPECT_EQ(fd.value(), 0);
}

TEST(WindowsHandleTable, CloseOfTheNumberClosesTheHandle) {
  HandleTable table;
  litebox_test::Pipe pipe;
  const HANDLE w = pipe.take_write();
  ASSERT_TRUE(table.install(raw(w), 5, false, 0, ""));
  ASSERT_TRUE(table.close(5));
  EXPECT_FALSE(is_open(w));
  auto again = table.close(5);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, EBADF);
}

TEST(WindowsHandleTable, CloexecIsPerNumber) {
  HandleTable table;
  litebox_test::Pipe pipe;
  ASSERT_TRUE(table.install(raw(pipe.take_write()), 0, true, 0, ""));
  ASSERT_TRUE(table.entries()[0].cloexec);
  ASSERT_TRUE(table.set_cloexec(0, false));
  EXPECT_FALSE(table.entries()[0].cloexec);
}

TEST(WindowsHandleTable, ClearClosesEveryHandle) {
  litebox_test::Pipe a;
  litebox_test::Pipe b;
  const HANDLE wa = a.take_write();
  const HANDLE wb = b.take_write();
  HandleTable table;
  ASSERT_TRUE(table.install(raw(wa), 0, false, 0, ""));
  ASSERT_TRUE(table.install(raw(wb), 1, false, 0, ""));
  table.clear();
  EXPECT_TRUE(table.entries().empty());
  EXPECT_FALSE(is_open(wa));
  EXPECT_FALSE(is_open(wb));
}

TEST(WindowsHandleTable, EventfdIsEnosysAndEpollIsEinvalAsInMicrosoftsLiteBox) {
  auto e = HandleTable::create_eventfd();
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, ENOSYS);
  auto p = HandleTable::create_epoll();
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code, EINVAL);
}

}  // namespace
