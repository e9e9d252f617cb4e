// Differential test: seeded random sequences of descriptor calls run against the Linux kernel (real
// descriptors, in a forked child so this process's table is left alone) and against fdcore's ProcessFiles<int>.
// Every return value, errno and the descriptor and status flags of the numbers each call touches must agree,
// and so must the whole table at the end of each sequence.
#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <initializer_list>
#include <map>
#include <new>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "fdcore/process_files.hpp"

namespace fdcore {
namespace {

constexpr int kSeeds = 20;
constexpr int kStepsPerSeed = 5000;
constexpr std::uint32_t kInitialNofile = 64;
constexpr std::uint32_t kTableCapacity = 16384;  // more than any sequence can open (two per step at most)
constexpr std::uint32_t kAllOnes = 0xFFFFFFFFu;  // ~0U, and what the kernel sees for an int fd of -1
constexpr std::uint64_t kNrOpenDefault = abi::nr_open_default;

// How the child may set RLIMIT_NOFILE. With CAP_SYS_RESOURCE, soft and hard move together, up to fs.nr_open
// and beyond it (EPERM, as fdcore says). Without it only the soft limit moves, up to the hard limit; values
// above that are the platform's EINVAL, not fdcore's business, so the generator does not make them.
struct HostLimits {
  bool set_hard = true;
  std::uint64_t hard = kNrOpenDefault;
  std::uint64_t ceiling = kNrOpenDefault;  // the highest limit a sequence sets
};
HostLimits g_host;  // set before any fork, so the children see it too

enum class Op : std::uint8_t { open, pipe2, close, dup, dup2, dup3, fcntl, close_range, set_nofile, unshare };

// One system call. Which fields mean what depends on op (see to_string).
struct Call {
  Op op = Op::close;
  std::uint32_t a = 0;    // the fd, oldfd or first
  std::uint32_t b = 0;    // newfd or last
  std::uint32_t cmd = 0;  // fcntl's command
  std::uint64_t arg = 0;  // open/pipe2/dup3/close_range flags, fcntl's argument, the new RLIMIT_NOFILE
};

// What one call gave: its value or -errno, pipe2's second descriptor, and F_GETFD / F_GETFL (value or
// -errno) of the two numbers the call is about, read right after it.
struct Outcome {
  std::int64_t ret = 0;
  std::int64_t ret2 = 0;
  std::array<std::int64_t, 2> getfd{};
  std::array<std::int64_t, 2> getfl{};
  bool operator==(const Outcome&) const = default;
};

struct TableEntry {
  std::uint32_t fd;
  std::int32_t getfd;
  std::int32_t getfl;
  bool operator==(const TableEntry&) const = default;
};

// The child's report, in memory shared with the parent (no descriptor, so the calls may close anything).
struct SharedReport {
  std::int32_t child_errno;  // nonzero: the child could not set its table up or read it back
  std::uint32_t table_count;
  bool table_overflow;
  std::array<Outcome, kStepsPerSeed> outcomes;
  std::array<TableEntry, kTableCapacity> table;
};

std::string hex(std::uint64_t v) {
  std::ostringstream s;
  s << "0x" << std::hex << v;
  return s.str();
}

std::string oct(std::int64_t v) {
  std::ostringstream s;
  s << "0" << std::oct << v;
  return s.str();
}

std::string fcntl_name(std::uint32_t cmd) {
  switch (cmd) {
    case abi::f_dupfd: return "F_DUPFD";
    case abi::f_dupfd_cloexec: return "F_DUPFD_CLOEXEC";
    case abi::f_getfd: return "F_GETFD";
    case abi::f_setfd: return "F_SETFD";
    case abi::f_getfl: return "F_GETFL";
    case abi::f_setfl: return "F_SETFL";
    default: return std::to_string(cmd);
  }
}

std::string to_string(const Call& c) {
  const std::string a = std::to_string(c.a);
  const std::string b = std::to_string(c.b);
  switch (c.op) {
    case Op::open: return "open(\"/dev/null\", " + oct(static_cast<std::int64_t>(c.arg)) + ")";
    case Op::pipe2: return "pipe2(" + oct(static_cast<std::int64_t>(c.arg)) + ")";
    case Op::close: return "close(" + a + ")";
    case Op::dup: return "dup(" + a + ")";
    case Op::dup2: return "dup2(" + a + ", " + b + ")";
    case Op::dup3: return "dup3(" + a + ", " + b + ", " + oct(static_cast<std::int64_t>(c.arg)) + ")";
    case Op::fcntl: return "fcntl(" + a + ", " + fcntl_name(c.cmd) + ", " + hex(c.arg) + ")";
    case Op::close_range: return "close_range(" + a + ", " + b + ", " + hex(c.arg) + ")";
    case Op::set_nofile: return "setrlimit(RLIMIT_NOFILE, " + std::to_string(c.arg) + ")";
    case Op::unshare: return "unshare(CLONE_FILES)";
  }
  return "?";
}

std::string result_string(std::int64_t r) {
  if (r >= 0) return std::to_string(r);
  return std::string(errno_name(static_cast<Errno>(-r))) + "(" + std::to_string(-r) + ")";
}

std::string to_string(const Outcome& o, const std::array<std::uint32_t, 2>& subject) {
  std::string s = "ret=" + result_string(o.ret) + " ret2=" + result_string(o.ret2);
  for (std::size_t i = 0; i < 2; ++i) {
    s += " fd " + std::to_string(subject[i]) + ": F_GETFD=" + result_string(o.getfd[i]) +
         " F_GETFL=" + (o.getfl[i] >= 0 ? oct(o.getfl[i]) : result_string(o.getfl[i]));
  }
  return s;
}

bool creates_descriptor(const Call& c) {
  switch (c.op) {
    case Op::open:
    case Op::pipe2:
    case Op::dup:
    case Op::dup2:
    case Op::dup3: return true;
    case Op::fcntl: return c.cmd == abi::f_dupfd || c.cmd == abi::f_dupfd_cloexec;
    default: return false;
  }
}

// The two numbers whose flags are read after a call: the descriptors it made, else its arguments.
std::array<std::uint32_t, 2> subjects(const Call& c, const Outcome& o) {
  if (creates_descriptor(c) && o.ret >= 0) {
    return {static_cast<std::uint32_t>(o.ret), c.op == Op::pipe2 ? static_cast<std::uint32_t>(o.ret2) : c.a};
  }
  return {c.a, c.b};
}

// Random calls from a seed alone, never from results, so the kernel and fdcore see the same sequence.
// Numbers cluster just around the current limit so that EMFILE, EBADF and the limit checks come up often.
class CallGenerator {
 public:
  explicit CallGenerator(std::uint64_t seed)
      : rng_(seed), far_(static_cast<std::uint32_t>(std::min<std::uint64_t>(999990, g_host.ceiling - 10))) {}

