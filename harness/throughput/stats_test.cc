#include "throughput/stats.h"

#include <gtest/gtest.h>

namespace ovl::throughput {
namespace {

constexpr uint64_t kMs = 1'000'000;
constexpr int64_t kNever = INT64_MAX;

TEST(LatencyHistogramTest, PercentilesWithinBucketPrecision) {
  LatencyHistogram h;
  EXPECT_EQ(h.PercentileUs(0.5), 0);
  for (uint64_t us = 1; us <= 1000; ++us) h.Record(us * 1000);
  EXPECT_EQ(h.count(), 1000u);
  EXPECT_NEAR(h.PercentileUs(0.5), 500, 500 * 0.04);
  EXPECT_NEAR(h.PercentileUs(0.99), 990, 990 * 0.04);
  EXPECT_NEAR(h.PercentileUs(1.0), 1000, 1000 * 0.04);
  LatencyHistogram small;
  small.Record(7);
  EXPECT_NEAR(small.PercentileUs(0.5), 0.007, 0.001);
  LatencyHistogram huge;
  huge.Record(UINT64_MAX);
  EXPECT_GT(huge.PercentileUs(0.5), 1e12);
}

TEST(LatencyHistogramTest, MergeAndJson) {
  LatencyHistogram a, b;
  for (int i = 0; i < 99; ++i) a.Record(10'000);
  b.Record(5'000'000);
  a.Merge(b);
  EXPECT_EQ(a.count(), 100u);
  EXPECT_NEAR(a.PercentileUs(0.99), 10, 0.5);
  EXPECT_NEAR(a.PercentileUs(1.0), 5000, 5000 * 0.04);
  Result<LatencyHistogram> back = LatencyHistogram::FromJson(a.ToJson());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->ToJson(), a.ToJson());
  EXPECT_FALSE(LatencyHistogram::FromJson(nlohmann::json::parse("[[999999, 1]]")).ok());
  EXPECT_FALSE(LatencyHistogram::FromJson(nlohmann::json::parse("{}")).ok());
}

TEST(LoadRecorderTest, CountsTimelineAndOkRuns) {
  LoadRecorder rec(milliseconds(100), true, 5000);
  using E = LoadRecorder::Ending;
  rec.Record(LoadOp::kRead, 0, 1 * kMs, E::kOk, 4096, "");
  rec.Record(LoadOp::kRead, 1 * kMs, 1 * kMs + 500, E::kOk, 4096, "");  // same millisecond
  rec.Record(LoadOp::kRead, 1 * kMs, 2 * kMs, E::kOk, 4096, "");
  rec.Record(LoadOp::kGetattr, 2 * kMs, 50 * kMs, E::kError, 0, "STALE");
  rec.Record(LoadOp::kGetattr, 50 * kMs, 150 * kMs, E::kOk, 0, "");
  rec.Record(LoadOp::kGetattr, 150 * kMs, 151 * kMs, E::kCutOff, 0, "connection reset");
  rec.Record(LoadOp::kGetattr, 151 * kMs, 152 * kMs, E::kCutOff, 0, "connection refused");
  rec.CountReconnect();
  LoadReport r = rec.Finish(350 * kMs);
  EXPECT_EQ(r.ops, 4u);
  EXPECT_EQ(r.errors, 3u);
  EXPECT_EQ(r.bytes, 3u * 4096);
  EXPECT_EQ(r.reconnects, 1u);
  EXPECT_EQ(r.first_error, "getattr: STALE");
  EXPECT_DOUBLE_EQ(r.seconds, 0.35);
  EXPECT_EQ(r.start_ns, 5000);
  EXPECT_EQ(r.by_op["read"].ok, 3u);
  EXPECT_EQ(r.by_op["getattr"].errors, 3u);
  EXPECT_EQ(r.timeline, (std::vector<uint64_t>{3, 1, 0, 0}));
  // By the millisecond each successful op began in: 0, 1, 1, 50; done at the end of ms 1, 2, 150.
  EXPECT_EQ(r.ok_runs, (std::vector<OkRun>{{0, 2, 2}, {50, 1, 151}}));
  using Run = std::pair<uint64_t, uint64_t>;
  EXPECT_EQ(r.fail_runs, (std::vector<Run>{{151, 2}})) << "cut-offs only, not errors";

  Result<LoadReport> back = LoadReportFromJson(ToJson(r));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(ToJson(*back), ToJson(r));
  EXPECT_FALSE(LoadReportFromJson(nlohmann::json::object()).ok());
}

LoadReport Client(int64_t start_ns, std::vector<uint64_t> timeline, double seconds, uint64_t ops,
                  uint64_t bytes) {
  LoadReport r;
  r.start_ns = start_ns;
  r.timeline_bucket = milliseconds(1000);
  r.timeline = std::move(timeline);
  r.seconds = seconds;
  r.ops = ops;
  r.bytes = bytes;
  for (uint64_t i = 0; i < ops; ++i) r.latency.Record(100'000);
  return r;
}

TEST(ClientClockTest, AgreesWithinTwoPercentAndAQuarterSecond) {
  EXPECT_TRUE(CheckClientClock(10.0, 10.0).ok());
  EXPECT_TRUE(CheckClientClock(10.4, 10.2).ok());
  EXPECT_TRUE(CheckClientClock(9.8, 10.2).ok());
  Status fast = CheckClientClock(12.0, 10.0);
  ASSERT_FALSE(fast.ok());
  EXPECT_NE(fast.message().find("ran fast"), std::string::npos) << fast.message();
  Status slow = CheckClientClock(3.0, 40.0);
  ASSERT_FALSE(slow.ok());
  EXPECT_NE(slow.message().find("ran slow"), std::string::npos) << slow.message();
}

TEST(SummaryTest, AddsClientsOverTheLongestRun) {
  JobSummary s = Summarize({Client(0, {}, 2.0, 100, 2'000'000), Client(0, {}, 4.0, 300, 0)});
  EXPECT_EQ(s.ops, 400u);
  EXPECT_DOUBLE_EQ(s.seconds, 4.0);
  EXPECT_DOUBLE_EQ(s.ops_per_s, 100.0);
  EXPECT_DOUBLE_EQ(s.mb_per_s, 0.5);
  EXPECT_NEAR(s.p50_us, 100, 4);
  EXPECT_EQ(Summarize({}).ops_per_s, 0);
}

TEST(SummaryTest, TimelinesAlignOnTheEarliestStart) {
  const int64_t s = 1'000'000'000;
  auto t = MergedTimeline(
      {Client(10 * s, {5, 6}, 2, 11, 0), Client(11 * s + 10 * kMs, {1, 1}, 2, 2, 0)});
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0], (std::pair<double, double>{0.0, 5.0}));
  EXPECT_EQ(t[1], (std::pair<double, double>{1.0, 7.0}));
  EXPECT_EQ(t[2], (std::pair<double, double>{2.0, 1.0}));
}

TEST(RecoveryTest, FirstOpBegunAfterTheFaultThatSucceeded) {
  LoadReport a, b;
  a.start_ns = 0;
  a.ok_runs = {{0, 100, 1}, {400, 10, 420}};
  b.start_ns = 50 * kMs;
  b.ok_runs = {{0, 40, 1}, {300, 5, 303}};  // its ms 300..303 are global ms 350..353
  // Fault at 120.5 ms: a's first op after it began in ms 400 and completed in ms 419; b's
  // began in its ms 300 and completed by its ms 303 (global 353).
  std::optional<double> r = SecondsToFirstOk({a, b}, 120 * kMs + 500'000, kNever);
  ASSERT_TRUE(r);
  EXPECT_NEAR(*r, (353 - 120.5) / 1000.0, 1e-9);
  // A fault in the middle of a run (an eviction the clients ride through): the op begun in the
  // next whole millisecond completed by the one after.
  r = SecondsToFirstOk({a}, 10 * kMs + 200'000, kNever);
  ASSERT_TRUE(r);
  EXPECT_NEAR(*r, (12 - 10.2) / 1000.0, 1e-9);
  EXPECT_FALSE(SecondsToFirstOk({a}, 500 * kMs, kNever));
}

TEST(RecoveryTest, OpsBegunBeforeTheFaultWasOverDoNotCount) {
  // A VM crash at 10 ms whose destroy-and-boot returned at 300 ms: the op begun in ms 11 (before
  // the VM went down) is no recovery; the first begun after 300 ms, done in ms 420, is.
  LoadReport a;
  a.start_ns = 0;
  a.ok_runs = {{0, 12, 1}, {400, 10, 420}};
  std::optional<double> r = SecondsToFirstOk({a}, 10 * kMs, kNever, 300 * kMs);
  ASSERT_TRUE(r);
  EXPECT_NEAR(*r, (420 - 10) / 1000.0, 1e-9);
  r = SecondsToFirstOk({a}, 10 * kMs, kNever);  // without it, the slipped-in op counts
  ASSERT_TRUE(r);
  EXPECT_NEAR(*r, (12 - 10) / 1000.0, 1e-9);
}

TEST(RecoveryTest, CountsFromTheLastFailureTheFaultCaused) {
  // A server that answered for a while after the fault (a clean shutdown), then failed
  // clients until it was back.
  LoadReport a, b;
  a.start_ns = 0;
  a.ok_runs = {{0, 105, 1}, {180, 100, 181}};
  a.fail_runs = {{110, 5}};
  b.start_ns = 0;
  b.ok_runs = {{0, 100, 1}, {190, 50, 192}};
  b.fail_runs = {{150, 20}};  // the last failure: ms 169
  std::optional<double> r = SecondsToFirstOk({a, b}, 100 * kMs, kNever);
  ASSERT_TRUE(r);
  EXPECT_NEAR(*r, (181 - 100) / 1000.0, 1e-9) << "a's op begun in ms 180 (after ms 169)";
  // Failures after the next fault belong to it; a success must come before it.
  r = SecondsToFirstOk({b}, 100 * kMs, 140 * kMs);
  EXPECT_FALSE(r) << "b never succeeded between 100 and 140 ms";
  r = SecondsToFirstOk({a}, 100 * kMs, 112 * kMs);
  EXPECT_FALSE(r) << "failing until the next fault";
  // A cut-off in the millisecond the next fault began in is the next fault's.
  LoadReport c;
  c.start_ns = 0;
  c.ok_runs = {{0, 100, 1}, {105, 200, 106}};
  c.fail_runs = {{101, 1}, {200, 1}};
  r = SecondsToFirstOk({c}, 100 * kMs + 500'000, 200 * kMs + 300'000);
  ASSERT_TRUE(r);
  EXPECT_NEAR(*r, (106 - 100.5) / 1000.0, 1e-9);
}

}  // namespace
}  // namespace ovl::throughput
