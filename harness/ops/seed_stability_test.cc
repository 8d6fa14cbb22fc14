// Pins the output of every seeded generator: plans, workloads and fixtures of a recorded seed
// (docs/findings.md) must come out the same after any refactoring, so a change here has to be
// deliberate. The values were taken from the generators as they were when this test was added.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/prng.h"
#include "ops/fixture_gen.h"
#include "ops/fixture_json.h"
#include "ops/ops.h"

namespace ovl::ops {
namespace {

struct StreamPin {
  const char* stream;
  uint64_t next;
  uint64_t below_1000;
  std::vector<int> shuffled;
  std::vector<uint64_t> distinct;
};

TEST(SeedStabilityTest, NamedStreamsArePinned) {
  const std::vector<StreamPin> pins = {
      {"cases",
       2862073369054394261ull,
       742,
       {6, 3, 5, 2, 7, 9, 1, 0, 4, 8},
       {22030, 20671, 27376, 28711, 27198}},
      {"faults",
       14543776094739956462ull,
       435,
       {8, 9, 3, 2, 4, 0, 5, 7, 6, 1},
       {29363, 21415, 28603, 26542, 27467}},
      {"ports/local",
       10997650033926899249ull,
       786,
       {9, 7, 5, 3, 1, 8, 2, 0, 4, 6},
       {28793, 24536, 27185, 27385, 24190}},
  };
  for (const StreamPin& pin : pins) {
    SCOPED_TRACE(pin.stream);
    Prng rng(42, pin.stream);
    EXPECT_EQ(rng.Next(), pin.next);
    EXPECT_EQ(rng.Below(1000), pin.below_1000);
    std::vector<int> v{0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    rng.Shuffle(&v);
    EXPECT_EQ(v, pin.shuffled);
    EXPECT_EQ(rng.Distinct(5, 20000, 30000), pin.distinct);
  }
}

TEST(SeedStabilityTest, PlainSeedIsPinned) {
  Prng rng(7);
  EXPECT_EQ(rng.Next(), 13915952638675311015ull);
  EXPECT_EQ(rng.Below(1000), 250u);
  std::string percent;
  for (int i = 0; i < 10; ++i) percent += rng.Percent(30) ? '1' : '0';
  EXPECT_EQ(percent, "0011110000");
}

TEST(SeedStabilityTest, FixtureBytesArePinned) {
  const std::string data = FixtureFileData(7, "d/x", 13);
  const std::vector<unsigned char> want = {0x79, 0x75, 0x66, 0xaa, 0xea, 0x87, 0x3f,
                                           0x89, 0x1e, 0x02, 0x05, 0xa3, 0x0c};
  EXPECT_EQ(std::vector<unsigned char>(data.begin(), data.end()), want);
  EXPECT_EQ(DataDigest(FixtureFileData(3, "f0001", 100000)), 18111500565348714391ull);
}

TEST(SeedStabilityTest, GeneratedFixtureIsPinned) {
  ovl::Result<Fixture> f = FixtureFromJson(
      {{"layers", 2},
       {"seed", 9},
       {"generate", {{"files", 4}, {"dirs", 2}, {"max_size", 100}, {"hardlinks", 1}}}},
      1);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(FixtureToJson(*f).dump(),
            R"({"entries":[{"dir":"g000"},{"dir":"g000/g001"},{"dir":"g000","layer":1},)"
            R"({"file":"g000/f0000","layer":1,"size":16},{"file":"f0001","size":11},)"
            R"({"file":"g000/g001/f0002","size":20},{"dir":"g000/g001","layer":1},)"
            R"({"file":"g000/g001/f0003","layer":1,"size":74},)"
            R"({"hardlink":"g000/g001/h0000","to":"g000/g001/f0002"}],"layers":2,"seed":9})");
}

}  // namespace
}  // namespace ovl::ops