  Call next() {
    Call c;
    const std::uint32_t r = below(100);
    if (r < 14) {
      c.op = Op::open;
      c.arg = pick<std::uint32_t>({abi::o_rdonly, abi::o_wronly, abi::o_rdwr});
      if (chance(40)) c.arg |= abi::o_cloexec;
      if (chance(20)) c.arg |= abi::o_append;
      if (chance(20)) c.arg |= abi::o_nonblock;
      if (chance(5)) c.arg |= abi::o_noatime;
    } else if (r < 19) {
      c.op = Op::pipe2;
      if (chance(40)) c.arg |= abi::o_cloexec;
      if (chance(30)) c.arg |= abi::o_nonblock;
      if (chance(30)) c.arg |= abi::o_direct;
    } else if (r < 31) {
      c.op = Op::close;
      c.a = fd_number();
    } else if (r < 38) {
      c.op = Op::dup;
      c.a = fd_number();
    } else if (r < 47) {
      c.op = Op::dup2;
      c.a = fd_number();
      c.b = chance(10) ? c.a : fd_number();
    } else if (r < 53) {
      c.op = Op::dup3;
      c.a = fd_number();
      c.b = chance(10) ? c.a : fd_number();
      c.arg = chance(85) ? pick<std::uint64_t>({0, abi::o_cloexec})
                         : pick<std::uint64_t>({abi::o_nonblock, 1, 0x80000000u, abi::o_cloexec | abi::o_append});
    } else if (r < 85) {
      c.op = Op::fcntl;
      c.a = fd_number();
      fcntl_command(c);
    } else if (r < 91) {
      c.op = Op::close_range;
      c.a = fd_number();
      const std::uint32_t kind = below(10);
      c.b = kind < 6 ? c.a + below(6) : kind < 8 ? kAllOnes : kind < 9 ? fd_number() : c.a - 1;
      c.arg = pick<std::uint64_t>({0, 0, abi::close_range_cloexec, abi::close_range_cloexec, abi::close_range_unshare,
                                   abi::close_range_unshare | abi::close_range_cloexec, 1, 8, 0x80000000u});
    } else if (r < 96) {
      c.op = Op::set_nofile;
      const std::uint32_t kind = below(100);
      if (kind < 75) {
        c.arg = 8 + below(73);
      } else if (kind < 90) {
        c.arg = g_host.ceiling;
      } else if (kind < 95 || !g_host.set_hard) {
        c.arg = below(4);
      } else {
        c.arg = pick<std::uint64_t>({kNrOpenDefault + 1, std::uint64_t{1} << 31, std::uint64_t{1} << 40});
      }
      if (c.arg <= g_host.ceiling) limit_ = c.arg;
    } else if (r < 97) {
      c.op = Op::unshare;
    } else {
      // A far number: dup2 up to ~1000000 (the table grows to ~1M slots) when the limit allows it.
      c.op = Op::dup2;
      c.a = fd_number();
      c.b = far_ + below(20);
    }
    return c;
  }

