#include "throughput/sequence.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace ovl::throughput {
namespace {

LoadSpec Data(Pattern pattern, LoadOp op) {
  LoadSpec s;
  s.name = "data";
  s.pattern = pattern;
  s.file = "data";
  s.size = 4 * 4096;
  s.request_size = 4096;
  s.max_ops = 100;
  s.mix = {{op, 1}};
  return s;
}

TEST(SequenceTest, SequentialWrapsAtTheWorkingSet) {
  OpSequence seq(Data(Pattern::kSequential, LoadOp::kRead), 1);
  std::vector<uint64_t> offsets;
  for (int i = 0; i < 6; ++i) {
    PlannedOp p = seq.Next();
    EXPECT_EQ(p.op, LoadOp::kRead);
    offsets.push_back(p.offset);
  }
  EXPECT_EQ(offsets, (std::vector<uint64_t>{0, 4096, 8192, 12288, 0, 4096}));
}

TEST(SequenceTest, UnstableWritesCommitOncePerPass) {
  OpSequence seq(Data(Pattern::kSequential, LoadOp::kWrite), 1);
  std::vector<LoadOp> ops;
  for (int i = 0; i < 10; ++i) ops.push_back(seq.Next().op);
  const LoadOp w = LoadOp::kWrite, c = LoadOp::kCommit;
  EXPECT_EQ(ops, (std::vector<LoadOp>{w, w, w, w, c, w, w, w, w, c}));
  LoadSpec stable = Data(Pattern::kSequential, LoadOp::kWrite);
  stable.stable = ops::Stable::kFileSync;
  OpSequence synced(stable, 1);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(synced.Next().op, LoadOp::kWrite);
}

TEST(SequenceTest, RandomOffsetsAreAlignedInRangeAndSeeded) {
  OpSequence a(Data(Pattern::kRandom, LoadOp::kRead), 3);
  OpSequence b(Data(Pattern::kRandom, LoadOp::kRead), 3);
  std::set<uint64_t> seen;
  for (int i = 0; i < 200; ++i) {
    PlannedOp p = a.Next();
    EXPECT_EQ(p.offset, b.Next().offset);
    EXPECT_EQ(p.offset % 4096, 0u);
    EXPECT_LT(p.offset, 4u * 4096);
    seen.insert(p.offset);
  }
  EXPECT_EQ(seen.size(), 4u);
}

TEST(SequenceTest, MixFollowsItsWeights) {
  LoadSpec s;
  s.name = "mix";
  s.pattern = Pattern::kMix;
  s.files = 50;
  s.symlinks = 3;
  s.size = 4096;
  s.max_ops = 1;
  s.mix = {{LoadOp::kGetattr, 60}, {LoadOp::kLookup, 30}, {LoadOp::kReadlink, 10}};
  OpSequence seq(s, 9);
  std::map<LoadOp, int> n;
  const int total = 20000;
  for (int i = 0; i < total; ++i) {
    PlannedOp p = seq.Next();
    ++n[p.op];
    EXPECT_LT(p.index, p.op == LoadOp::kReadlink ? 3u : 50u);
  }
  EXPECT_NEAR(n[LoadOp::kGetattr] / double(total), 0.60, 0.02);
  EXPECT_NEAR(n[LoadOp::kLookup] / double(total), 0.30, 0.02);
  EXPECT_NEAR(n[LoadOp::kReadlink] / double(total), 0.10, 0.02);
}

TEST(SequenceTest, MixRemovesOnlyWhatItCreated) {
  LoadSpec s;
  s.name = "mix";
  s.pattern = Pattern::kMix;
  s.files = 5;
  s.max_ops = 1;
  s.mix = {{LoadOp::kCreate, 1}, {LoadOp::kRemove, 3}};
  OpSequence seq(s, 2);
  std::set<uint64_t> live;
  for (int i = 0; i < 1000; ++i) {
    PlannedOp p = seq.Next();
    if (p.op == LoadOp::kCreate) {
      EXPECT_TRUE(live.insert(p.index).second) << "created twice: " << p.index;
    } else {
      ASSERT_EQ(p.op, LoadOp::kRemove);
      EXPECT_EQ(live.erase(p.index), 1u) << "removed a name never created: " << p.index;
    }
  }
  EXPECT_EQ(CreatedName(3), "n000003");
}

TEST(SequenceTest, PhasesCoverEveryNameInTurn) {
  LoadSpec s;
  s.name = "mdtest";
  s.pattern = Pattern::kPhases;
  s.files = 3;
  s.max_ops = 1;
  s.phases = {LoadOp::kCreate, LoadOp::kLookup, LoadOp::kRemove};
  OpSequence seq(s, 1);
  std::vector<std::pair<LoadOp, uint64_t>> got;
  for (int i = 0; i < 10; ++i) {
    PlannedOp p = seq.Next();
    got.emplace_back(p.op, p.index);
  }
  using P = std::pair<LoadOp, uint64_t>;
  EXPECT_EQ(got, (std::vector<P>{{LoadOp::kCreate, 0},
                                 {LoadOp::kCreate, 1},
                                 {LoadOp::kCreate, 2},
                                 {LoadOp::kLookup, 0},
                                 {LoadOp::kLookup, 1},
                                 {LoadOp::kLookup, 2},
                                 {LoadOp::kRemove, 0},
                                 {LoadOp::kRemove, 1},
                                 {LoadOp::kRemove, 2},
                                 {LoadOp::kCreate, 0}}));
  EXPECT_EQ(PhaseName(2), "u000002");
}

}  // namespace
}  // namespace ovl::throughput
