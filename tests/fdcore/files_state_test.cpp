// FilesState as processes see it: CLONE_FILES sharing, fork copies, unshare, execve, the raw store's
// release, growth, and introspection.
#include <gtest/gtest.h>

#include <cstdint>

#include "fdcore/process_files.hpp"
#include "test_support.hpp"

namespace fdcore {
namespace {

using testing::TestProcess;

TEST(FilesState, CloneFilesSharesOneTable) {
  TestProcess t;
  auto fd = t.open();
  auto thread = t.proc.clone(/*clone_files=*/true).value();
  EXPECT_EQ(thread.files(), t.proc.files());
  EXPECT_TRUE(t.proc.shared());
  // A close in one task is seen by the other at once; so is a new descriptor.
  EXPECT_EQ(thread.close(fd.value()), Result<int>(0));
  EXPECT_EQ(t.proc.fcntl(fd.value(), abi::f_getfd, 0), Result<int>(Errno::badf));
  ASSERT_EQ(thread.dup2(thread.open(77, {}).value(), 9), Result<int>(9));
  EXPECT_EQ(t.proc.fcntl(9, abi::f_getfd, 0), Result<int>(0));
}

TEST(FilesState, ForkCopiesTheTableButSharesTheDescriptions) {
  TestProcess t;
  auto fd = t.open(abi::o_rdwr | abi::o_cloexec);
  auto child = t.proc.clone(/*clone_files=*/false).value();
  EXPECT_NE(child.files(), t.proc.files());
  EXPECT_FALSE(t.proc.shared());
  // Same description: status flags set in the child show in the parent.
  EXPECT_EQ(child.fcntl(fd.value(), abi::f_setfl, abi::o_append), Result<int>(0));
  EXPECT_EQ(t.proc.fcntl(fd.value(), abi::f_getfl, 0), Result<int>(abi::o_rdwr | abi::o_append));
  // Own numbers: descriptor flags and closes stay in the child.
  EXPECT_EQ(child.fcntl(fd.value(), abi::f_getfd, 0), Result<int>(abi::fd_cloexec));
  EXPECT_EQ(child.fcntl(fd.value(), abi::f_setfd, 0), Result<int>(0));
  EXPECT_EQ(t.proc.fcntl(fd.value(), abi::f_getfd, 0), Result<int>(abi::fd_cloexec));
  EXPECT_EQ(child.close(fd.value()), Result<int>(0));
  EXPECT_TRUE(t.proc.files()->is_open(fd.value()));
  EXPECT_TRUE(t.log->take().empty());  // the parent still refers to it
  EXPECT_EQ(t.proc.close(fd.value()), Result<int>(0));
  EXPECT_EQ(t.log->take().size(), 1u);
}

TEST(FilesState, TheChildInheritsTheLimit) {
  TestProcess t;
  ASSERT_TRUE(t.proc.set_nofile(5));
  EXPECT_EQ(t.proc.clone(false).value().nofile(), 5u);
  EXPECT_EQ(t.proc.clone(true).value().nofile(), 5u);
}

TEST(FilesState, SharersKeepTheirOwnLimits) {
  TestProcess t;
  auto other = t.proc.clone(true).value();
  ASSERT_TRUE(t.proc.set_nofile(2));
  ASSERT_TRUE(t.open());
  ASSERT_TRUE(t.open());
  EXPECT_EQ(t.open(), Result<int>(Errno::mfile));
  EXPECT_EQ(other.dup(0), Result<int>(2));  // the sharer's own limit is still 1024
}

TEST(FilesState, UnshareCopiesOnlyWhenShared) {
  TestProcess t;
  ASSERT_TRUE(t.open());
  const auto* before = t.proc.files().get();
  EXPECT_EQ(t.proc.unshare(), Result<int>(0));
  EXPECT_EQ(t.proc.files().get(), before);  // not shared: nothing to copy
  auto thread = t.proc.clone(true).value();
  EXPECT_EQ(t.proc.unshare(), Result<int>(0));
  EXPECT_NE(t.proc.files(), thread.files());
  EXPECT_EQ(t.proc.close(0), Result<int>(0));
  EXPECT_TRUE(thread.files()->is_open(0));
}

TEST(FilesState, ExecClosesCloexecDescriptorsAndUnsharesFirst) {
  TestProcess t;
  ASSERT_EQ(t.open(abi::o_rdwr), Result<int>(0));
  ASSERT_EQ(t.open(abi::o_rdwr | abi::o_cloexec), Result<int>(1));
  ASSERT_EQ(t.proc.fcntl(0, abi::f_dupfd_cloexec, 10), Result<int>(10));
  auto thread = t.proc.clone(true).value();
  EXPECT_EQ(t.proc.exec(), Result<int>(0));
  EXPECT_TRUE(t.proc.files()->is_open(0));
  EXPECT_FALSE(t.proc.files()->is_open(1));
  EXPECT_FALSE(t.proc.files()->is_open(10));
  // The CLONE_FILES sibling that did not exec keeps all three.
  EXPECT_EQ(thread.files()->open_count(), 3u);
  EXPECT_TRUE(t.log->take().empty());
  thread = t.proc.clone(false).value();  // the sibling goes away: its table's last references drop
  EXPECT_EQ(t.log->take().size(), 1u);   // fd 1's description (fd 10 shares fd 0's)
}

TEST(FilesState, TheLastDescriptorAcrossCopiesReleasesTheRawValueOnce) {
  TestProcess t;
  auto fd = t.open();
  const int raw = t.proc.raw(fd.value()).value();
  {
    auto child = t.proc.clone(false).value();
    auto grandchild = child.clone(false).value();
    ASSERT_TRUE(t.proc.close(fd.value()));
    ASSERT_TRUE(child.close(fd.value()));
    EXPECT_TRUE(t.log->take().empty());
    EXPECT_EQ(t.store->find(raw)->raw(), raw);
  }
  EXPECT_EQ(t.log->take(), std::vector<int>{raw});
  EXPECT_EQ(t.store->find(raw), nullptr);
  // The value is free again: the host may hand it out anew.
  EXPECT_TRUE(t.proc.open(raw, {}));
}

TEST(FilesState, AThrowingReleaseHookIsContained) {
  auto store = RawDescriptorStore<int>::create([](int) { throw 42; });
  auto p = ProcessFiles<int>::create(store);
  ASSERT_TRUE(p.open(3, {}));
  EXPECT_EQ(p.close(0), Result<int>(0));
  EXPECT_EQ(store->size(), 0u);
}

TEST(FilesState, InstallAtPutsAnAdoptedDescriptionAtTheGuestsNumber) {
  TestProcess t;
  auto received = t.store->adopt(500, {DescriptorKind::unix_socket, abi::o_rdwr, false, true, "socket:[1]"});
  ASSERT_TRUE(received);
  EXPECT_EQ(t.proc.files()->install_at(6, received.value(), true), Result<int>(6));
  EXPECT_EQ(t.proc.fcntl(6, abi::f_getfd, 0), Result<int>(abi::fd_cloexec));
  EXPECT_EQ(t.open(), Result<int>(0));
  EXPECT_EQ(t.proc.files()->install_at(abi::nr_open_default, received.value(), false), Result<int>(Errno::badf));
  EXPECT_EQ(t.proc.files()->install_at(1, nullptr, false), Result<int>(Errno::inval));
}

TEST(FilesState, InstallOfAnExistingDescription) {
  TestProcess t;
  auto ofd = t.store->adopt(5, {});
  ASSERT_TRUE(ofd);
  EXPECT_EQ(t.proc.install(ofd.value(), abi::o_cloexec), Result<int>(0));
  EXPECT_EQ(t.proc.install(ofd.value(), 0), Result<int>(1));
  EXPECT_EQ(t.proc.fcntl(0, abi::f_getfd, 0), Result<int>(abi::fd_cloexec));
  EXPECT_EQ(t.proc.fcntl(1, abi::f_getfd, 0), Result<int>(0));
  EXPECT_EQ(t.proc.install(nullptr, 0), Result<int>(Errno::inval));
}

TEST(FilesState, GrowthForAFarDup2IsNoLargerThanTheKernels) {
  TestProcess t;
  ASSERT_TRUE(t.proc.set_nofile(abi::nr_open_default));
  ASSERT_TRUE(t.open());
  EXPECT_EQ(t.proc.files()->capacity(), 64u);
  ASSERT_EQ(t.proc.dup2(0, 1000000), Result<int>(1000000));
  // The kernel's expand_fdtable gives 1,048,576 slots here: an 8 MiB array of file pointers plus its
  // bitmaps. Ours: the same number of slots, but only the pages in use are allocated.
  EXPECT_LE(t.proc.files()->capacity(), 1048576u);
  const std::size_t kernel_bytes = 1048576 * sizeof(void*) + 3 * 1048576 / 8;
  EXPECT_LT(t.proc.files()->memory_bytes(), kernel_bytes / 8);
  EXPECT_EQ(t.open(), Result<int>(1));
}

TEST(FilesState, LowestFreeStaysRightWithManyDescriptors) {
  TestProcess t;
  ASSERT_TRUE(t.proc.set_nofile(200000));
  for (int i = 0; i < 150000; ++i) ASSERT_EQ(t.open(), Result<int>(i));
  ASSERT_TRUE(t.proc.close(70001));
  ASSERT_TRUE(t.proc.close(3));
  EXPECT_EQ(t.proc.dup(0), Result<int>(3));
  EXPECT_EQ(t.proc.dup(0), Result<int>(70001));
  EXPECT_EQ(t.proc.dup(0), Result<int>(150000));
  EXPECT_EQ(t.proc.fcntl(0, abi::f_dupfd, 149990), Result<int>(150001));
  EXPECT_EQ(t.proc.close_range(10, 149999, 0), Result<int>(0));
  EXPECT_EQ(t.proc.files()->open_count(), 12u);
  EXPECT_EQ(t.proc.dup(0), Result<int>(10));
}

TEST(FilesState, ListShowsEveryDescriptor) {
  TestProcess t;
  ASSERT_TRUE(t.proc.open(40, {DescriptorKind::raw, abi::o_rdonly | abi::o_largefile, false, false, "/etc/hostname"}));
  ASSERT_TRUE(t.proc.open(41, {DescriptorKind::eventfd, abi::o_rdwr | abi::o_cloexec | abi::o_nonblock, false, false,
                               "anon_inode:[eventfd]"}));
  ASSERT_TRUE(t.proc.dup2(0, 7));
  auto list = t.proc.list();
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0].fd, 0u);
  EXPECT_EQ(list[0].kind, DescriptorKind::raw);
  EXPECT_EQ(list[0].target, "/etc/hostname");
  EXPECT_EQ(list[0].status_flags, abi::o_rdonly | abi::o_largefile);
  EXPECT_FALSE(list[0].cloexec);
  EXPECT_EQ(list[1].fd, 1u);
  EXPECT_EQ(list[1].kind, DescriptorKind::eventfd);
  EXPECT_TRUE(list[1].cloexec);
  EXPECT_EQ(list[1].status_flags, abi::o_rdwr | abi::o_nonblock);
  EXPECT_EQ(list[1].raw, 41);
  EXPECT_EQ(list[2].fd, 7u);
  EXPECT_EQ(list[2].raw, 40);
  EXPECT_EQ(kind_name(list[1].kind), "eventfd");
}