 private:
  std::uint32_t below(std::uint32_t n) { return static_cast<std::uint32_t>(rng_() % n); }
  bool chance(std::uint32_t percent) { return below(100) < percent; }
  template <typename T>
  T pick(std::initializer_list<T> values) {
    return *(values.begin() + below(static_cast<std::uint32_t>(values.size())));
  }

  std::uint32_t fd_number() {
    const std::uint32_t kind = below(100);
    const auto near = static_cast<std::uint32_t>(std::min<std::uint64_t>(limit_, 90));
    if (kind < 85) return below(near + 11);
    if (kind < 90) return static_cast<std::uint32_t>(std::min<std::uint64_t>(limit_, kAllOnes)) - 1 + below(3);
    if (kind < 94) return far_ + below(20);
    if (kind < 97) return kAllOnes;
    return static_cast<std::uint32_t>(rng_());
  }

  void fcntl_command(Call& c) {
    const std::uint32_t kind = below(100);
    if (kind < 25) {
      c.cmd = chance(50) ? abi::f_dupfd : abi::f_dupfd_cloexec;
      const std::uint32_t arg_kind = below(100);
      if (arg_kind < 70) {
        c.arg = fd_number();
      } else if (arg_kind < 85) {
        c.arg = limit_ - 1 + below(3);
      } else {
        // Huge arguments, some of which truncate to a small unsigned int (the kernel's argi).
        c.arg = pick<std::uint64_t>({std::uint64_t{1} << 32, (std::uint64_t{1} << 32) + 3, (std::uint64_t{1} << 63) | 5,
                                     0xFFFFFFFFu, 0x80000000u, ~std::uint64_t{0}});
      }
    } else if (kind < 40) {
      c.cmd = abi::f_getfd;
    } else if (kind < 60) {
      c.cmd = abi::f_setfd;
      c.arg = pick<std::uint64_t>(
          {0, 1, 1, 2, 3, 0xFFFFFFFFu, std::uint64_t{1} << 32, (std::uint64_t{1} << 32) | 1, rng_()});
    } else if (kind < 75) {
      c.cmd = abi::f_getfl;
    } else {
      c.cmd = abi::f_setfl;
      static constexpr std::array<std::uint64_t, 13> kBits = {
          abi::o_append, abi::o_nonblock, abi::o_async, abi::o_noatime, abi::o_append,    abi::o_nonblock, abi::o_rdwr,
          abi::o_wronly, abi::o_creat,    abi::o_trunc, abi::o_excl,    abi::o_largefile, abi::o_cloexec};
      for (std::uint64_t bit : kBits) {
        if (chance(25)) c.arg |= bit;
      }
      if (chance(15)) c.arg |= abi::o_direct;
      if (chance(5)) c.arg |= std::uint64_t{1} << 33;  // above what the kernel reads
    }
  }

