// Shared set-up for fdcore's unit tests: a store whose release hook records what it released, and a
// process with a fresh table.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <ostream>

#include <gtest/gtest.h>
#include <vector>

#include "fdcore/process_files.hpp"

namespace fdcore {

// GoogleTest prints results as "3" or "EBADF".
template <typename T>
void PrintTo(const Result<T>& r, std::ostream* os) {
  if (r.ok()) {
    *os << ::testing::PrintToString(r.value());
  } else {
    *os << errno_name(r.error());
  }
}

}  // namespace fdcore

namespace fdcore::testing {

struct ReleaseLog {
  std::mutex mu;
  std::vector<int> released;

  std::vector<int> take() {
    std::lock_guard lock(mu);
    return std::exchange(released, {});
  }
};

// A process with an empty table, raw values from a counter, and a log of released values.
struct TestProcess {
  std::shared_ptr<ReleaseLog> log = std::make_shared<ReleaseLog>();
  std::shared_ptr<RawDescriptorStore<int>> store = RawDescriptorStore<int>::create([log = log](int raw) {
    std::lock_guard lock(log->mu);
    log->released.push_back(raw);
  });
  ProcessFiles<int> proc = ProcessFiles<int>::create(store);
  int next_raw = 1000;

  // open(2) of a file with these flags: a new raw value adopted and installed.
  Result<int> open(std::uint32_t flags = abi::o_rdwr, bool direct_io = false) {
    return proc.open(next_raw++, OpenFileSpec{DescriptorKind::raw, flags, direct_io, false, "/dev/null"});
  }
};

}  // namespace fdcore::testing
