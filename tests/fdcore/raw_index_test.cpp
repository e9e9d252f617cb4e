// RawIndex against std::unordered_map: inserts, replacements, erases (backward shift) and growth, with keys that
// collide a lot (multiples of 4, as HANDLEs are) and negative ones.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <unordered_map>
#include <vector>

#include "fdcore/raw_index.hpp"

namespace fdcore {
namespace {

struct Value {
  int id;
};

template <typename Key>
void random_operations(std::uint32_t seed, Key (*key_of)(std::uint32_t)) {
  std::mt19937 rng(seed);
  RawIndex<Key, Value> index;
  std::unordered_map<Key, Value*> model;
  std::vector<Value> values(64);
  for (int i = 0; i < 64; ++i) values[static_cast<std::size_t>(i)].id = i;
  for (int step = 0; step < 40000; ++step) {
    const Key key = key_of(static_cast<std::uint32_t>(rng() % 3000));
    Value* value = &values[rng() % values.size()];
    switch (rng() % 4) {
      case 0:
      case 1:
        ASSERT_TRUE(index.put(key, value));
        model[key] = value;
        break;
      case 2: {
        // erase only removes the entry when it maps to the given value
        auto it = model.find(key);
        Value* current = it == model.end() ? nullptr : it->second;
        index.erase(key, rng() % 2 == 0 ? current : value);
        if (it != model.end() && (index.find(key) == nullptr)) model.erase(it);
        break;
      }
      default: {
        auto it = model.find(key);
        ASSERT_EQ(index.find(key), it == model.end() ? nullptr : it->second) << "step " << step;
      }
    }
    ASSERT_EQ(index.size(), model.size()) << "step " << step;
  }
  for (const auto& [key, value] : model) ASSERT_EQ(index.find(key), value);
  EXPECT_LE(index.size() * 2, index.capacity());
}

TEST(RawIndex, MatchesAMapForFds) {
  random_operations<int>(1, [](std::uint32_t k) { return static_cast<int>(k) - 100; });
}

TEST(RawIndex, MatchesAMapForHandles) {
  random_operations<std::uintptr_t>(2, [](std::uint32_t k) { return std::uintptr_t{0x7ff000000000} + 4u * k; });
}

TEST(RawIndex, EraseOfAnotherValueKeepsTheEntry) {
  RawIndex<int, Value> index;
  Value a{1};
  Value b{2};
  EXPECT_EQ(index.find(3), nullptr);
  index.erase(3, &a);  // empty: nothing happens
  ASSERT_TRUE(index.put(3, &a));
  index.erase(3, &b);
  EXPECT_EQ(index.find(3), &a);
  ASSERT_TRUE(index.put(3, &b));  // replace
  EXPECT_EQ(index.size(), 1u);
  index.erase(3, &b);
  EXPECT_EQ(index.find(3), nullptr);
  EXPECT_EQ(index.size(), 0u);
}

}  // namespace
}  // namespace fdcore