  std::mt19937_64 rng_;
  std::uint32_t far_;
  std::uint64_t limit_ = kInitialNofile;
};

// ---- The kernel side (runs in the forked child: raw system calls only, no allocation) ----

std::int64_t sys(long r) { return r < 0 ? -static_cast<std::int64_t>(errno) : r; }

std::int64_t kernel_fcntl(std::uint32_t fd, std::uint32_t cmd, std::uint64_t arg) {
  return sys(syscall(SYS_fcntl, static_cast<unsigned long>(fd), static_cast<unsigned long>(cmd),
                     static_cast<unsigned long>(arg)));
}

std::int64_t kernel_set_nofile(std::uint64_t value) {
  const rlimit limit{value, g_host.set_hard ? value : g_host.hard};
  return sys(syscall(SYS_prlimit64, 0L, static_cast<long>(RLIMIT_NOFILE), &limit, nullptr));
}

Outcome run_on_kernel(const Call& c) {
  Outcome o;
  switch (c.op) {
    case Op::open:
      o.ret = sys(syscall(SYS_openat, static_cast<long>(AT_FDCWD), "/dev/null", static_cast<long>(c.arg), 0L));
      break;
    case Op::pipe2: {
      std::array<int, 2> ends{-1, -1};
      o.ret = sys(syscall(SYS_pipe2, ends.data(), static_cast<long>(c.arg)));
      if (o.ret == 0) {
        o.ret = ends[0];
        o.ret2 = ends[1];
      }
      break;
    }
    case Op::close: o.ret = sys(syscall(SYS_close, static_cast<unsigned long>(c.a))); break;
    case Op::dup: o.ret = sys(syscall(SYS_dup, static_cast<unsigned long>(c.a))); break;
    case Op::dup2:
      o.ret = sys(syscall(SYS_dup2, static_cast<unsigned long>(c.a), static_cast<unsigned long>(c.b)));
      break;
    case Op::dup3:
      o.ret = sys(syscall(SYS_dup3, static_cast<unsigned long>(c.a), static_cast<unsigned long>(c.b),
                          static_cast<long>(static_cast<std::int32_t>(c.arg))));
      break;
    case Op::fcntl: o.ret = kernel_fcntl(c.a, c.cmd, c.arg); break;
    case Op::close_range:
      o.ret = sys(syscall(SYS_close_range, static_cast<unsigned long>(c.a), static_cast<unsigned long>(c.b),
                          static_cast<unsigned long>(c.arg)));
      break;
    case Op::set_nofile: o.ret = kernel_set_nofile(c.arg); break;
    case Op::unshare: o.ret = sys(syscall(SYS_unshare, static_cast<long>(CLONE_FILES))); break;
  }
  const auto subject = subjects(c, o);
  for (std::size_t i = 0; i < 2; ++i) {
    o.getfd[i] = kernel_fcntl(subject[i], abi::f_getfd, 0);
    o.getfl[i] = kernel_fcntl(subject[i], abi::f_getfl, 0);
  }
  return o;
}

// The child's whole table, from /proc/self/fd read with getdents64 (its own directory descriptor excluded).
void snapshot_kernel_table(SharedReport& report) {
  kernel_set_nofile(g_host.ceiling);  // the directory needs a free number below the limit
  const auto dir = sys(syscall(SYS_openat, static_cast<long>(AT_FDCWD), "/proc/self/fd",
                               static_cast<long>(O_RDONLY | O_DIRECTORY | O_CLOEXEC), 0L));
  if (dir < 0) {
    report.child_errno = static_cast<std::int32_t>(-dir);
    return;
  }
  alignas(8) std::array<char, 8192> buf{};
  for (;;) {
    const auto n = syscall(SYS_getdents64, static_cast<unsigned long>(dir), buf.data(), buf.size());
    if (n <= 0) break;
    for (long pos = 0; pos < n;) {
      std::uint16_t reclen = 0;
      std::memcpy(&reclen, buf.data() + pos + 16, sizeof reclen);  // linux_dirent64: d_ino, d_off, d_reclen
      const char* name = buf.data() + pos + 19;
      pos += reclen;
      if (name[0] < '0' || name[0] > '9') continue;
      const auto fd = static_cast<std::uint32_t>(std::strtoul(name, nullptr, 10));
      if (fd == static_cast<std::uint32_t>(dir)) continue;
      if (report.table_count == kTableCapacity) {
        report.table_overflow = true;
        continue;
      }
      report.table[report.table_count++] = {fd, static_cast<std::int32_t>(kernel_fcntl(fd, abi::f_getfd, 0)),
                                            static_cast<std::int32_t>(kernel_fcntl(fd, abi::f_getfl, 0))};
    }
  }
}

[[noreturn]] void run_child(const std::vector<Call>& calls, SharedReport& report) {
  // A known start: nothing but 0, 1 and 2, all on one /dev/null O_RDWR description.
  std::int64_t r = sys(syscall(SYS_close_range, 3UL, static_cast<unsigned long>(kAllOnes), 0UL));
  const auto null_fd =
      sys(syscall(SYS_openat, static_cast<long>(AT_FDCWD), "/dev/null", static_cast<long>(O_RDWR), 0L));
  for (long fd = 0; fd < 3 && r >= 0; ++fd) r = sys(syscall(SYS_dup2, null_fd, fd));
  if (r >= 0) r = sys(syscall(SYS_close, null_fd));
  if (r >= 0) r = kernel_set_nofile(kInitialNofile);
  if (r < 0 || null_fd < 0) {
    report.child_errno = static_cast<std::int32_t>(r < 0 ? -r : -null_fd);
    _exit(0);
  }
  for (std::size_t i = 0; i < calls.size(); ++i) report.outcomes[i] = run_on_kernel(calls[i]);
  snapshot_kernel_table(report);
  _exit(0);
}

// ---- The fdcore side ----

// What the platform tells fdcore about an object. Linux sets O_ASYNC only through a file's fasync operation:
// pipes have one, /dev/null does not (its F_SETFL ignores the bit).
OpenFileSpec host_spec(std::uint32_t open_flags, bool direct_io, bool fasync, const char* target) {
  OpenFileSpec spec;
  spec.open_flags = open_flags;
  spec.direct_io = direct_io;
  spec.fasync = fasync;
  spec.target = target;
  return spec;
}

struct ReleaseLog {
  std::size_t adopted = 0;
  std::size_t released = 0;
};

class FdcoreProcess {
 public:
  explicit FdcoreProcess(std::shared_ptr<ReleaseLog> log)
      : log_(std::move(log)),
        process_(ProcessFiles<int>::create(
            RawDescriptorStore<int>::create([released = log_](int) { ++released->released; }), kInitialNofile)) {
    const auto null_fd = open_null(abi::o_rdwr);
    for (std::uint32_t fd = 1; fd < 3; ++fd) (void)process_.dup2(static_cast<std::uint32_t>(null_fd), fd);
  }

