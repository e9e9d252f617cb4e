// The lock-free read path under fire. Readers (raw, get, view, is_open, F_GETFD, F_GETFL, list) race with
// close, dup2 onto the number read, close_range, execve, table growth, F_SETFD, F_SETFL and fork copies.
//
// Every value a reader sees must be one the number really held at some moment. Each description gets its own
// raw value, and the raw value also determines its status flags and FD_CLOEXEC. A writer records "raw r is
// going to be installed at number n" before installing it. A reader therefore checks: the raw it saw was
// installed at that number; a snapshot's flags and FD_CLOEXEC belong to that raw; a description it holds is
// not released. A design that read a freed or reused description, resurrected a closed number, or showed a
// dup2 target closed fails these checks. Run under ThreadSanitizer and ASan too.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "fdcore/process_files.hpp"

namespace fdcore {
namespace {

using Process = ProcessFiles<int>;
using State = FilesState<int>;

constexpr int kMaxRaw = 1 << 20;
constexpr auto kRunTime = std::chrono::milliseconds(400);

// What a raw value says about its description.
std::uint32_t flags_for(int raw) {
  return abi::o_rdwr | ((raw & 1) != 0 ? abi::o_nonblock : 0u) | ((raw & 2) != 0 ? abi::o_append : 0u);
}
bool cloexec_for(int raw) { return (raw & 4) != 0; }

class Violations {
 public:
  void add(const std::string& what) {
    if (count_.fetch_add(1) < 10) {
      std::lock_guard lock(mu_);
      first_.push_back(what);
    }
  }
  int count() const { return count_.load(); }
  std::string report() const {
    std::lock_guard lock(mu_);
    std::string s;
    for (const auto& w : first_) s += "\n  " + w;
    return s;
  }

 private:
  std::atomic<int> count_{0};
  mutable std::mutex mu_;
  std::vector<std::string> first_;
};

// Which numbers (below 64) each raw value was installed at, and how often the store released it.
class History {
 public:
  History() : fds_of_(kMaxRaw), released_(kMaxRaw) {}

  // A fast build can outrun the ledger in kRunTime: writers stop while there is room (a round takes fewer).
  bool room() const { return next_.load() < kMaxRaw - 1024; }
  int fresh() {
    const int raw = next_.fetch_add(1);
    if (raw >= kMaxRaw) std::abort();  // a writer ignored room()
    return raw;
  }
  // Before the install: a reader that sees the raw at fd (acquire, through the table) sees this bit.
  void installing(int raw, std::uint32_t fd) { fds_of_[index(raw)].fetch_or(std::uint64_t{1} << fd); }
  bool was_at(int raw, std::uint32_t fd) const {
    return raw >= 0 && raw < next_.load() && ((fds_of_[index(raw)].load() >> fd) & 1u) != 0;
  }
  void on_release(int raw) { released_[index(raw)].fetch_add(1); }
  int releases(int raw) const { return released_[index(raw)].load(); }
  int issued() const { return next_.load(); }

  std::shared_ptr<RawDescriptorStore<int>> store() {
    return RawDescriptorStore<int>::create([this](int raw) { on_release(raw); });
  }
  // A raw value's spec, as its number tells.
  static OpenFileSpec spec(int raw) {
    OpenFileSpec s;
    s.open_flags = flags_for(raw) | (cloexec_for(raw) ? abi::o_cloexec : 0u);
    s.target = "lockfree";
    return s;
  }

 private:
  static std::size_t index(int raw) { return static_cast<std::size_t>(raw); }

