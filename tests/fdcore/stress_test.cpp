// Stress test: threads hammer one FilesState through their own ProcessFiles (tasks sharing it with
// CLONE_FILES), mixing in fork copies, unshare and exec. While they run, every description a thread holds must
// stay registered and unreleased; afterwards the tables and the store must agree, and once everything is dropped
// every adopted raw value must have been released exactly once. Meant for ThreadSanitizer and ASan/UBSan.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <latch>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "fdcore/process_files.hpp"

namespace fdcore {
namespace {

constexpr int kThreads = 6;
constexpr int kIterationsPerThread = 15000;
constexpr std::size_t kMaxRaw = std::size_t{kThreads} * kIterationsPerThread + 16;  // at most one open per iteration

// Violations seen by any thread; the first few are kept with their story.
class Violations {
 public:
  void add(const std::string& what) {
    count_.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard lock(mu_);
    if (first_.size() < 10) first_.push_back(what);
  }
  int count() const { return count_.load(); }
  std::string report() const {
    std::lock_guard lock(mu_);
    std::string s;
    for (const auto& what : first_) s += "\n  " + what;
    return s;
  }

 private:
  std::atomic<int> count_{0};
  mutable std::mutex mu_;
  std::vector<std::string> first_;
};

// Which raw values were handed to the store, whether the store took them, and how often the release hook
// ran for each. Indexed by raw value; the hook may run on any thread.
class Ledger {
 public:
  explicit Ledger(Violations& violations) : violations_(violations), adopted_(kMaxRaw), released_(kMaxRaw) {}

  // A fresh raw value, or -1 when the ledger is full (the iteration bound makes that a bug in the test).
  int next_raw() {
    const int raw = next_.fetch_add(1);
    return static_cast<std::size_t>(raw) < kMaxRaw ? raw : -1;
  }
  int issued() const { return std::min(next_.load(), static_cast<int>(kMaxRaw)); }

  // The store took `raw` (set after open returns: the release may already have happened by then).
  void mark_adopted(int raw) { adopted_[static_cast<std::size_t>(raw)].store(true); }
  bool adopted(int raw) const { return adopted_[static_cast<std::size_t>(raw)].load(); }

  void on_release(int raw) {
    if (raw < 0 || static_cast<std::size_t>(raw) >= kMaxRaw) {
      violations_.add("release hook ran for unknown raw value " + std::to_string(raw));
      return;
    }
    if (released_[static_cast<std::size_t>(raw)].fetch_add(1) != 0) {
      violations_.add("raw value " + std::to_string(raw) + " released twice");
    }
  }
  int releases(int raw) const { return released_[static_cast<std::size_t>(raw)].load(); }

 private:
  Violations& violations_;
  std::atomic<int> next_{0};
  std::vector<std::atomic<bool>> adopted_;
  std::vector<std::atomic<int>> released_;
};

using Process = ProcessFiles<int>;
using State = FilesState<int>;

// One task: its own ProcessFiles (sharing `shared` until it unshares or execs) and, at times, a fork copy.
class Worker {
 public:
  Worker(int id, std::shared_ptr<State> shared, Ledger& ledger, Violations& violations)
      : id_(id),
        shared_(std::move(shared)),
        ledger_(ledger),
        violations_(violations),
        rng_(0x57e55u + id),
        self_(Process(shared_, 64)) {}

  void run(int iterations) {
    for (step_ = 0; step_ < iterations; ++step_) {
      Process& p = (fork_copy_ && below(100) < 20) ? *fork_copy_ : *self_;
      one_call(p);
    }
    shared_.reset();  // only the tasks' own ProcessFiles keep tables alive now
  }

  // What the main thread inspects after the run, then drops.
  std::optional<Process>& self() { return self_; }
  std::optional<Process>& fork_copy() { return fork_copy_; }

 private:
  std::uint32_t below(std::uint32_t n) { return static_cast<std::uint32_t>(rng_() % n); }