  ProcessFiles<int>& process() { return process_; }

  Outcome run(const Call& c) {
    Outcome o;
    switch (c.op) {
      case Op::open: o.ret = open_null(static_cast<std::uint32_t>(c.arg)); break;
      case Op::pipe2: {
        // What the host reports for pipe2's ends: no O_LARGEFILE, O_DIRECT on the write end only.
        const auto flags = static_cast<std::uint32_t>(c.arg);
        o.ret = adopt(host_spec(abi::o_rdonly | (flags & (abi::o_nonblock | abi::o_cloexec)), true, true, "pipe"));
        if (o.ret < 0) break;
        const std::uint32_t write_flags = abi::o_wronly | (flags & (abi::o_nonblock | abi::o_direct | abi::o_cloexec));
        o.ret2 = adopt(host_spec(write_flags, true, true, "pipe"));
        if (o.ret2 < 0) {
          (void)process_.close(static_cast<std::uint32_t>(o.ret));
          o.ret = o.ret2;
          o.ret2 = 0;
        }
        break;
      }
      case Op::close: o.ret = process_.close(c.a).raw(); break;
      case Op::dup: o.ret = process_.dup(c.a).raw(); break;
      case Op::dup2: o.ret = process_.dup2(c.a, c.b).raw(); break;
      case Op::dup3: o.ret = process_.dup3(c.a, c.b, static_cast<std::int32_t>(c.arg)).raw(); break;
      case Op::fcntl: o.ret = process_.fcntl(c.a, c.cmd, c.arg).raw(); break;
      case Op::close_range: o.ret = process_.close_range(c.a, c.b, static_cast<std::uint32_t>(c.arg)).raw(); break;
      case Op::set_nofile: o.ret = process_.set_nofile(c.arg).raw(); break;
      case Op::unshare: o.ret = process_.unshare().raw(); break;
    }
    const auto subject = subjects(c, o);
    for (std::size_t i = 0; i < 2; ++i) {
      o.getfd[i] = process_.fcntl(subject[i], abi::f_getfd, 0).raw();
      o.getfl[i] = process_.fcntl(subject[i], abi::f_getfl, 0).raw();
    }
    return o;
  }