  std::atomic<int> next_{1};
  std::vector<std::atomic<std::uint64_t>> fds_of_;
  std::vector<std::atomic<int>> released_;
};

// What readers may assume about the numbers they read.
struct ReadRules {
  bool may_be_closed = true;   // EBADF allowed
  bool fixed_flags = true;     // nobody calls F_SETFL: F_GETFL is flags_for(raw)
  bool fixed_cloexec = true;   // nobody calls F_SETFD or CLOSE_RANGE_CLOEXEC: FD_CLOEXEC is cloexec_for(raw)
  // get() spins while a slot shows a dead description (impossible unless a slot was resurrected): a test
  // that hunts resurrection leaves it out, so a bug fails the test instead of hanging it.
  bool with_get = true;
};

// One round of every read call on `fd`.
void read_number(Process& p, std::uint32_t fd, const ReadRules& rules, const History& h, Violations& v) {
  const std::string at = " at " + std::to_string(fd);
  const auto closed = [&](const char* call, Errno e) {
    if (!rules.may_be_closed || e != Errno::badf) v.add(std::string(call) + ": " + std::string(errno_name(e)) + at);
  };
  if (const auto raw = p.raw(fd); raw) {
    if (!h.was_at(raw.value(), fd)) v.add("raw " + std::to_string(raw.value()) + " never installed" + at);
  } else {
    closed("raw", raw.error());
  }
  if (!rules.with_get) {
  } else if (const auto ref = p.get(fd); ref) {
    const int raw = ref.value()->raw();
    if (!h.was_at(raw, fd)) v.add("get: raw " + std::to_string(raw) + " never installed" + at);
    if (h.releases(raw) != 0) v.add("get: a held description is released: " + std::to_string(raw));
    if (ref.value()->target() != "lockfree") v.add("get: the target is not the description's" + at);
  } else {
    closed("get", ref.error());
  }
  if (const auto view = p.view(fd); view) {
    const auto& s = view.value();
    if (!h.was_at(s.raw, fd)) v.add("view: raw " + std::to_string(s.raw) + " never installed" + at);
    if (rules.fixed_flags && s.status_flags != flags_for(s.raw)) v.add("view: flags of another description" + at);
    if (rules.fixed_cloexec && s.cloexec != cloexec_for(s.raw)) v.add("view: FD_CLOEXEC of another number" + at);
    if (!s.has_raw || s.kind != DescriptorKind::raw) v.add("view: kind or has_raw wrong" + at);
  } else {
    closed("view", view.error());
  }
  if (const auto fdflags = p.fcntl(fd, abi::f_getfd, 0); fdflags) {
    if (fdflags.value() != 0 && fdflags.value() != static_cast<int>(abi::fd_cloexec)) v.add("F_GETFD: junk" + at);
  } else {
    closed("F_GETFD", fdflags.error());
  }
  if (const auto fl = p.fcntl(fd, abi::f_getfl, 0); fl) {
    const auto f = static_cast<std::uint32_t>(fl.value());
    if ((f & ~(abi::o_rdwr | abi::o_nonblock | abi::o_append)) != 0 || (f & abi::o_accmode) != abi::o_rdwr) {
      v.add("F_GETFL: flags no description had" + at);
    }
  } else {
    closed("F_GETFL", fl.error());
  }
  if (!rules.may_be_closed && !p.files()->is_open(fd)) v.add("is_open: false" + at);
}

// Runs `writer` for kRunTime (or until it returns false) while `readers` threads call `read` in a loop.
void race(int readers, const std::function<bool()>& writer, const std::function<void(int)>& read) {
  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  for (int r = 0; r < readers; ++r) {
    threads.emplace_back([&, r] {
      while (!done.load(std::memory_order_relaxed)) read(r);
    });
  }
  const auto end = std::chrono::steady_clock::now() + kRunTime;
  while (std::chrono::steady_clock::now() < end && writer()) {
  }
  done = true;
  for (auto& t : threads) t.join();
}

// After every table is gone: each adopted raw released exactly once.
void expect_released_once(const History& h, const std::vector<int>& adopted, Violations& v) {
  for (int raw : adopted) {
    if (h.releases(raw) != 1) v.add("raw " + std::to_string(raw) + " released " + std::to_string(h.releases(raw)) + "x");
  }
}

// Opens a fresh raw value at the lowest free number, which the caller expects to be `fd`.
int open_at(Process& p, History& h, std::uint32_t fd, std::vector<int>& adopted, Violations& v) {
  const int raw = h.fresh();
  h.installing(raw, fd);
  const auto got = p.open(raw, History::spec(raw));
  if (!got || got.value() != static_cast<int>(fd)) {
    v.add("open did not land at " + std::to_string(fd));
    return -1;
  }
  adopted.push_back(raw);
  return raw;
}

TEST(LockFree, ReadersRacingCloseAndReopenSeeOnlyWhatTheNumberHeld) {
  History h;
  Violations v;
  std::vector<int> adopted;
  {
    Process p = Process::create(h.store());
    for (std::uint32_t fd = 0; fd < 4; ++fd) open_at(p, h, fd, adopted, v);
    std::vector<Process> views;
    for (int r = 0; r < 3; ++r) views.emplace_back(p.files());
    race(
        3,
        [&] {
          // Close 1..3 and reopen them: each number gets new descriptions, most reusing freed memory.
          for (std::uint32_t fd = 1; fd < 4; ++fd) (void)p.close(fd);
          for (std::uint32_t fd = 1; fd < 4; ++fd) open_at(p, h, fd, adopted, v);
          return v.count() == 0 && h.room();
        },
        [&](int r) {
          for (std::uint32_t fd = 0; fd < 5; ++fd) read_number(views[static_cast<std::size_t>(r)], fd, {}, h, v);
          for (const auto& d : views[static_cast<std::size_t>(r)].list()) {
            if (!h.was_at(d.raw, d.fd)) v.add("list: raw never installed at " + std::to_string(d.fd));
          }
        });
  }
  expect_released_once(h, adopted, v);
  EXPECT_EQ(v.count(), 0) << v.report();
  EXPECT_GT(adopted.size(), 100u);
}

TEST(LockFree, Dup2OntoTheNumberBeingReadNeverShowsItClosed) {
  History h;
  Violations v;
  std::vector<int> adopted;
  {
    Process p = Process::create(h.store());
    for (std::uint32_t fd = 0; fd < 3; ++fd) open_at(p, h, fd, adopted, v);
    // Number 5 always holds something: the description of 1 or of 2 (and, every so often, a fresh one).
    for (int raw : {adopted[1], adopted[2]}) h.installing(raw, 5);
    ASSERT_TRUE(p.dup2(1, 5));
    Process reader(p.files());
    std::uint32_t from = 1;
    race(
        2,
        [&] {
          from = from == 1 ? 2 : 1;
          if (!p.dup2(from, 5)) v.add("dup2 failed");
          if (from == 1 && h.issued() % 7 == 0) {  // replace 1 by a fresh description, then read it at 5
            const int raw = h.fresh();
            h.installing(raw, 1);
            h.installing(raw, 5);
            auto ref = p.files()->store()->adopt(raw, History::spec(raw));
            if (!ref || !p.files()->install_at(1, std::move(ref).value(), cloexec_for(raw))) v.add("install_at failed");
            adopted.push_back(raw);
          }
          return v.count() == 0 && h.room();
        },
        [&](int) {
          // dup2 gives the target the new description's FD_CLOEXEC = 0, whatever the raw says.
          read_number(reader, 5, {.may_be_closed = false, .fixed_cloexec = false}, h, v);
          if (const auto fdflags = reader.fcntl(5, abi::f_getfd, 0); fdflags && fdflags.value() != 0) {
            v.add("dup2's target has FD_CLOEXEC");
          }
        });
  }
  expect_released_once(h, adopted, v);
  EXPECT_EQ(v.count(), 0) << v.report();
}

TEST(LockFree, CloseRangeAndExecUnderReaders) {
  History h;
  Violations v;
  std::vector<int> adopted;
  {
    Process p = Process::create(h.store());
    Process reader(p.files());
    int round = 0;
    race(
        2,
        [&] {
          for (std::uint32_t fd = 0; fd < 24; ++fd) open_at(p, h, fd, adopted, v);
          switch (round++ % 3) {
            case 0: (void)p.close_range(0, 23, 0); break;
            case 1:
              (void)p.close_range(8, 15, abi::close_range_cloexec);
              p.files()->close_on_exec();  // execve's close, on the shared table
              (void)p.close_range(0, ~0u, 0);
              break;
            default:
              p.files()->close_on_exec();
              (void)p.close_range(0, 23, 0);
          }
          if (p.files()->open_count() != 0) v.add("numbers left open");
          return v.count() == 0 && h.room();
        },
        [&](int) {
          for (std::uint32_t fd = 0; fd < 24; ++fd) read_number(reader, fd, {.fixed_cloexec = false}, h, v);
        });
  }
  expect_released_once(h, adopted, v);
  EXPECT_EQ(v.count(), 0) << v.report();
}

TEST(LockFree, TableGrowthWhileReadersReadLowNumbers) {
  History h;
  Violations v;
  std::vector<int> adopted;
  for (int round = 0; round < 20 && v.count() == 0; ++round) {
    Process p = Process::create(h.store(), abi::nr_open_default);
    for (std::uint32_t fd = 0; fd < 4; ++fd) open_at(p, h, fd, adopted, v);
    Process reader(p.files());
    std::uint32_t high = 32;
    race(
        2,
        [&] {
          // Each dup2 past the capacity grows the table: a bigger bitmap, new pages, new blocks.
          if (high >= (1u << 20) || !h.room()) return false;
          if (p.dup2(0, high) != Result<int>(static_cast<int>(high))) v.add("dup2 to a high number failed");
          high = high * 2 + 1;
          return true;
        },
        [&](int) {
          for (std::uint32_t fd = 0; fd < 4; ++fd) read_number(reader, fd, {.may_be_closed = false}, h, v);
          // The high numbers hold fd 0's description or nothing, never anything else.
          for (std::uint32_t fd = 33; fd < (1u << 20); fd = fd * 2 + 1) {
            if (const auto raw = reader.raw(fd); raw && raw.value() != adopted[adopted.size() - 4]) {
              v.add("a grown number shows another description");
            }
          }
        });
  }
  expect_released_once(h, adopted, v);
  EXPECT_EQ(v.count(), 0) << v.report();
}

TEST(LockFree, SetfdRacingCloseAndReopenNeverResurrectsOrRetargets) {
  History h;
  Violations v;
  std::vector<int> adopted;
  {
    Process p = Process::create(h.store());
    for (std::uint32_t fd = 0; fd < 3; ++fd) open_at(p, h, fd, adopted, v);
    std::vector<Process> racers;
    for (int r = 0; r < 4; ++r) racers.emplace_back(p.files());
    race(
        4,
        [&] {
          // Only this thread opens and closes 3. F_SETFD on it may change FD_CLOEXEC, nothing else.
          const int raw = open_at(p, h, 3, adopted, v);
          if (p.raw(3) != Result<int>(raw)) v.add("F_SETFD changed the description at 3");
          if (!p.close(3)) v.add("close of 3 failed");
          if (p.files()->is_open(3) || p.fcntl(3, abi::f_getfd, 0).ok() || p.raw(3).ok()) {
            v.add("a closed number came back (F_SETFD resurrected it)");
          }
          return v.count() == 0 && h.room();
        },
        [&](int r) {
          auto& q = racers[static_cast<std::size_t>(r)];
          for (int i = 0; i < 16; ++i) {
            const auto set = q.fcntl(3, abi::f_setfd, static_cast<std::uint64_t>(i & 1));
            if (!set && set.error() != Errno::badf) v.add("F_SETFD: unexpected errno");
            (void)q.fcntl(2, abi::f_setfd, static_cast<std::uint64_t>(i & 1));
          }
          read_number(q, 3, {.fixed_cloexec = false, .with_get = false}, h, v);
        });
    // Number 2 was never closed: its description stayed.
    EXPECT_EQ(p.raw(2), Result<int>(adopted[2]));
  }
  expect_released_once(h, adopted, v);
  EXPECT_EQ(v.count(), 0) << v.report();
}

// Description memory is reused: a description closed at number 3 comes back as another description, which this
// test installs only at number 9. Readers and F_SETFL racers hammer 3. A stale pointer that survived the
// checks would let them see 9's description at 3, or change its flags.
TEST(LockFree, ReusedDescriptionsNeverLeakIntoAnotherNumber) {
  History h;
  Violations v;
  std::vector<int> adopted;
  {
    Process p = Process::create(h.store());
    for (std::uint32_t fd = 0; fd < 3; ++fd) open_at(p, h, fd, adopted, v);
    std::vector<Process> racers;
    for (int r = 0; r < 4; ++r) racers.emplace_back(p.files());
    const auto store = p.files()->store();
    race(
        4,
        [&] {
          // As long at 3 as the reused memory will be at 9: a stale reader then often finds the address at
          // 3 again, in a later life, which only the generation check tells apart.
          const int at3 = open_at(p, h, 3, adopted, v);
          for (int i = 0; i < 4; ++i) {
            if (const auto raw = p.raw(3); raw != Result<int>(at3)) v.add("the writer's own number changed");
          }
          (void)p.close(3);
          // Most likely the memory of the description just closed: adopted and placed at 9 only.
          const int raw = h.fresh();
          h.installing(raw, 9);
          auto ref = store->adopt(raw, History::spec(raw));
          if (!ref || !p.files()->install_at(9, std::move(ref).value(), cloexec_for(raw))) v.add("install_at failed");
          adopted.push_back(raw);
          for (int i = 0; i < 4; ++i) {
            if (p.fcntl(9, abi::f_getfl, 0) != Result<int>(static_cast<int>(flags_for(raw)))) {
              v.add("F_SETFL on 3 changed the flags of the description at 9");
            }
          }
          (void)p.close(9);
          return v.count() == 0 && h.room();
        },
        [&](int r) {
          auto& q = racers[static_cast<std::size_t>(r)];
          (void)q.fcntl(3, abi::f_setfl, abi::o_nonblock | abi::o_append);
          (void)q.fcntl(3, abi::f_setfl, 0);
          // Half the racers without get(): a reference held across a yield keeps the description alive, and
          // then its memory is not the one reused at 9.
          read_number(q, 3, {.fixed_flags = false, .with_get = r % 2 == 0}, h, v);
        });
  }
  expect_released_once(h, adopted, v);
  EXPECT_EQ(v.count(), 0) << v.report();
}

TEST(LockFree, ForkCopiesRacingWritersAreSnapshotsOfRealStates) {
  History h;
  Violations v;
  std::vector<int> adopted;
  std::mutex adopted_mu;
  {
    Process p = Process::create(h.store());
    for (std::uint32_t fd = 0; fd < 8; ++fd) open_at(p, h, fd, adopted, v);
    for (std::uint32_t fd = 0; fd < 8; ++fd) {
      for (std::uint32_t to = 8; to < 16; ++to) h.installing(adopted[fd], to);  // dup2 targets below
    }
    Process copier(p.files());
    std::uint32_t step = 0;
    race(
        2,
        [&] {
          ++step;
          const std::uint32_t a = step % 8;
          const std::uint32_t b = 8 + (step * 5) % 8;
          (void)p.dup2(a, b);
          (void)p.fcntl(b, abi::f_setfd, step & 1);
          if (step % 3 == 0) (void)p.close(b);
          if (step % 11 == 0) {  // a fresh description at a
            (void)p.close(a);
            std::lock_guard lock(adopted_mu);
            const int raw = open_at(p, h, a, adopted, v);
            for (std::uint32_t to = 8; to < 16; ++to) h.installing(raw, to);
          }
          return v.count() == 0 && h.room();
        },
        [&](int) {
          auto copy = copier.clone(/*clone_files=*/false);
          if (!copy) return v.add("clone failed");
          Process child = std::move(copy).value();
          for (const auto& d : child.list()) {
            if (!h.was_at(d.raw, d.fd)) v.add("a copy holds a raw never installed at " + std::to_string(d.fd));
            if (h.releases(d.raw) != 0) v.add("a copy holds a released description");
          }
          for (std::uint32_t fd = 0; fd < 16; ++fd) read_number(child, fd, {.fixed_cloexec = false}, h, v);
        });
  }
  expect_released_once(h, adopted, v);
  EXPECT_EQ(v.count(), 0) << v.report();
}

}  // namespace
}  // namespace fdcore
