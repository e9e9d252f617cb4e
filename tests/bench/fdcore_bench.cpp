// fdcore against the kernel, in one run: each descriptor call as fdcore serves it and as the host kernel serves
// it, then a table of ratios (kernel time / fdcore time). The goal is every single-descriptor call at least 10x
// cheaper in fdcore than the kernel's own system call for it; the table says which pairs meet it.
//
// fdcore's raw values come from a counter and its release hook does nothing: what is measured is the core's
// bookkeeping, not a host call. The kernel side uses /dev/null, whose open and close do the least work.

#include <fcntl.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>

#include "fdcore/process_files.hpp"

namespace {

using Process = fdcore::ProcessFiles<int>;
using Store = fdcore::RawDescriptorStore<int>;

constexpr int kCopiedDescriptors = 1000;
constexpr int kLargeTableDescriptors = 16'000;
constexpr double kGoalRatio = 10.0;

// ---- fdcore helpers -------------------------------------------------------------------------------------------

// Hands out raw values no live descriptor holds: everything from `first` up, wrapping before int overflows
// (values taken earlier have been released by then; the hook is immediate).
class RawCounter {
 public:
  explicit RawCounter(int first = 0) : first_(first), next_(first) {}
  int take() noexcept {
    if (next_ == INT_MAX) next_ = first_;
    return next_++;
  }
  int next() const noexcept { return next_; }

 private:
  int first_;
  int next_;
};

std::shared_ptr<Store> no_op_store() {
  return Store::create([](int) {});
}

fdcore::OpenFileSpec dev_null_spec() {
  fdcore::OpenFileSpec spec;
  spec.open_flags = fdcore::abi::o_rdwr | fdcore::abi::o_largefile;
  return spec;
}

// A process with stdio (0, 1, 2) and `extra` more descriptors, as the kernel-side process has.
struct FdcoreProcess {
  explicit FdcoreProcess(int extra = 0, std::uint64_t nofile = Process::kDefaultNofile)
      : process(Process::create(no_op_store(), nofile)) {
    for (int i = 0; i < 3 + extra; ++i) {
      if (!process.open(raws.take(), dev_null_spec())) {
        std::fprintf(stderr, "fdcore_bench: cannot populate the fdcore table\n");
        std::abort();
      }
    }
  }
  Process process;
  RawCounter raws;
};

// ---- kernel helpers -------------------------------------------------------------------------------------------

int open_dev_null() { return ::open("/dev/null", O_RDWR | O_CLOEXEC); }

// Raises the soft RLIMIT_NOFILE (and the hard one, as root, when it is lower) so `count` descriptors fit.
bool ensure_nofile(rlim_t count) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return false;
  if (limit.rlim_cur >= count) return true;
  limit.rlim_cur = count;
  limit.rlim_max = std::max(limit.rlim_max, count);
  return ::setrlimit(RLIMIT_NOFILE, &limit) == 0;
}

// Descriptors opened for a benchmark and closed when it ends, so no benchmark sees another's table.
class KernelFds {
 public:
  KernelFds() = default;
  KernelFds(const KernelFds&) = delete;
  KernelFds& operator=(const KernelFds&) = delete;
  ~KernelFds() {
    for (int fd : fds_) ::close(fd);
  }
  // Opens `count` distinct /dev/null files (distinct struct files, as fdcore's distinct descriptions).
  bool open_distinct(int count) {
    for (int i = 0; i < count; ++i) {
      const int fd = open_dev_null();
      if (fd < 0) return false;
      fds_.push_back(fd);
    }
    return true;
  }
  // `count` duplicates of one file: cheap to make in bulk; the allocator does not care what they point to.
  bool dup_many(int count) {
    if (!open_distinct(1)) return false;
    for (int i = 1; i < count; ++i) {
      const int fd = ::dup(fds_.front());
      if (fd < 0) return false;
      fds_.push_back(fd);
    }
    return true;
  }
  int front() const { return fds_.front(); }

 private:
  std::vector<int> fds_;
};

void skip_with_errno(benchmark::State& state, const char* what) {
  const std::string message = std::string(what) + ": " + std::strerror(errno);
  state.SkipWithError(message.c_str());
}

// ---- insert + close -------------------------------------------------------------------------------------------

// insert+close on `p`'s table: a new raw value adopted at the lowest free number, then released.
void insert_close_loop(benchmark::State& state, FdcoreProcess& p) {
  for (auto _ : state) {
    auto fd = p.process.open(p.raws.take(), dev_null_spec());
    if (!fd) {
      state.SkipWithError("fdcore open failed");
      break;
    }
    benchmark::DoNotOptimize(p.process.close(static_cast<std::uint32_t>(fd.value())));
  }
}