 private:
  // open(2) of /dev/null: the host's F_GETFL adds O_LARGEFILE, and /dev/null has no direct I/O.
  std::int64_t open_null(std::uint32_t flags) {
    return adopt(host_spec(flags | abi::o_largefile, false, false, "/dev/null"));
  }

  std::int64_t adopt(OpenFileSpec spec) {
    const auto fd = process_.open(next_raw_++, std::move(spec));
    if (fd) ++log_->adopted;
    return fd.raw();
  }

  std::shared_ptr<ReleaseLog> log_;
  ProcessFiles<int> process_;
  int next_raw_ = 1000;  // the raw values only need to be unique
};

std::string table_string(const std::vector<TableEntry>& table) {
  std::string s;
  for (const auto& e : table) {
    s += " " + std::to_string(e.fd) + "(" + std::to_string(e.getfd) + "," + oct(e.getfl) + ")";
  }
  return s.empty() ? " (empty)" : s;
}

// The whole table: open numbers and their F_GETFD / F_GETFL, in number order.
std::vector<TableEntry> fdcore_table(const ProcessFiles<int>& process) {
  std::vector<TableEntry> table;
  for (const auto& info : process.list()) {
    table.push_back({info.fd, info.cloexec ? static_cast<std::int32_t>(abi::fd_cloexec) : 0,
                     static_cast<std::int32_t>(info.status_flags)});
  }
  return table;
}

// A fresh, zeroed report per seed, mapped shared so the child's writes reach the parent.
class SharedMemory {
 public:
  SharedMemory()
      : memory_(mmap(nullptr, sizeof(SharedReport), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0)) {
    if (memory_ != MAP_FAILED) report_ = new (memory_) SharedReport();
  }
  ~SharedMemory() {
    if (memory_ != MAP_FAILED) munmap(memory_, sizeof(SharedReport));
  }
  SharedMemory(const SharedMemory&) = delete;
  SharedMemory& operator=(const SharedMemory&) = delete;
  SharedReport* report() { return report_; }

