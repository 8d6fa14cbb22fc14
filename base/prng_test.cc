#include "base/prng.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace ovl {
namespace {

TEST(PrngTest, SameSeedAndStreamGiveTheSameSequence) {
  Prng a(7, "cases");
  Prng b(7, "cases");
  for (int i = 0; i < 100; ++i) EXPECT_EQ(a.Next(), b.Next());
}

TEST(PrngTest, StreamsAndSeedsDiffer) {
  EXPECT_NE(Prng(7, "cases").Next(), Prng(7, "ports").Next());
  EXPECT_NE(Prng(1, "cases").Next(), Prng(2, "cases").Next());
}

TEST(PrngTest, BelowStaysInRangeAndCoversIt) {
  Prng rng(3, "t");
  std::set<uint64_t> seen;
  for (int i = 0; i < 1000; ++i) {
    uint64_t v = rng.Below(10);
    ASSERT_LT(v, 10u);
    seen.insert(v);
  }
  EXPECT_EQ(seen.size(), 10u);
  EXPECT_EQ(rng.Below(1), 0u);
}

TEST(PrngTest, DistinctValuesInRange) {
  Prng rng(3, "t");
  std::vector<uint64_t> v = rng.Distinct(50, 100, 160);
  ASSERT_EQ(v.size(), 50u);
  EXPECT_EQ(std::set<uint64_t>(v.begin(), v.end()).size(), 50u);
  for (uint64_t x : v) {
    EXPECT_GE(x, 100u);
    EXPECT_LT(x, 160u);
  }
  EXPECT_EQ(rng.Distinct(5, 0, 5).size(), 5u);
}

TEST(PrngTest, ShuffleIsAPermutation) {
  std::vector<int> v(50);
  for (int i = 0; i < 50; ++i) v[i] = i;
  std::vector<int> shuffled = v;
  Prng(9, "t").Shuffle(&shuffled);
  EXPECT_NE(shuffled, v);
  std::sort(shuffled.begin(), shuffled.end());
  EXPECT_EQ(shuffled, v);
}

// Pins the derivation seed -> sequence: a change here silently changes every recorded plan, so
// it must be deliberate.
TEST(PrngTest, SequenceIsPinned) {
  Prng rng(1, "cases");
  EXPECT_EQ(rng.Below(1000000), 304334u);
}

}  // namespace
}  // namespace ovl