void fdcore_insert_close(benchmark::State& state) {
  FdcoreProcess p;
  insert_close_loop(state, p);
}

void kernel_open_close(benchmark::State& state) {
  for (auto _ : state) {
    const int fd = open_dev_null();
    if (fd < 0) {
      skip_with_errno(state, "open");
      break;
    }
    ::close(fd);
  }
}

// ---- lookup ---------------------------------------------------------------------------------------------------

void fdcore_lookup_raw(benchmark::State& state) {
  FdcoreProcess p(1);
  for (auto _ : state) benchmark::DoNotOptimize(p.process.raw(3));
}

void fdcore_lookup_get(benchmark::State& state) {
  FdcoreProcess p(1);
  for (auto _ : state) benchmark::DoNotOptimize(p.process.get(3));
}

void fdcore_fcntl_getfd(benchmark::State& state) {
  FdcoreProcess p(1);
  for (auto _ : state) benchmark::DoNotOptimize(p.process.fcntl(3, fdcore::abi::f_getfd, 0));
}

void kernel_fcntl_getfd(benchmark::State& state) {
  KernelFds fds;
  if (!fds.open_distinct(1)) return skip_with_errno(state, "open");
  for (auto _ : state) benchmark::DoNotOptimize(::fcntl(fds.front(), F_GETFD));
}

// ---- dup + close ----------------------------------------------------------------------------------------------

void fdcore_dup_close(benchmark::State& state) {
  FdcoreProcess p(1);
  for (auto _ : state) {
    auto fd = p.process.dup(3);
    if (!fd) {
      state.SkipWithError("fdcore dup failed");
      break;
    }
    benchmark::DoNotOptimize(p.process.close(static_cast<std::uint32_t>(fd.value())));
  }
}

void kernel_dup_close(benchmark::State& state) {
  KernelFds fds;
  if (!fds.open_distinct(1)) return skip_with_errno(state, "open");
  for (auto _ : state) {
    const int fd = ::dup(fds.front());
    if (fd < 0) {
      skip_with_errno(state, "dup");
      break;
    }
    ::close(fd);
  }
}

// ---- fcntl F_SETFD, F_GETFL, F_SETFL --------------------------------------------------------------------------
// The setters toggle the flag each iteration so every call changes something.

void fdcore_fcntl_setfd(benchmark::State& state) {
  FdcoreProcess p(1);
  std::uint64_t cloexec = 0;
  for (auto _ : state) {
    cloexec ^= fdcore::abi::fd_cloexec;
    benchmark::DoNotOptimize(p.process.fcntl(3, fdcore::abi::f_setfd, cloexec));
  }
}

void kernel_fcntl_setfd(benchmark::State& state) {
  KernelFds fds;
  if (!fds.open_distinct(1)) return skip_with_errno(state, "open");
  int cloexec = 0;
  for (auto _ : state) {
    cloexec ^= FD_CLOEXEC;
    benchmark::DoNotOptimize(::fcntl(fds.front(), F_SETFD, cloexec));
  }
}

void fdcore_fcntl_getfl(benchmark::State& state) {
  FdcoreProcess p(1);
  for (auto _ : state) benchmark::DoNotOptimize(p.process.fcntl(3, fdcore::abi::f_getfl, 0));
}

void kernel_fcntl_getfl(benchmark::State& state) {
  KernelFds fds;
  if (!fds.open_distinct(1)) return skip_with_errno(state, "open");
  for (auto _ : state) benchmark::DoNotOptimize(::fcntl(fds.front(), F_GETFL));
}

void fdcore_fcntl_setfl(benchmark::State& state) {
  FdcoreProcess p(1);
  std::uint64_t flags = fdcore::abi::o_rdwr;
  for (auto _ : state) {
    flags ^= fdcore::abi::o_nonblock;
    benchmark::DoNotOptimize(p.process.fcntl(3, fdcore::abi::f_setfl, flags));
  }
}

void kernel_fcntl_setfl(benchmark::State& state) {
  KernelFds fds;
  if (!fds.open_distinct(1)) return skip_with_errno(state, "open");
  int flags = O_RDWR;
  for (auto _ : state) {
    flags ^= O_NONBLOCK;
    benchmark::DoNotOptimize(::fcntl(fds.front(), F_SETFL, flags));
  }
}

// ---- copying a 1,000-descriptor table -------------------------------------------------------------------------

