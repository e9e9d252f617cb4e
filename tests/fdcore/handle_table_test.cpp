// fdcore's HANDLE-sized instantiation with real Windows HANDLEs (under wine): the raw store's release hook is
// CloseHandle, so a descriptor's last reference going closes its handle, and dup'd numbers share one handle.
#include <windows.h>

#include <cstdint>

#include <gtest/gtest.h>

#include "fdcore/process_files.hpp"

namespace {

using Handle = std::uintptr_t;

Handle to_raw(HANDLE h) { return reinterpret_cast<Handle>(h); }
HANDLE to_handle(Handle raw) { return reinterpret_cast<HANDLE>(raw); }

bool handle_is_open(HANDLE h) {
  DWORD flags = 0;
  return GetHandleInformation(h, &flags) != 0;
}

struct Pipe {
  HANDLE read = nullptr;
  HANDLE write = nullptr;
  Pipe() { EXPECT_TRUE(CreatePipe(&read, &write, nullptr, 0)); }
};

std::shared_ptr<fdcore::RawDescriptorStore<Handle>> closing_store(int* closed) {
  return fdcore::RawDescriptorStore<Handle>::create([closed](Handle raw) {
    if (CloseHandle(to_handle(raw)) && closed != nullptr) ++*closed;
  });
}

TEST(HandleTable, CloseOfTheLastNumberClosesTheHandle) {
  int closed = 0;
  auto store = closing_store(&closed);
  auto files = fdcore::ProcessFiles<Handle>::create(store);
  Pipe pipe;
  auto fd = files.open(to_raw(pipe.write), fdcore::OpenFileSpec{});
  ASSERT_TRUE(fd);
  EXPECT_EQ(fd.value(), 0);
  auto second = files.dup(fd.value());
  ASSERT_TRUE(second);
  EXPECT_EQ(second.value(), 1);
  ASSERT_TRUE(files.close(fd.value()));
  EXPECT_EQ(closed, 0);
  EXPECT_TRUE(handle_is_open(pipe.write));
  ASSERT_TRUE(files.close(second.value()));
  EXPECT_EQ(closed, 1);
  CloseHandle(pipe.read);
}

TEST(HandleTable, TheSameHandleCannotBeAdoptedTwice) {
  auto store = closing_store(nullptr);
  auto files = fdcore::ProcessFiles<Handle>::create(store);
  Pipe pipe;
  ASSERT_TRUE(files.open(to_raw(pipe.read), fdcore::OpenFileSpec{}));
  auto again = files.open(to_raw(pipe.read), fdcore::OpenFileSpec{});
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error(), fdcore::Errno::exist);
  CloseHandle(pipe.write);
}

TEST(HandleTable, DestroyingTheTableClosesEveryHandle) {
  int closed = 0;
  Pipe a;
  Pipe b;
  {
    auto store = closing_store(&closed);
    auto files = fdcore::ProcessFiles<Handle>::create(store);
    for (HANDLE h : {a.read, a.write, b.read, b.write}) ASSERT_TRUE(files.open(to_raw(h), fdcore::OpenFileSpec{}));
  }
  EXPECT_EQ(closed, 4);
}

TEST(HandleTable, Dup2OverAnOpenNumberReleasesItsHandleAndWritesReachTheSamePipe) {
  int closed = 0;
  auto store = closing_store(&closed);
  auto files = fdcore::ProcessFiles<Handle>::create(store);
  Pipe first;
  Pipe second;
  auto w1 = files.open(to_raw(first.write), fdcore::OpenFileSpec{});
  auto w2 = files.open(to_raw(second.write), fdcore::OpenFileSpec{});
  ASSERT_TRUE(w1 && w2);
  ASSERT_TRUE(files.dup2(w1.value(), w2.value()));
  EXPECT_EQ(closed, 1);  // second.write
  auto raw = files.raw(w2.value());
  ASSERT_TRUE(raw);
  DWORD written = 0;
  ASSERT_TRUE(WriteFile(to_handle(raw.value()), "x", 1, &written, nullptr));
  char c = 0;
  DWORD got = 0;
  ASSERT_TRUE(ReadFile(first.read, &c, 1, &got, nullptr));
  EXPECT_EQ(c, 'x');
  CloseHandle(first.read);
  CloseHandle(second.read);
}

}  // namespace