 private:
  void* memory_;
  SharedReport* report_ = nullptr;
};

// How often each call gave each result: that the sequences reach the interesting cases.
using Tally = std::map<std::string, std::map<std::string, int>>;

std::string call_name(const Call& c) {
  if (c.op == Op::fcntl) return fcntl_name(c.cmd);
  const std::string s = to_string(c);
  return s.substr(0, s.find('('));
}

// Runs one seed on both sides and returns the number of steps compared; reports the first difference (later
// steps depend on it, so comparing them would only repeat it).
std::size_t run_seed(std::uint64_t seed, Tally& tally) {
  std::size_t steps = 0;
  CallGenerator generator(seed);
  std::vector<Call> calls(kStepsPerSeed);
  for (auto& call : calls) call = generator.next();

  SharedMemory shared;
  EXPECT_NE(shared.report(), nullptr) << "mmap: " << std::strerror(errno);
  if (shared.report() == nullptr) return steps;
  SharedReport& report = *shared.report();
  const pid_t child = fork();
  if (child == 0) run_child(calls, report);
  EXPECT_GT(child, 0) << "fork: " << std::strerror(errno);
  if (child <= 0) return steps;
  int status = 0;
  EXPECT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "seed " << seed << ": child status " << status;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return steps;
  EXPECT_EQ(report.child_errno, 0) << "seed " << seed << ": the child's setup or table snapshot failed";
  if (report.child_errno != 0) return steps;

  auto log = std::make_shared<ReleaseLog>();
  {
    FdcoreProcess fdcore(log);
    for (std::size_t step = 0; step < calls.size(); ++step) {
      const Outcome got = fdcore.run(calls[step]);
      const Outcome& expected = report.outcomes[step];
      ++steps;
      ++tally[call_name(calls[step])][expected.ret >= 0 ? "ok" : result_string(expected.ret)];
      if (got == expected) continue;
      std::string context;
      for (std::size_t back = step >= 5 ? step - 5 : 0; back < step; ++back) {
        context += "\n    step " + std::to_string(back) + ": " + to_string(calls[back]);
      }
      ADD_FAILURE() << "seed " << seed << " step " << step << ": " << to_string(calls[step])
                    << "\n  kernel: " << to_string(expected, subjects(calls[step], expected))
                    << "\n  fdcore: " << to_string(got, subjects(calls[step], got)) << "\n  preceding calls:" << context
                    << "\n  rerun alone with FDCORE_DIFF_SEED=" << seed;
      return steps;
    }
    std::vector<TableEntry> kernel(report.table.begin(), report.table.begin() + report.table_count);
    std::sort(kernel.begin(), kernel.end(), [](const auto& x, const auto& y) { return x.fd < y.fd; });
    EXPECT_FALSE(report.table_overflow);
    const auto mine = fdcore_table(fdcore.process());
    EXPECT_EQ(kernel, mine) << "seed " << seed << ": the tables differ after " << calls.size()
                            << " steps (fd(F_GETFD,F_GETFL))\n  kernel:" << table_string(kernel)
                            << "\n  fdcore:" << table_string(mine);
  }
  // Every value fdcore adopted was released once its last descriptor went with the process.
  EXPECT_EQ(log->released, log->adopted) << "seed " << seed;
  return steps;
}

// Whether this process may raise its hard RLIMIT_NOFILE to fs.nr_open (CAP_SYS_RESOURCE), tried in a child.
bool can_raise_hard_limit() {
  const pid_t child = fork();
  if (child == 0) {
    const rlimit low{kInitialNofile, kInitialNofile};
    const rlimit high{kNrOpenDefault, kNrOpenDefault};
    _exit(setrlimit(RLIMIT_NOFILE, &low) == 0 && setrlimit(RLIMIT_NOFILE, &high) == 0 ? 0 : 1);
  }
  int status = 0;
  return child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// The sequences assume the default fs.nr_open (the EPERM threshold of setrlimit, fdcore's default).
std::uint64_t host_nr_open() {
  std::ifstream in("/proc/sys/fs/nr_open");
  std::uint64_t value = 0;
  in >> value;
  return value;
}

TEST(Differential, RandomCallSequencesMatchTheKernel) {
  if (host_nr_open() != kNrOpenDefault) GTEST_SKIP() << "fs.nr_open is not the default " << kNrOpenDefault;
  rlimit current{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &current), 0);
  g_host.set_hard = can_raise_hard_limit();
  g_host.hard = current.rlim_max;
  g_host.ceiling = g_host.set_hard ? kNrOpenDefault : std::min<std::uint64_t>(current.rlim_max, kNrOpenDefault);
  ASSERT_GE(g_host.ceiling, 100u) << "the hard RLIMIT_NOFILE is too low for the sequences";
  RecordProperty("nofile_ceiling", static_cast<int>(g_host.ceiling));
  std::vector<std::uint64_t> seeds;
  if (const char* only = std::getenv("FDCORE_DIFF_SEED")) {
    seeds.push_back(std::strtoull(only, nullptr, 0));
  } else {
    for (int i = 0; i < kSeeds; ++i) seeds.push_back(0x5eed0000u + static_cast<std::uint64_t>(i));
  }

  const auto start = std::chrono::steady_clock::now();
  std::size_t steps = 0;
  Tally tally;
  for (std::uint64_t seed : seeds) steps += run_seed(seed, tally);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  RecordProperty("differential_steps", static_cast<int>(steps));
  RecordProperty("differential_seeds", static_cast<int>(seeds.size()));
  std::cout << "[ differential ] " << steps << " steps compared with the kernel over " << seeds.size() << " seeds in "
            << ms.count() << " ms (RLIMIT_NOFILE up to " << g_host.ceiling
            << (g_host.set_hard ? ", hard limit settable" : ", soft limit only") << ")\n";
  for (const auto& [call, results] : tally) {
    std::cout << "[ differential ]   " << call << ":";
    for (const auto& [result, count] : results) std::cout << " " << result << "=" << count;
    std::cout << "\n";
  }
}

}  // namespace
}  // namespace fdcore
