// Every descriptor call and every errno it can give, with Linux's results.
#include <gtest/gtest.h>

#include "fdcore/process_files.hpp"
#include "test_support.hpp"

namespace fdcore {
namespace {

using testing::TestProcess;
constexpr std::uint32_t kNegativeOne = 0xFFFFFFFFu;  // what the kernel sees for an int fd of -1

class DescriptorCalls : public ::testing::Test {
 protected:
  TestProcess t;
  ProcessFiles<int>& p = t.proc;
};

TEST_F(DescriptorCalls, OpenGivesLowestFreeNumbers) {
  EXPECT_EQ(t.open(), Result<int>(0));
  EXPECT_EQ(t.open(), Result<int>(1));
  EXPECT_EQ(t.open(), Result<int>(2));
  EXPECT_EQ(p.close(1), Result<int>(0));
  EXPECT_EQ(t.open(), Result<int>(1));
  EXPECT_EQ(t.open(), Result<int>(3));
}

TEST_F(DescriptorCalls, OpenHonoursCloexecAndKeepsOnlyStatusFlags) {
  auto fd = t.open(abi::o_wronly | abi::o_cloexec | abi::o_creat | abi::o_trunc | abi::o_excl | abi::o_noctty |
                   abi::o_append | abi::o_largefile);
  ASSERT_TRUE(fd);
  EXPECT_EQ(p.fcntl(fd.value(), abi::f_getfd, 0), Result<int>(abi::fd_cloexec));
  EXPECT_EQ(p.fcntl(fd.value(), abi::f_getfl, 0), Result<int>(abi::o_wronly | abi::o_append | abi::o_largefile));
  auto plain = t.open(abi::o_rdonly);
  EXPECT_EQ(p.fcntl(plain.value(), abi::f_getfd, 0), Result<int>(0));
}

TEST_F(DescriptorCalls, OpenAtTheLimitIsEmfile) {
  ASSERT_TRUE(p.set_nofile(3));
  for (int i = 0; i < 3; ++i) ASSERT_EQ(t.open(), Result<int>(i));
  EXPECT_EQ(t.open(), Result<int>(Errno::mfile));
  // The value was not adopted: the caller still owns it, nothing was released.
  EXPECT_EQ(t.store->size(), 3u);
  EXPECT_TRUE(t.log->take().empty());
  ASSERT_TRUE(p.set_nofile(0));
  EXPECT_EQ(t.open(), Result<int>(Errno::mfile));
}

TEST_F(DescriptorCalls, OpenOfARawValueTheStoreHoldsIsEexist) {
  ASSERT_TRUE(p.open(7, {}));
  EXPECT_EQ(p.open(7, {}), Result<int>(Errno::exist));
  EXPECT_EQ(p.files()->open_count(), 1u);
}

TEST_F(DescriptorCalls, CloseReleasesTheRawValueOnlyWithTheLastDescriptor) {
  auto fd = t.open();
  auto copy = p.dup(fd.value());
  const int raw = p.raw(fd.value()).value();
  EXPECT_EQ(p.close(fd.value()), Result<int>(0));
  EXPECT_TRUE(t.log->take().empty());
  EXPECT_EQ(p.close(copy.value()), Result<int>(0));
  EXPECT_EQ(t.log->take(), std::vector<int>{raw});
  EXPECT_EQ(t.store->size(), 0u);
}

TEST_F(DescriptorCalls, CloseOfAClosedOrImpossibleNumberIsEbadf) {
  EXPECT_EQ(p.close(0), Result<int>(Errno::badf));
  EXPECT_EQ(p.close(kNegativeOne), Result<int>(Errno::badf));
  EXPECT_EQ(p.close(1u << 30), Result<int>(Errno::badf));
  auto fd = t.open();
  EXPECT_EQ(p.close(fd.value()), Result<int>(0));
  EXPECT_EQ(p.close(fd.value()), Result<int>(Errno::badf));
}

TEST_F(DescriptorCalls, DupSharesTheDescriptionAndClearsCloexec) {
  auto fd = t.open(abi::o_rdwr | abi::o_cloexec);
  auto copy = p.dup(fd.value());
  ASSERT_EQ(copy, Result<int>(1));
  EXPECT_EQ(p.fcntl(1, abi::f_getfd, 0), Result<int>(0));
  EXPECT_EQ(p.get(0).value(), p.get(1).value());
  // Status flags are the description's: set through one, seen through the other.
  EXPECT_EQ(p.fcntl(0, abi::f_setfl, abi::o_nonblock), Result<int>(0));
  EXPECT_EQ(p.fcntl(1, abi::f_getfl, 0), Result<int>(abi::o_rdwr | abi::o_nonblock));
  // Descriptor flags are the number's.
  EXPECT_EQ(p.fcntl(0, abi::f_getfd, 0), Result<int>(abi::fd_cloexec));
}

TEST_F(DescriptorCalls, DupErrors) {
  EXPECT_EQ(p.dup(0), Result<int>(Errno::badf));
  EXPECT_EQ(p.dup(kNegativeOne), Result<int>(Errno::badf));
  ASSERT_TRUE(p.set_nofile(2));
  ASSERT_TRUE(t.open());
  ASSERT_EQ(p.dup(0), Result<int>(1));
  EXPECT_EQ(p.dup(0), Result<int>(Errno::mfile));
}

TEST_F(DescriptorCalls, Dup2ReplacesTheTargetAndClearsCloexec) {
  auto a = t.open();
  auto b = t.open(abi::o_rdonly | abi::o_cloexec);
  const int raw_b = p.raw(b.value()).value();
  EXPECT_EQ(p.dup2(a.value(), b.value()), Result<int>(b.value()));
  EXPECT_EQ(t.log->take(), std::vector<int>{raw_b});  // the old description at b was released
  EXPECT_EQ(p.fcntl(b.value(), abi::f_getfd, 0), Result<int>(0));
  EXPECT_EQ(p.get(b.value()).value(), p.get(a.value()).value());
  EXPECT_EQ(p.dup2(a.value(), 100), Result<int>(100));
  EXPECT_EQ(t.open(), Result<int>(2));  // dup2 far away does not move the lowest free number
}

TEST_F(DescriptorCalls, Dup2OntoItself) {
  EXPECT_EQ(p.dup2(5, 5), Result<int>(Errno::badf));
  auto fd = t.open(abi::o_rdwr | abi::o_cloexec);
  EXPECT_EQ(p.dup2(fd.value(), fd.value()), Result<int>(fd.value()));
  EXPECT_EQ(p.fcntl(fd.value(), abi::f_getfd, 0), Result<int>(abi::fd_cloexec));  // untouched
  // No limit check on this path: an fd above a lowered limit still answers.
  ASSERT_TRUE(p.dup2(fd.value(), 50));
  ASSERT_TRUE(p.set_nofile(10));
  EXPECT_EQ(p.dup2(50, 50), Result<int>(50));
}

TEST_F(DescriptorCalls, Dup2Errors) {
  auto fd = t.open();
  EXPECT_EQ(p.dup2(7, 8), Result<int>(Errno::badf));
  EXPECT_EQ(p.dup2(kNegativeOne, 8), Result<int>(Errno::badf));
  EXPECT_EQ(p.dup2(fd.value(), kNegativeOne), Result<int>(Errno::badf));
  ASSERT_TRUE(p.set_nofile(16));
  EXPECT_EQ(p.dup2(fd.value(), 16), Result<int>(Errno::badf));
  EXPECT_EQ(p.dup2(fd.value(), 15), Result<int>(15));
}

TEST_F(DescriptorCalls, Dup3) {
  auto fd = t.open();
  EXPECT_EQ(p.dup3(fd.value(), 4, static_cast<std::int32_t>(abi::o_cloexec)), Result<int>(4));
  EXPECT_EQ(p.fcntl(4, abi::f_getfd, 0), Result<int>(abi::fd_cloexec));
  EXPECT_EQ(p.dup3(fd.value(), 5, 0), Result<int>(5));
  EXPECT_EQ(p.fcntl(5, abi::f_getfd, 0), Result<int>(0));
}

TEST_F(DescriptorCalls, Dup3ErrorsInTheKernelsOrder) {
  auto fd = t.open();
  // Bad flags first, even with a closed oldfd and an equal pair.
  EXPECT_EQ(p.dup3(9, 9, static_cast<std::int32_t>(abi::o_nonblock)), Result<int>(Errno::inval));
  EXPECT_EQ(p.dup3(fd.value(), 3, -1), Result<int>(Errno::inval));
  // Equal numbers: EINVAL even when open.
  EXPECT_EQ(p.dup3(fd.value(), fd.value(), 0), Result<int>(Errno::inval));
  EXPECT_EQ(p.dup3(9, 9, 0), Result<int>(Errno::inval));
  // Then the limit, then oldfd.
  ASSERT_TRUE(p.set_nofile(8));
  EXPECT_EQ(p.dup3(9, 8, 0), Result<int>(Errno::badf));
  EXPECT_EQ(p.dup3(9, 7, 0), Result<int>(Errno::badf));
}

TEST_F(DescriptorCalls, FcntlDupfdTakesTheLowestFreeAtOrAboveTheArgument) {
  auto fd = t.open(abi::o_rdwr | abi::o_cloexec);
  ASSERT_TRUE(p.dup2(fd.value(), 10));
  EXPECT_EQ(p.fcntl(fd.value(), abi::f_dupfd, 10), Result<int>(11));
  EXPECT_EQ(p.fcntl(11, abi::f_getfd, 0), Result<int>(0));
  EXPECT_EQ(p.fcntl(fd.value(), abi::f_dupfd_cloexec, 3), Result<int>(3));
  EXPECT_EQ(p.fcntl(3, abi::f_getfd, 0), Result<int>(abi::fd_cloexec));
  EXPECT_EQ(p.fcntl(fd.value(), abi::f_dupfd, 0), Result<int>(1));
}

TEST_F(DescriptorCalls, FcntlDupfdErrors) {
  EXPECT_EQ(p.fcntl(0, abi::f_dupfd, 0), Result<int>(Errno::badf));
  auto fd = t.open();
  ASSERT_TRUE(p.set_nofile(4));
  EXPECT_EQ(p.fcntl(fd.value(), abi::f_dupfd, 4), Result<int>(Errno::inval));
  EXPECT_EQ(p.fcntl(fd.value(), abi::f_dupfd_cloexec, kNegativeOne), Result<int>(Errno::inval));
  // The kernel reads the argument as an unsigned int: 2^32 + 2 is 2.
  EXPECT_EQ(p.fcntl(fd.value(), abi::f_dupfd, (std::uint64_t{1} << 32) + 2), Result<int>(2));
  ASSERT_TRUE(p.dup(fd.value()));
  ASSERT_TRUE(p.dup(fd.value()));
  EXPECT_EQ(p.fcntl(fd.value(), abi::f_dupfd, 0), Result<int>(Errno::mfile));
  // The limit check comes after the descriptor check.
  EXPECT_EQ(p.fcntl(9, abi::f_dupfd, 100), Result<int>(Errno::badf));
}

TEST_F(DescriptorCalls, FcntlGetfdSetfd) {
  auto fd = t.open();
  EXPECT_EQ(p.fcntl(fd.value(), abi::f_getfd, 0), Result<int>(0));
  EXPECT_EQ(p.fcntl(fd.value(), abi::f_setfd, abi::fd_cloexec), Result<int>(0));
  EXPECT_EQ(p.fcntl(fd.value(), abi::f_getfd, 0), Result<int>(abi::fd_cloexec));
  // Only FD_CLOEXEC counts: 2 clears it, 3 sets it, 2^32 + 1 is 1.
  EXPECT_EQ(p.fcntl(fd.value(), abi::f_setfd, 2), Result<int>(0));
  EXPECT_EQ(p.fcntl(fd.value(), abi::f_getfd, 0), Result<int>(0));
  EXPECT_EQ(p.fcntl(fd.value(), abi::f_setfd, 3), Result<int>(0));
  EXPECT_EQ(p.fcntl(fd.value(), abi::f_getfd, 0), Result<int>(abi::fd_cloexec));
  EXPECT_EQ(p.fcntl(fd.value(), abi::f_setfd, 0), Result<int>(0));
  EXPECT_EQ(p.fcntl(fd.value(), abi::f_setfd, (std::uint64_t{1} << 32) + 1), Result<int>(0));
  EXPECT_EQ(p.fcntl(fd.value(), abi::f_getfd, 0), Result<int>(abi::fd_cloexec));
  EXPECT_EQ(p.fcntl(8, abi::f_getfd, 0), Result<int>(Errno::badf));
  EXPECT_EQ(p.fcntl(8, abi::f_setfd, 1), Result<int>(Errno::badf));
}

TEST_F(DescriptorCalls, FcntlSetflChangesOnlyTheSettableBits) {
  auto fd = t.open(abi::o_wronly | abi::o_largefile);
  EXPECT_EQ(p.fcntl(fd.value(), abi::f_setfl, abi::o_rdwr | abi::o_append | abi::o_nonblock | abi::o_creat |
                                                   abi::o_trunc | abi::o_sync | abi::o_async | abi::o_noatime),
            Result<int>(0));
  // O_ASYNC is ignored: a plain file has no fasync operation.
  EXPECT_EQ(p.fcntl(fd.value(), abi::f_getfl, 0),
            Result<int>(abi::o_wronly | abi::o_largefile | abi::o_append | abi::o_nonblock | abi::o_noatime));
  EXPECT_EQ(p.fcntl(fd.value(), abi::f_setfl, 0), Result<int>(0));
  EXPECT_EQ(p.fcntl(fd.value(), abi::f_getfl, 0), Result<int>(abi::o_wronly | abi::o_largefile));
}

TEST_F(DescriptorCalls, FcntlSetflOAsyncNeedsAFasyncOperation) {
  OpenFileSpec pipe_spec{DescriptorKind::raw, abi::o_rdonly, true, true, "pipe:[1]"};
  auto pipe = p.open(77, pipe_spec);
  ASSERT_TRUE(pipe);
  EXPECT_EQ(p.fcntl(pipe.value(), abi::f_setfl, abi::o_async | abi::o_nonblock), Result<int>(0));
  EXPECT_EQ(p.fcntl(pipe.value(), abi::f_getfl, 0), Result<int>(abi::o_async | abi::o_nonblock));
  EXPECT_EQ(p.fcntl(pipe.value(), abi::f_setfl, 0), Result<int>(0));
  EXPECT_EQ(p.fcntl(pipe.value(), abi::f_getfl, 0), Result<int>(abi::o_rdonly));
}

TEST_F(DescriptorCalls, FcntlSetflODirectNeedsDirectIo) {
  auto file = t.open(abi::o_rdwr);
  EXPECT_EQ(p.fcntl(file.value(), abi::f_setfl, abi::o_direct | abi::o_nonblock), Result<int>(Errno::inval));
  EXPECT_EQ(p.fcntl(file.value(), abi::f_getfl, 0), Result<int>(abi::o_rdwr));  // unchanged
  auto pipe = t.open(abi::o_rdonly, /*direct_io=*/true);
  EXPECT_EQ(p.fcntl(pipe.value(), abi::f_setfl, abi::o_direct), Result<int>(0));
  EXPECT_EQ(p.fcntl(pipe.value(), abi::f_getfl, 0), Result<int>(abi::o_direct));
}

TEST_F(DescriptorCalls, FcntlOnOPathAllowsOnlyTheTableCommands) {
  auto fd = t.open(abi::o_path | abi::o_cloexec);
  EXPECT_EQ(p.fcntl(fd.value(), abi::f_getfl, 0), Result<int>(abi::o_path));
  EXPECT_EQ(p.fcntl(fd.value(), abi::f_setfl, abi::o_nonblock), Result<int>(Errno::badf));
  EXPECT_EQ(p.fcntl(fd.value(), 9999, 0), Result<int>(Errno::badf));
  EXPECT_EQ(p.fcntl(fd.value(), abi::f_getfd, 0), Result<int>(abi::fd_cloexec));
  EXPECT_EQ(p.fcntl(fd.value(), abi::f_dupfd, 0), Result<int>(1));
}

TEST_F(DescriptorCalls, FcntlUnknownCommand) {
  EXPECT_EQ(p.fcntl(0, 9999, 0), Result<int>(Errno::badf));
  auto fd = t.open();
  EXPECT_EQ(p.fcntl(fd.value(), 9999, 0), Result<int>(Errno::inval));
  EXPECT_EQ(p.fcntl(fd.value(), kNegativeOne, 0), Result<int>(Errno::inval));
}

TEST_F(DescriptorCalls, CloseRangeClosesOnlyWhatIsOpenInTheRange) {
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(t.open());
  ASSERT_TRUE(p.dup2(0, 500));
  EXPECT_EQ(p.close_range(2, 5, 0), Result<int>(0));
  for (std::uint32_t fd : {0u, 1u, 6u, 7u, 500u}) EXPECT_TRUE(p.files()->is_open(fd)) << fd;
  for (std::uint32_t fd : {2u, 3u, 4u, 5u}) EXPECT_FALSE(p.files()->is_open(fd)) << fd;
  EXPECT_EQ(t.log->take().size(), 4u);
  EXPECT_EQ(p.close_range(7, kNegativeOne, 0), Result<int>(0));
  EXPECT_FALSE(p.files()->is_open(500));
  EXPECT_FALSE(p.files()->is_open(7));
  EXPECT_EQ(p.close_range(100, 200, 0), Result<int>(0));  // nothing there: still 0
  EXPECT_EQ(p.close_range(0, 0, 0), Result<int>(0));
  EXPECT_EQ(p.files()->open_count(), 2u);
}

TEST_F(DescriptorCalls, CloseRangeCloexecMarksWithoutClosing) {
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(t.open());
  EXPECT_EQ(p.close_range(1, 2, abi::close_range_cloexec), Result<int>(0));
  EXPECT_EQ(p.fcntl(0, abi::f_getfd, 0), Result<int>(0));
  EXPECT_EQ(p.fcntl(1, abi::f_getfd, 0), Result<int>(abi::fd_cloexec));
  EXPECT_EQ(p.fcntl(2, abi::f_getfd, 0), Result<int>(abi::fd_cloexec));
  EXPECT_EQ(p.fcntl(3, abi::f_getfd, 0), Result<int>(0));
  EXPECT_EQ(p.files()->open_count(), 4u);
  ASSERT_TRUE(p.exec());
  EXPECT_EQ(p.files()->open_count(), 2u);
}

TEST_F(DescriptorCalls, CloseRangeErrors) {
  auto fd = t.open();
  EXPECT_EQ(p.close_range(5, 4, 0), Result<int>(Errno::inval));
  EXPECT_EQ(p.close_range(0, 10, 1), Result<int>(Errno::inval));  // bit 0 is no flag
  EXPECT_EQ(p.close_range(0, 10, 8), Result<int>(Errno::inval));
  EXPECT_EQ(p.close_range(0, 10, kNegativeOne), Result<int>(Errno::inval));
  EXPECT_TRUE(p.files()->is_open(fd.value()));  // nothing happened
}

TEST_F(DescriptorCalls, CloseRangeUnshareLeavesTheSharersTableAlone) {
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(t.open());
  auto sibling = p.clone(/*clone_files=*/true).value();
  EXPECT_EQ(p.close_range(0, kNegativeOne, abi::close_range_unshare), Result<int>(0));
  EXPECT_EQ(p.files()->open_count(), 0u);
  EXPECT_EQ(sibling.files()->open_count(), 4u);
  EXPECT_NE(p.files(), sibling.files());
  // With CLOEXEC too: the private copy is marked, the sharer's table is not.
  auto other = sibling.clone(true).value();
  EXPECT_EQ(sibling.close_range(0, 1, abi::close_range_unshare | abi::close_range_cloexec), Result<int>(0));
  EXPECT_EQ(sibling.fcntl(0, abi::f_getfd, 0), Result<int>(abi::fd_cloexec));
  EXPECT_EQ(other.fcntl(0, abi::f_getfd, 0), Result<int>(0));
}

TEST_F(DescriptorCalls, SetNofileAboveNrOpenIsEperm) {
  EXPECT_EQ(p.set_nofile(abi::nr_open_default), Result<int>(0));
  EXPECT_EQ(p.set_nofile(abi::nr_open_default + 1u), Result<int>(Errno::perm));
  EXPECT_EQ(p.nofile(), abi::nr_open_default);
}

TEST_F(DescriptorCalls, HostileNumbersNeverCrash) {
  auto fd = t.open();
  ASSERT_TRUE(p.set_nofile(abi::nr_open_default));
  for (std::uint32_t n : {0u, 1u, 63u, 64u, 65u, 1023u, 1024u, 1048575u, 1048576u, 1u << 31, kNegativeOne - 1,
                          kNegativeOne}) {
    (void)p.close(n);
    (void)p.dup(n);
    (void)p.dup2(fd.value(), n);
    (void)p.dup3(fd.value(), n, 0);
    for (std::uint32_t cmd : {abi::f_dupfd, abi::f_dupfd_cloexec, abi::f_getfd, abi::f_setfd, abi::f_getfl,
                              abi::f_setfl, n}) {
      (void)p.fcntl(n, cmd, n);
      (void)p.fcntl(fd.value(), cmd, std::uint64_t{n} << 16);
    }
    (void)p.close_range(n, kNegativeOne, abi::close_range_cloexec);
    (void)p.close_range(0, n, n);
  }
  auto again = t.open();  // the loop closed everything
  ASSERT_TRUE(again);
  EXPECT_EQ(p.dup2(again.value(), 1048575), Result<int>(1048575));
  EXPECT_EQ(p.dup2(again.value(), 1048576), Result<int>(Errno::badf));
}

}  // namespace
}  // namespace fdcore
