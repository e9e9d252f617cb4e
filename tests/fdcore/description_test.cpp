// Open file descriptions and their store: identity, described (raw-less) descriptions, references, the
// snapshot view, the store's lifetime and the pool's reuse.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "fdcore/process_files.hpp"
#include "test_support.hpp"

namespace fdcore {
namespace {

using testing::TestProcess;

OpenFileSpec spec_with(ObjectIdentity identity, std::uint32_t flags = abi::o_rdwr) {
  OpenFileSpec s;
  s.open_flags = flags;
  s.target = "/x";
  s.identity = identity;
  return s;
}

TEST(ObjectIdentity, KnownEqualityAndStorage) {
  EXPECT_FALSE(ObjectIdentity{}.known());
  EXPECT_TRUE((ObjectIdentity{0, 7}).known());
  EXPECT_TRUE((ObjectIdentity{3, 0}).known());
  EXPECT_EQ((ObjectIdentity{3, 7}), (ObjectIdentity{3, 7}));
  EXPECT_NE((ObjectIdentity{3, 7}), (ObjectIdentity{3, 8}));
  EXPECT_EQ(OpenFileSpec{}.identity, ObjectIdentity{});

  TestProcess t;
  ASSERT_EQ(t.proc.open(40, spec_with({0x803, 123456})), Result<int>(0));
  EXPECT_EQ(t.proc.get(0).value()->identity(), (ObjectIdentity{0x803, 123456}));
  EXPECT_EQ(t.proc.view(0).value().identity, (ObjectIdentity{0x803, 123456}));
  // Duplicates share it; fdcore only stores it (two objects may claim the same identity).
  ASSERT_EQ(t.proc.dup(0), Result<int>(1));
  ASSERT_EQ(t.proc.open(41, spec_with({0x803, 123456})), Result<int>(2));
  EXPECT_EQ(t.proc.get(1).value()->identity(), t.proc.get(2).value()->identity());
}

TEST(Describe, ADescriptionWithoutARawValue) {
  TestProcess t;
  static_assert(no_raw<int> == -1);
  static_assert(no_raw<std::uintptr_t> == ~std::uintptr_t{0});
  auto a = t.store->describe(spec_with({1, 2}));
  auto b = t.store->describe(spec_with({1, 2}));
  ASSERT_TRUE(a);
  ASSERT_TRUE(b);
  EXPECT_NE(a.value(), b.value());  // any number of them
  EXPECT_EQ(a.value()->raw(), no_raw<int>);
  EXPECT_FALSE(a.value()->has_raw());
  EXPECT_EQ(t.store->find(no_raw<int>), nullptr);  // not registered by raw value
  EXPECT_EQ(t.store->size(), 2u);                  // but counted
  // An adopted one has its raw value.
  auto c = t.store->adopt(9, {});
  ASSERT_TRUE(c);
  EXPECT_TRUE(c.value()->has_raw());
  EXPECT_EQ(t.store->size(), 3u);
  // Installed, it behaves as any description; closing it never calls the release hook.
  ASSERT_EQ(t.proc.install(std::move(a).value(), abi::o_cloexec), Result<int>(0));
  EXPECT_EQ(t.proc.raw(0), Result<int>(no_raw<int>));
  EXPECT_FALSE(t.proc.view(0).value().has_raw);
  EXPECT_EQ(t.proc.fcntl(0, abi::f_getfd, 0), Result<int>(abi::fd_cloexec));
  ASSERT_EQ(t.proc.dup(0), Result<int>(1));
  EXPECT_EQ(t.proc.close(0), Result<int>(0));
  EXPECT_EQ(t.proc.close(1), Result<int>(0));
  { auto drop = std::move(b).value(); }
  EXPECT_TRUE(t.log->take().empty());
  EXPECT_EQ(t.store->size(), 1u);
  { auto drop = std::move(c).value(); }
  EXPECT_EQ(t.log->take(), std::vector<int>{9});
  EXPECT_EQ(t.store->size(), 0u);
}

TEST(Describe, AdoptRefusesTheReservedValue) {
  TestProcess t;
  EXPECT_EQ(t.store->adopt(no_raw<int>, {}).error(), Errno::inval);
  EXPECT_EQ(t.proc.open(no_raw<int>, {}), Result<int>(Errno::inval));
  EXPECT_EQ(t.store->size(), 0u);
}

TEST(View, ASnapshotOfTheNumber) {
  TestProcess t;
  OpenFileSpec s = spec_with({5, 6}, abi::o_wronly | abi::o_append | abi::o_cloexec);
  s.kind = DescriptorKind::eventfd;
  ASSERT_EQ(t.proc.open(77, std::move(s)), Result<int>(0));
  const auto v = t.proc.view(0);
  ASSERT_TRUE(v);
  EXPECT_EQ(v.value().kind, DescriptorKind::eventfd);
  EXPECT_EQ(v.value().raw, 77);
  EXPECT_TRUE(v.value().has_raw);
  EXPECT_TRUE(v.value().cloexec);
  EXPECT_EQ(v.value().status_flags, abi::o_wronly | abi::o_append);
  EXPECT_EQ(t.proc.view(1).error(), Errno::badf);
  EXPECT_EQ(t.proc.view(1u << 30).error(), Errno::badf);
  EXPECT_EQ(t.proc.view(0xFFFFFFFFu).error(), Errno::badf);
}

TEST(OpenFileRef, CopiesMovesAndDrops) {
  TestProcess t;
  auto made = t.store->adopt(5, {});
  ASSERT_TRUE(made);
  OpenFileRef<int> a = std::move(made).value();
  OpenFileRef<int> b = a;  // NOLINT: the copy is the point
  EXPECT_EQ(a, b);
  OpenFileRef<int> c = std::move(b);
  EXPECT_EQ(b, nullptr);  // NOLINT: moved-from is null
  EXPECT_EQ(c, a);
  c = nullptr;
  b = a;
  a.reset();
  EXPECT_TRUE(t.log->take().empty());  // b still holds it
  OpenFileRef<int>& alias = b;
  b = alias;  // self-assignment keeps it
  EXPECT_EQ(b->raw(), 5);
  b = OpenFileRef<int>();
  EXPECT_EQ(t.log->take(), std::vector<int>{5});
  EXPECT_FALSE(b);
}

TEST(Store, OutlivesItsHandleWhileDescriptionsLive) {
  auto log = std::make_shared<testing::ReleaseLog>();
  OpenFileRef<int> kept;
  {
    auto store = RawDescriptorStore<int>::create([log](int raw) { log->released.push_back(raw); });
    auto p = ProcessFiles<int>::create(store);
    ASSERT_TRUE(p.open(3, {}));
    kept = p.get(0).value();
  }  // the table and every shared_ptr to the store are gone; the description is not
  EXPECT_TRUE(log->take().empty());
  EXPECT_EQ(kept->raw(), 3);
  kept.reset();  // the last description: released, and the store goes with it
  EXPECT_EQ(log->take(), std::vector<int>{3});
}

TEST(Store, ATableHoldingAnotherStoresDescriptionsKeepsThatStoreAlive) {
  TestProcess t;
  auto other_log = std::make_shared<testing::ReleaseLog>();
  {
    auto other = RawDescriptorStore<int>::create([other_log](int raw) { other_log->released.push_back(raw); });
    auto foreign = other->adopt(600, {});
    ASSERT_TRUE(foreign);
    ASSERT_EQ(t.proc.install(std::move(foreign).value(), 0), Result<int>(0));
  }  // no shared_ptr to `other` is left: the table pins it
  EXPECT_EQ(t.proc.raw(0), Result<int>(600));
  auto child = t.proc.clone(false).value();  // the copy pins it too
  ASSERT_EQ(t.proc.close(0), Result<int>(0));
  EXPECT_TRUE(other_log->take().empty());
  EXPECT_EQ(child.raw(0), Result<int>(600));
  child = t.proc.clone(false).value();  // the copy holding it goes
  EXPECT_EQ(other_log->take(), std::vector<int>{600});
  EXPECT_TRUE(t.log->take().empty());
}

TEST(Store, ReusedMemoryIsANewDescription) {
  TestProcess t;
  ASSERT_EQ(t.proc.open(10, spec_with({}, abi::o_rdwr | abi::o_nonblock | abi::o_cloexec)), Result<int>(0));
  const OpenFileDescription<int>* first = t.proc.get(0).value().get();
  ASSERT_EQ(t.proc.close(0), Result<int>(0));
  // The pool hands the same memory out again: nothing of the old life shows through.
  ASSERT_EQ(t.proc.open(11, spec_with({}, abi::o_rdonly)), Result<int>(0));
  const auto ref = t.proc.get(0).value();
  EXPECT_EQ(ref.get(), first);
  EXPECT_EQ(ref->raw(), 11);
  EXPECT_EQ(ref->status_flags(), abi::o_rdonly);
  EXPECT_EQ(t.proc.fcntl(0, abi::f_getfd, 0), Result<int>(0));
  EXPECT_EQ(t.store->find(10), nullptr);
  EXPECT_EQ(t.store->find(11), ref);
}

TEST(Store, AValueIsFreeAgainOnceItsReleaseHookRan) {
  // The hook adopts the value it was given again, as a host that hands a closed fd straight out would.
  std::shared_ptr<RawDescriptorStore<int>> store;
  bool readopted = false;
  store = RawDescriptorStore<int>::create([&](int raw) {
    if (!readopted) readopted = store->adopt(raw, {}).ok();  // dropped at once: a second release
  });
  ASSERT_TRUE(store->adopt(4, {}));  // the temporary dies: released, then adopted and released again
  EXPECT_TRUE(readopted);
  EXPECT_EQ(store->size(), 0u);
  store.reset();
}

TEST(RefCount, GetPutAndTheDeadZone) {
  RefCount c;
  EXPECT_TRUE(c.dead());
  EXPECT_FALSE(c.try_get());  // a free description cannot be revived by a reader
  c.revive();
  EXPECT_EQ(c.count(), 1);
  EXPECT_TRUE(c.try_get());
  c.get();
  EXPECT_EQ(c.count(), 3);
  EXPECT_FALSE(c.put());
  EXPECT_FALSE(c.put_last());  // not the last: a plain decrement
  EXPECT_TRUE(c.put_last());   // the last: straight to dead
  EXPECT_TRUE(c.dead());
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(c.try_get());
  EXPECT_TRUE(c.dead());
  c.revive();
  EXPECT_TRUE(c.put());
}

TEST(WriterLock, SerializesWriters) {
  WriterLock lock;
  long counter = 0;  // plain: the lock must make the increments exclusive (TSan checks it)
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20000; ++i) {
        std::lock_guard guard(lock);
        ++counter;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(counter, 80000);
  EXPECT_TRUE(lock.try_lock());
  EXPECT_FALSE(lock.try_lock());
  lock.unlock();
}

}  // namespace
}  // namespace fdcore