  // Mostly numbers that are likely open (the tables stay small), sometimes past the limit.
  std::uint32_t fd(const Process& p) {
    const auto limit = static_cast<std::uint32_t>(std::min<std::uint64_t>(p.nofile(), 96));
    const std::uint32_t kind = below(100);
    if (kind < 94) return below(limit + 4);
    if (kind < 98) return below(1100);
    return 0xFFFFFFFFu;
  }

  void fail(const std::string& call, const std::string& what) {
    violations_.add("thread " + std::to_string(id_) + " step " + std::to_string(step_) + ": " + call + ": " + what);
  }

  // The call may fail only with one of `allowed`; a success must satisfy `check`.
  template <typename Check>
  void expect(const std::string& call, const Result<int>& r, std::initializer_list<Errno> allowed, Check check) {
    if (r) {
      if (const char* problem = check(r.value())) fail(call, problem);
      return;
    }
    for (Errno e : allowed) {
      if (r.error() == e) return;
    }
    fail(call, "unexpected " + std::string(errno_name(r.error())));
  }
  void expect(const std::string& call, const Result<int>& r, std::initializer_list<Errno> allowed) {
    expect(call, r, allowed, [](int) -> const char* { return nullptr; });
  }

  // A held description must be registered in the store and unreleased, whatever the other threads do.
  void check_held(const std::string& call, const OpenFileRef<int>& ref) {
    if (!ref) return fail(call, "a null description");
    const int raw = ref->raw();
    if (raw < 0 || raw >= ledger_.issued()) return fail(call, "raw value never issued: " + std::to_string(raw));
    if (ledger_.releases(raw) != 0) fail(call, "held description already released: " + std::to_string(raw));
    if (shared_->store()->find(raw) != ref) fail(call, "the store does not map raw " + std::to_string(raw) + " to it");
  }