// fork without CLONE_FILES: the copy, then the child's table dropped.
void fdcore_copy_1000(benchmark::State& state) {
  FdcoreProcess p(kCopiedDescriptors);
  for (auto _ : state) {
    auto child = p.process.clone(false);
    if (!child) {
      state.SkipWithError("fdcore clone failed");
      break;
    }
    benchmark::DoNotOptimize(child);
  }
}

// The kernel's copy, isolated: a fresh thread shares the process's table (pthreads use CLONE_FILES), so its
// unshare(CLONE_FILES) is exactly dup_fd() of the 1,003-descriptor table; close_range over the private copy
// then drops every reference, as a child's exit does. Only those two calls are timed (manual time): the
// thread's creation and exit are not part of the copy.
void kernel_copy_1000(benchmark::State& state) {
  if (!ensure_nofile(2 * kCopiedDescriptors)) return skip_with_errno(state, "setrlimit");
  KernelFds fds;
  if (!fds.open_distinct(kCopiedDescriptors)) return skip_with_errno(state, "open");
  for (auto _ : state) {
    double seconds = 0;
    int error = 0;
    std::thread helper([&] {
      const auto start = std::chrono::steady_clock::now();
      if (::unshare(CLONE_FILES) != 0 || ::close_range(0, ~0u, 0) != 0) error = errno;
      seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    });
    helper.join();
    if (error != 0) {
      errno = error;
      skip_with_errno(state, "unshare(CLONE_FILES) + close_range");
      break;
    }
    state.SetIterationTime(seconds);
  }
}

// ---- lookups from two threads on one table --------------------------------------------------------------------

// One FilesState for both threads (CLONE_FILES); each thread has its own ProcessFiles and looks up its own
// descriptor, as two tasks of one process would.
void fdcore_lookup_raw_2threads(benchmark::State& state) {
  static FdcoreProcess shared(2);
  Process view(shared.process.files());
  const auto fd = static_cast<std::uint32_t>(3 + state.thread_index());
  for (auto _ : state) benchmark::DoNotOptimize(view.raw(fd));
}

void kernel_fcntl_getfd_2threads(benchmark::State& state) {
  KernelFds fds;  // per thread: each looks up its own descriptor in the process's one table
  if (!fds.open_distinct(1)) return skip_with_errno(state, "open");
  for (auto _ : state) benchmark::DoNotOptimize(::fcntl(fds.front(), F_GETFD));
}

// ---- lowest-free allocation with 16,000 descriptors open (below the 20,000 hard limit CI machines have) ----
// The new descriptor lands at 16,003: an allocator that scanned from 0 would show it here.

void fdcore_insert_close_16k(benchmark::State& state) {
  FdcoreProcess p(kLargeTableDescriptors, fdcore::abi::nr_open_default);
  insert_close_loop(state, p);
}

// fdcore alone at 1,000,000 open (the kernel's nr_open ceiling is 1,048,576; its side cannot run here).
void fdcore_insert_close_1m(benchmark::State& state) {
  static FdcoreProcess p(1'000'000, fdcore::abi::nr_open_default);
  insert_close_loop(state, p);
}

void kernel_open_close_16k(benchmark::State& state) {
  if (!ensure_nofile(kLargeTableDescriptors + 1024)) {
    // Raising the hard limit needs CAP_SYS_RESOURCE; without it there is no kernel side to measure.
    return skip_with_errno(state, "cannot raise RLIMIT_NOFILE above 16,000 (hard limit; needs CAP_SYS_RESOURCE)");
  }
  KernelFds fds;
  if (!fds.dup_many(kLargeTableDescriptors)) return skip_with_errno(state, "dup");
  for (auto _ : state) {
    const int fd = open_dev_null();
    if (fd < 0) {
      skip_with_errno(state, "open");
      break;
    }
    ::close(fd);
  }
}

// ---- a second thread -------------------------------------------------------------------------------------------

