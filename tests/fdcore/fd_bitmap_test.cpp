#include "fdcore/fd_bitmap.hpp"

#include <gtest/gtest.h>

#include <random>
#include <set>

namespace fdcore {
namespace {

TEST(FdBitmap, EmptyHasNoZero) {
  FdBitmap b;
  EXPECT_EQ(b.size(), 0u);
  EXPECT_EQ(b.find_first_zero(0), FdBitmap::npos);
  EXPECT_EQ(b.find_next_set(0), FdBitmap::npos);
}

TEST(FdBitmap, LowestZeroSkipsFullWordsAtEveryLevel) {
  FdBitmap b;
  b.grow(1u << 20);
  for (std::size_t i = 0; i < 300000; ++i) b.set(i);
  EXPECT_EQ(b.find_first_zero(0), 300000u);
  EXPECT_EQ(b.find_first_zero(123), 300000u);
  b.reset(4097);
  EXPECT_EQ(b.find_first_zero(0), 4097u);
  EXPECT_EQ(b.find_first_zero(4098), 300000u);
  b.set(4097);
  for (std::size_t i = 300000; i < (1u << 20); ++i) b.set(i);
  EXPECT_EQ(b.find_first_zero(0), FdBitmap::npos);
  EXPECT_EQ(b.count(), 1u << 20);
  b.reset((1u << 20) - 1);
  EXPECT_EQ(b.find_first_zero(0), (1u << 20) - 1);
}

TEST(FdBitmap, SizeNotAMultipleOf64NeverReportsPaddingAsFree) {
  FdBitmap b;
  b.grow(70);
  for (std::size_t i = 0; i < 70; ++i) b.set(i);
  EXPECT_EQ(b.find_first_zero(0), FdBitmap::npos);
  EXPECT_EQ(b.find_next_set(69), 69u);
  EXPECT_EQ(b.find_next_set(70), FdBitmap::npos);
  b.grow(200);  // the old padding becomes real, clear bits
  EXPECT_EQ(b.find_first_zero(0), 70u);
  EXPECT_TRUE(b.test(69));
  EXPECT_FALSE(b.test(70));
}

TEST(FdBitmap, MatchesASetUnderRandomOperations) {
  std::mt19937 rng(7);
  FdBitmap b;
  std::set<std::size_t> model;
  std::size_t size = 0;
  for (int step = 0; step < 20000; ++step) {
    const int op = static_cast<int>(rng() % 10);
    if (op == 0) {
      size = std::max<std::size_t>(size, rng() % 9000 + 1);
      b.grow(size);
    } else if (size > 0 && op < 6) {
      const std::size_t i = rng() % size;
      b.set(i);
      model.insert(i);
    } else if (size > 0 && op < 9) {
      const std::size_t i = rng() % size;
      b.reset(i);
      model.erase(i);
    } else if (size > 0) {
      const std::size_t from = rng() % size;
      std::size_t want = from;
      while (want < size && model.count(want) != 0) ++want;
      ASSERT_EQ(b.find_first_zero(from), want < size ? want : FdBitmap::npos) << "step " << step;
      auto it = model.lower_bound(from);
      ASSERT_EQ(b.find_next_set(from), it == model.end() ? FdBitmap::npos : *it) << "step " << step;
      ASSERT_EQ(b.count(), model.size());
    }
  }
}

}  // namespace
}  // namespace fdcore