  void one_call(Process& p) {
    const std::uint32_t op = below(100);
    const std::uint32_t a = fd(p);
    const std::uint32_t b = fd(p);
    const auto within = [&p](int v) -> const char* {
      return static_cast<std::uint64_t>(v) < p.nofile() ? nullptr : "a number at or above the limit";
    };
    if (op < 16) {
      const int raw = ledger_.next_raw();
      if (raw < 0) return fail("open", "out of raw values");
      OpenFileSpec spec;
      spec.open_flags = (below(2) ? abi::o_rdwr : abi::o_rdonly) | (below(3) == 0 ? abi::o_cloexec : 0u) |
                        (below(4) == 0 ? abi::o_nonblock : 0u);
      spec.direct_io = below(2) == 0;
      spec.target = "stress";
      const auto r = p.open(raw, std::move(spec));
      if (r) ledger_.mark_adopted(raw);
      expect("open", r, {Errno::mfile}, within);
    } else if (op < 28) {
      expect("close", p.close(a), {Errno::badf});
    } else if (op < 36) {
      expect("dup", p.dup(a), {Errno::badf, Errno::mfile}, within);
    } else if (op < 44) {
      expect("dup2", p.dup2(a, b), {Errno::badf},
             [b](int v) -> const char* { return static_cast<std::uint32_t>(v) == b ? nullptr : "not newfd"; });
    } else if (op < 49) {
      const std::int32_t flags = below(5) == 0 ? static_cast<std::int32_t>(abi::o_nonblock)
                                               : static_cast<std::int32_t>(below(2) * abi::o_cloexec);
      expect("dup3", p.dup3(a, b, flags), {Errno::badf, Errno::inval},
             [b](int v) -> const char* { return static_cast<std::uint32_t>(v) == b ? nullptr : "not newfd"; });
    } else if (op < 53) {
      const std::uint32_t flags = below(3) == 0 ? abi::close_range_cloexec : 0u;
      const std::uint32_t unshare = below(10) == 0 ? abi::close_range_unshare : 0u;
      expect("close_range", p.close_range(a, a + below(4), flags | unshare), {Errno::inval});
    } else if (op < 60) {
      expect("F_SETFD", p.fcntl(a, abi::f_setfd, below(2)), {Errno::badf});
    } else if (op < 66) {
      const std::uint64_t flags = (below(2) * abi::o_nonblock) | (below(2) * abi::o_append) |
                                  (below(4) == 0 ? abi::o_direct : 0u) | (below(8) == 0 ? abi::o_async : 0u);
      expect("F_SETFL", p.fcntl(a, abi::f_setfl, flags), {Errno::badf, Errno::inval});
    } else if (op < 72) {
      const std::uint32_t cmd = below(2) ? abi::f_dupfd : abi::f_dupfd_cloexec;
      const std::uint32_t from = below(16);
      expect("F_DUPFD", p.fcntl(a, cmd, from), {Errno::badf, Errno::inval, Errno::mfile}, [&](int v) -> const char* {
        return static_cast<std::uint32_t>(v) < from ? "below the argument" : within(v);
      });
    } else if (op < 76) {
      expect("F_GETFD", p.fcntl(a, abi::f_getfd, 0), {Errno::badf},
             [](int v) -> const char* { return v == 0 || v == 1 ? nullptr : "not 0 or FD_CLOEXEC"; });
      expect("F_GETFL", p.fcntl(b, abi::f_getfl, 0), {Errno::badf},
             [](int v) -> const char* { return v >= 0 ? nullptr : "negative flags"; });
    } else if (op < 84) {
      // get/raw: what a platform does to serve read(2) and friends; then SCM_RIGHTS-like installs of it.
      auto ref = p.get(a);
      if (!ref) return expect("get", Result<int>(ref.error()), {Errno::badf});
      check_held("get", ref.value());
      if (const auto raw = p.raw(b); raw && (raw.value() < 0 || raw.value() >= ledger_.issued())) {
        fail("raw", "raw value never issued");
      }
      if (below(3) == 0) {
        expect("install", p.install(ref.value(), below(2) * abi::o_cloexec), {Errno::mfile}, within);
      } else if (below(4) == 0) {
        const auto at = p.files()->install_at(b, ref.value(), below(2) == 0);
        expect("install_at", at, {Errno::badf},
               [b](int v) -> const char* { return static_cast<std::uint32_t>(v) == b ? nullptr : "not the number"; });
      }
      check_held("get (after install)", ref.value());
    } else if (op < 88) {
      // fork (a private copy) or a CLONE_FILES sibling, which exec then unshares.
      auto copy = p.clone(below(4) == 0);
      if (!copy) return fail("clone", "failed");
      Process child = std::move(copy).value();
      if (below(3) == 0) expect("exec (clone)", child.exec(), {});
      fork_copy_.emplace(std::move(child));
    } else if (op < 90) {
      fork_copy_.reset();
    } else if (op < 92) {
      expect("unshare", p.unshare(), {});
    } else if (op < 93) {
      expect("exec", p.exec(), {});
    } else if (op < 97) {
      // Back to the shared table: a new CLONE_FILES sibling taking this task's place.
      self_.emplace(shared_, self_->nofile());
    } else {
      static constexpr std::uint64_t kLimits[] = {16, 64, 64, 128, 1024};
      expect("set_nofile", p.set_nofile(kLimits[below(5)]), {});
    }
  }