TEST(FilesState, WindowsSizedHandles) {
  // The same model with a HANDLE-sized raw value, as the Windows platform uses it.
  std::vector<std::uintptr_t> released;
  auto store = RawDescriptorStore<std::uintptr_t>::create([&](std::uintptr_t h) { released.push_back(h); });
  auto p = ProcessFiles<std::uintptr_t>::create(store);
  const std::uintptr_t handle = 0x7ff0'0000'1234u;
  ASSERT_EQ(p.open(handle, {}), Result<int>(0));
  ASSERT_EQ(p.dup(0), Result<int>(1));
  EXPECT_EQ(p.raw(1).value(), handle);
  ASSERT_TRUE(p.close(0));
  ASSERT_TRUE(p.close(1));
  EXPECT_EQ(released, std::vector<std::uintptr_t>{handle});
}

TEST(Errno, NamesAreLinuxs) {
  EXPECT_EQ(errno_name(Errno::badf), "EBADF");
  EXPECT_EQ(errno_name(Errno::mfile), "EMFILE");
  EXPECT_EQ(errno_name(static_cast<Errno>(4095)), "E?");
  EXPECT_EQ(static_cast<int>(Errno::badf), 9);
  EXPECT_EQ(static_cast<int>(Errno::inval), 22);
  EXPECT_EQ(static_cast<int>(Errno::mfile), 24);
  EXPECT_EQ(Result<int>(Errno::badf).raw(), -9);
  EXPECT_EQ(Result<int>(3).raw(), 3);
}

}  // namespace
}  // namespace fdcore