// A thread alive for the whole run, as any real platform has (the core serves calls from several threads).
// Until a process starts a second thread, glibc says it is single-threaded (__libc_single_threaded), and
// libstdc++ then skips the atomic operations of std::shared_ptr's counts and the like. A single-threaded run
// would flatter any code that leans on them. The thread first unshares its descriptor table. The main thread's
// table thus stays unshared, and the kernel's calls are measured as without the thread: with a shared table,
// fdget would take a reference on every call.
class SecondThread {
 public:
  SecondThread() {
    thread_ = std::thread([this] {
      const int error = ::unshare(CLONE_FILES) == 0 ? 0 : errno;
      std::unique_lock lock(mu_);
      unshare_error_ = error;
      started_ = true;
      cv_.notify_all();
      cv_.wait(lock, [this] { return stop_; });
    });
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return started_; });
    if (unshare_error_ != 0) std::fprintf(stderr, "fdcore_bench: unshare(CLONE_FILES): %s\n", std::strerror(unshare_error_));
  }
  SecondThread(const SecondThread&) = delete;
  SecondThread& operator=(const SecondThread&) = delete;
  ~SecondThread() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool started_ = false;
  bool stop_ = false;
  int unshare_error_ = 0;
  std::thread thread_;
};

// ---- registration, result collection, the ratio table ---------------------------------------------------------

struct Comparison {
  const char* operation;
  const char* fdcore;
  const char* kernel;
  bool single_descriptor;  // held to the 10x goal
};

// The order is the run order: the large table comes last because the kernel never shrinks a grown table.
void register_benchmarks() {
  using benchmark::RegisterBenchmark;
  RegisterBenchmark("fdcore_insert_close", fdcore_insert_close);
  RegisterBenchmark("kernel_open_close", kernel_open_close);
  RegisterBenchmark("fdcore_lookup_raw", fdcore_lookup_raw);
  RegisterBenchmark("fdcore_lookup_get", fdcore_lookup_get);
  RegisterBenchmark("fdcore_fcntl_getfd", fdcore_fcntl_getfd);
  RegisterBenchmark("kernel_fcntl_getfd", kernel_fcntl_getfd);
  RegisterBenchmark("fdcore_dup_close", fdcore_dup_close);
  RegisterBenchmark("kernel_dup_close", kernel_dup_close);
  RegisterBenchmark("fdcore_fcntl_setfd", fdcore_fcntl_setfd);
  RegisterBenchmark("kernel_fcntl_setfd", kernel_fcntl_setfd);
  RegisterBenchmark("fdcore_fcntl_getfl", fdcore_fcntl_getfl);
  RegisterBenchmark("kernel_fcntl_getfl", kernel_fcntl_getfl);
  RegisterBenchmark("fdcore_fcntl_setfl", fdcore_fcntl_setfl);
  RegisterBenchmark("kernel_fcntl_setfl", kernel_fcntl_setfl);
  RegisterBenchmark("fdcore_copy_1000", fdcore_copy_1000)->Unit(benchmark::kMicrosecond);
  RegisterBenchmark("kernel_copy_1000", kernel_copy_1000)->Unit(benchmark::kMicrosecond)->UseManualTime();
  RegisterBenchmark("fdcore_lookup_raw_2threads", fdcore_lookup_raw_2threads)->Threads(2);
  RegisterBenchmark("kernel_fcntl_getfd_2threads", kernel_fcntl_getfd_2threads)->Threads(2);
  RegisterBenchmark("fdcore_insert_close_16k", fdcore_insert_close_16k);
  RegisterBenchmark("kernel_open_close_16k", kernel_open_close_16k);
  RegisterBenchmark("fdcore_insert_close_1m", fdcore_insert_close_1m);
}

const Comparison kComparisons[] = {
    {"insert+close vs open(/dev/null)+close", "fdcore_insert_close", "kernel_open_close", true},
    {"lookup raw(fd) vs fcntl(F_GETFD)", "fdcore_lookup_raw", "kernel_fcntl_getfd", true},
    {"lookup get(fd) vs fcntl(F_GETFD)", "fdcore_lookup_get", "kernel_fcntl_getfd", true},
    {"fcntl(F_GETFD)", "fdcore_fcntl_getfd", "kernel_fcntl_getfd", true},
    {"dup+close", "fdcore_dup_close", "kernel_dup_close", true},
    {"fcntl(F_SETFD)", "fdcore_fcntl_setfd", "kernel_fcntl_setfd", true},
    {"fcntl(F_GETFL)", "fdcore_fcntl_getfl", "kernel_fcntl_getfl", true},
    {"fcntl(F_SETFL)", "fdcore_fcntl_setfl", "kernel_fcntl_setfl", true},
    {"lookup, 2 threads, one table", "fdcore_lookup_raw_2threads", "kernel_fcntl_getfd_2threads", true},
    {"insert+close, 16,000 open", "fdcore_insert_close_16k", "kernel_open_close_16k", true},
    {"copy 1,000-fd table + drop", "fdcore_copy_1000", "kernel_copy_1000", false},
};

