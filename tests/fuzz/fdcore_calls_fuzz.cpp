// libFuzzer target: guest system call arguments are untrusted input. The bytes drive a sequence of
// descriptor calls, with any numbers, commands and flags, on a few processes that share and copy tables.
// Nothing may crash, leak or leave the table and the raw store disagreeing; every raw value is released
// exactly once when the last process is gone.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <set>
#include <vector>

#include "fdcore/process_files.hpp"

namespace {

using fdcore::ProcessFiles;

// Reads the fuzzer's bytes as little-endian numbers; zeros once they run out.
class ByteReader {
 public:
  ByteReader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  bool done() const { return pos_ >= size_; }
  std::uint8_t u8() { return pos_ < size_ ? data_[pos_++] : 0; }
  std::uint32_t u32() {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= static_cast<std::uint32_t>(u8()) << (8 * i);
    return v;
  }
  // A descriptor number: mostly small, sometimes anything.
  std::uint32_t fd() {
    const std::uint8_t b = u8();
    return (b & 0x80) != 0 ? u32() : b & 0x3f;
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::multiset<int> released;
  int adopted = 0;
  {
    auto store = fdcore::RawDescriptorStore<int>::create([&](int raw) { released.insert(raw); });
    std::vector<ProcessFiles<int>> procs;
    procs.push_back(ProcessFiles<int>::create(store, 64));
    ByteReader in(data, size);
    int next_raw = 1;
    while (!in.done()) {
      auto& p = procs[in.u8() % procs.size()];
      switch (in.u8() % 16) {
        case 0: {
          fdcore::OpenFileSpec spec;
          spec.kind = static_cast<fdcore::DescriptorKind>(in.u8() % 4);
          spec.open_flags = in.u32();
          spec.direct_io = (in.u8() & 1) != 0;
          if (p.open(next_raw++, spec)) ++adopted;
          break;
        }
        case 1: (void)p.close(in.fd()); break;
        case 2: (void)p.dup(in.fd()); break;
        case 3: (void)p.dup2(in.fd(), in.fd()); break;
        case 4: (void)p.dup3(in.fd(), in.fd(), static_cast<std::int32_t>(in.u32())); break;
        case 5: {
          const std::uint32_t fd = in.fd();
          const std::uint32_t cmd = in.u8() % 8 == 0 ? in.u32() : (in.u8() % 2 == 0 ? in.u8() % 5 : 1030u);
          const std::uint64_t arg = (std::uint64_t{in.u32()} << 32) | in.u32();
          (void)p.fcntl(fd, cmd, (in.u8() & 1) != 0 ? arg : arg & 0xff);
          break;
        }
        case 6: (void)p.close_range(in.fd(), in.fd(), in.u8() % 8 == 0 ? in.u32() : in.u8() & 6u); break;
        case 7:
          if (procs.size() < 6) {
            auto child = p.clone((in.u8() & 1) != 0);
            if (child) procs.push_back(std::move(child).value());
          }
          break;
        case 8: (void)p.unshare(); break;
        case 9: (void)p.exec(); break;
        case 10: (void)p.set_nofile(in.u8() % 4 == 0 ? in.u32() : in.u8()); break;
        case 11:
          if (procs.size() > 1) procs.erase(procs.begin() + static_cast<std::ptrdiff_t>(in.u8() % procs.size()));
          break;
        case 12: (void)p.get(in.fd()); break;
        case 13: {
          // install_at, as adoption of a descriptor the guest received without the core.
          auto ofd = store->adopt(next_raw++, {});
          if (ofd) {
            ++adopted;
            (void)p.files()->install_at(in.fd() % 2048, ofd.value(), (in.u8() & 1) != 0);
          }
          break;
        }
        case 14: {
          // A description no raw value backs (the object lives in the guest's own table).
          fdcore::OpenFileSpec spec;
          spec.open_flags = in.u32();
          spec.identity = {in.u32(), in.u32()};
          auto ofd = store->describe(spec);
          if (ofd) (void)p.install(ofd.value(), (in.u8() & 1) != 0 ? fdcore::abi::o_cloexec : 0u);
          break;
        }
        case 15: {
          // The lock-free reads agree with each other (one thread: nothing changes in between).
          const std::uint32_t fd = in.fd();
          const auto view = p.view(fd);
          const auto raw = p.raw(fd);
          const auto fdflags = p.fcntl(fd, fdcore::abi::f_getfd, 0);
          const auto flags = p.fcntl(fd, fdcore::abi::f_getfl, 0);
          check(view.ok() == raw.ok() && view.ok() == fdflags.ok() && view.ok() == flags.ok());
          check(view.ok() == p.files()->is_open(fd));
          if (view) {
            check(view.value().raw == raw.value());
            check(view.value().cloexec == (fdflags.value() != 0));
            check(view.value().status_flags == static_cast<std::uint32_t>(flags.value()));
            check(view.value().has_raw == (raw.value() != fdcore::no_raw<int>));
          }
          break;
        }
      }
    }
    // The table and the store agree: every listed descriptor's raw value is live in the store.
    std::set<const fdcore::OpenFileDescription<int>*> live;
    for (auto& p : procs) {
      const auto list = p.list();
      check(list.size() == p.files()->open_count());
      for (const auto& d : list) {
        check(d.raw == fdcore::no_raw<int> || store->find(d.raw) != nullptr);
        live.insert(p.get(d.fd).value().get());
      }
    }
    check(store->size() == live.size());  // every live description is in some table (no Ref outlives a case)
  }
  // Every adopted value released exactly once, after the last reference went.
  check(released.size() == static_cast<std::size_t>(adopted));
  check(std::set<int>(released.begin(), released.end()).size() == released.size());
  return 0;
}