  int id_;
  std::shared_ptr<State> shared_;
  Ledger& ledger_;
  Violations& violations_;
  std::mt19937_64 rng_;
  int step_ = 0;
  std::optional<Process> self_;
  std::optional<Process> fork_copy_;
};

// Every open number has a description and the introspection views agree; adds its descriptions to `live`.
void check_table(const State& state, std::map<int, const OpenFileDescription<int>*>& live, Violations& violations) {
  const auto entries = state.list();
  if (entries.size() != state.open_count()) violations.add("list() and open_count() disagree");
  std::size_t listed = 0;
  for (std::uint32_t fd = 0; fd < state.capacity(); ++fd) {
    const auto ref = state.get(fd);
    if (ref.ok() != state.is_open(fd)) violations.add("get and is_open disagree at " + std::to_string(fd));
    if (!ref) continue;
    if (!ref.value()) {
      violations.add("open number " + std::to_string(fd) + " without a description");
      continue;
    }
    if (listed >= entries.size() || entries[listed].fd != fd || entries[listed].raw != ref.value()->raw()) {
      violations.add("list() misses or misplaces " + std::to_string(fd));
    }
    ++listed;
    const auto [it, inserted] = live.try_emplace(ref.value()->raw(), ref.value().get());
    if (!inserted && it->second != ref.value().get()) {
      violations.add("two descriptions with raw value " + std::to_string(it->first));
    }
  }
  if (listed != entries.size()) violations.add("list() shows numbers beyond the capacity");
}

TEST(Stress, SharedTablesUnderConcurrentCallsKeepTheirInvariants) {
  Violations violations;
  Ledger ledger(violations);
  auto store = RawDescriptorStore<int>::create([&ledger](int raw) { ledger.on_release(raw); });
  auto shared = std::make_shared<State>(store);

  std::vector<std::unique_ptr<Worker>> workers;
  for (int i = 0; i < kThreads; ++i) workers.push_back(std::make_unique<Worker>(i, shared, ledger, violations));

  const auto start = std::chrono::steady_clock::now();
  {
    std::latch ready(kThreads);
    std::vector<std::thread> threads;
    for (auto& worker : workers) {
      threads.emplace_back([&ready, w = worker.get()] {
        ready.arrive_and_wait();  // start together, for the most overlap
        w->run(kIterationsPerThread);
      });
    }
    for (auto& thread : threads) thread.join();
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);

  // Every table still alive: the original and whatever the tasks and their fork copies hold.
  std::set<const State*> tables{shared.get()};
  for (auto& worker : workers) {
    if (worker->self()) tables.insert(worker->self()->files().get());
    if (worker->fork_copy()) tables.insert(worker->fork_copy()->files().get());
  }
  std::map<int, const OpenFileDescription<int>*> live;
  for (const State* table : tables) check_table(*table, live, violations);
  EXPECT_EQ(store->size(), live.size()) << "the store holds other values than the live descriptions";
  for (const auto& [raw, description] : live) {
    if (!ledger.adopted(raw)) violations.add("live raw value " + std::to_string(raw) + " was never adopted");
    if (ledger.releases(raw) != 0) violations.add("live raw value " + std::to_string(raw) + " already released");
    if (store->find(raw).get() != description) violations.add("store maps " + std::to_string(raw) + " elsewhere");
  }

  // Drop everything: each adopted value released exactly once, no other value ever.
  const std::size_t live_count = live.size();
  const std::size_t table_count = tables.size();
  live.clear();
  tables.clear();
  workers.clear();
  shared.reset();
  EXPECT_EQ(store->size(), 0u);
  int adopted = 0;
  for (int raw = 0; raw < ledger.issued(); ++raw) {
    const int expected = ledger.adopted(raw) ? 1 : 0;
    adopted += expected;
    if (ledger.releases(raw) != expected) {
      violations.add("raw value " + std::to_string(raw) + " released " + std::to_string(ledger.releases(raw)) +
                     " times, expected " + std::to_string(expected));
    }
  }
  EXPECT_EQ(violations.count(), 0) << violations.report();
  EXPECT_GT(adopted, 0);
  RecordProperty("stress_calls", kThreads * kIterationsPerThread);
  std::cout << "[ stress ] " << kThreads << " threads x " << kIterationsPerThread << " calls in " << ms.count()
            << " ms; " << adopted << " raw values adopted, " << live_count << " live at the end in " << table_count
            << " tables\n";
}

}  // namespace
}  // namespace fdcore