// The console output as usual, plus each benchmark's real time per iteration (manual time where the benchmark
// uses it; for threaded runs, wall time per operation across the threads, as the console shows).
class CollectingReporter : public benchmark::ConsoleReporter {
 public:
  using ConsoleReporter::ConsoleReporter;

  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      if (run.error_occurred) errors_by_name_[run.run_name.function_name] = run.error_message;
      if (run.run_type != Run::RT_Iteration || run.error_occurred || run.iterations == 0) continue;
      const double ns = run.real_accumulated_time / static_cast<double>(run.iterations) * 1e9;
      ns_by_name_[run.run_name.function_name].push_back(ns);
    }
    ConsoleReporter::ReportRuns(runs);
  }

  // The median over repetitions; negative when the benchmark did not run (filtered out or failed).
  double ns(const std::string& name) const {
    auto it = ns_by_name_.find(name);
    if (it == ns_by_name_.end() || it->second.empty()) return -1;
    std::vector<double> times = it->second;
    std::sort(times.begin(), times.end());
    return times[times.size() / 2];
  }

  // Why the benchmark failed, or empty.
  std::string error(const std::string& name) const {
    auto it = errors_by_name_.find(name);
    return it == errors_by_name_.end() ? std::string() : it->second;
  }

 private:
  std::map<std::string, std::vector<double>> ns_by_name_;
  std::map<std::string, std::string> errors_by_name_;
};

std::string format_ns(double ns) {
  if (ns < 0) return "not run";
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", ns);
  return text;
}

void print_ratio_table(const CollectingReporter& results) {
  std::printf("\nfdcore vs the kernel (real time per operation; ratio = kernel / fdcore; goal: >= %.0fx for "
              "single-descriptor calls)\n",
              kGoalRatio);
  std::printf("%-40s %14s %14s %10s  %s\n", "operation", "fdcore ns", "kernel ns", "ratio", "goal");
  std::printf("%s\n", std::string(92, '-').c_str());
  int met = 0;
  int held = 0;
  for (const Comparison& c : kComparisons) {
    const double fdcore_ns = results.ns(c.fdcore);
    const double kernel_ns = results.ns(c.kernel);
    if (fdcore_ns < 0 && kernel_ns < 0) continue;  // filtered out
    if (fdcore_ns <= 0 || kernel_ns <= 0) {
      std::printf("%-40s %14s %14s %10s  %s\n", c.operation, format_ns(fdcore_ns).c_str(),
                  format_ns(kernel_ns).c_str(), "-", "no pair: one side did not run");
      for (const char* name : {c.fdcore, c.kernel}) {
        if (const std::string why = results.error(name); !why.empty()) std::printf("  %s: %s\n", name, why.c_str());
      }
      continue;
    }
    const double ratio = kernel_ns / fdcore_ns;
    const char* verdict = "(not a single-descriptor call)";
    if (c.single_descriptor) {
      ++held;
      if (ratio >= kGoalRatio) ++met;
      verdict = ratio >= kGoalRatio ? "met" : "NOT met";
    }
    std::printf("%-40s %14.1f %14.1f %9.1fx  %s\n", c.operation, fdcore_ns, kernel_ns, ratio, verdict);
  }
  std::printf("%s\n", std::string(92, '-').c_str());
  // The allocator's scaling, fdcore against itself: a scan from 0 would make the large table far slower.
  const double small_ns = results.ns("fdcore_insert_close");
  const double large_ns = results.ns("fdcore_insert_close_16k");
  if (small_ns > 0 && large_ns > 0) {
    std::printf("fdcore insert+close with 16,000 open / with 3 open: %.2fx the time (%.1f ns vs %.1f ns)\n",
                large_ns / small_ns, large_ns, small_ns);
  }
  const double million_ns = results.ns("fdcore_insert_close_1m");
  if (small_ns > 0 && million_ns > 0) {
    std::printf("fdcore insert+close with 1,000,000 open / with 3 open: %.2fx the time (%.1f ns vs %.1f ns)\n",
                million_ns / small_ns, million_ns, small_ns);
  }
  std::printf("fdcore is >= %.0fx cheaper than the kernel on %d of %d single-descriptor pairs\n", kGoalRatio, met,
              held);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  register_benchmarks();
  const SecondThread second_thread;

  const auto options = ::isatty(STDOUT_FILENO) != 0 ? benchmark::ConsoleReporter::OO_ColorTabular
                                                    : benchmark::ConsoleReporter::OO_Tabular;
  CollectingReporter reporter(options);
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  print_ratio_table(reporter);
  return 0;
}
