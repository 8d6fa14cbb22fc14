#include "report/diff.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "report/report_test_util.h"

namespace ovl::report {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using testing::MakeCase;
using ::testing::Not;

class DiffTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
  }

  // Writes run `name` and returns its directory.
  std::string Run(const std::string& name, const json& results) {
    const std::string d = (dir_ / name).string();
    EXPECT_TRUE(testing::WriteRun(d, results).ok());
    return d;
  }

  // `harness diff A B`: exit code; output in out_.
  int Diff(const std::string& a, const std::string& b) {
    std::ostringstream out, err;
    const int code = DiffMain(a, b, out, err);
    out_ = out.str();
    err_ = err.str();
    return code;
  }

  static json WithCases(const std::string& id, std::vector<json> cases) {
    json r = testing::EmptyResults(id);
    for (auto& c : cases) r["cases"].push_back(std::move(c));
    return r;
  }

  // A run whose phase "mixed:reference" measured `ops_per_s`, one entry per repeat.
  static json WithPhase(const std::string& id, const std::vector<double>& ops_per_s) {
    json r = testing::EmptyResults(id);
    for (size_t i = 0; i < ops_per_s.size(); ++i) {
      r["throughput"]["phases"].push_back(
          {{"name", "mixed:reference" + (ops_per_s.size() > 1 ? "#" + std::to_string(i + 1) : "")},
           {"ops_per_s", ops_per_s[i]}});
    }
    return r;
  }

  std::filesystem::path dir_;
  std::string out_, err_;
};

TEST_F(DiffTest, NewFailureIsARegression) {
  const auto a = Run("a", WithCases("a", {MakeCase("ref", "reference", "rename", "crash", "PASS"),
                                          MakeCase("ref", "reference", "copyup", "", "XFAIL")}));
  const auto b = Run("b", WithCases("b", {MakeCase("ref", "reference", "rename", "crash", "FAIL",
                                                   "MUST handle-changed (seed 7)"),
                                          MakeCase("ref", "reference", "copyup", "", "FAIL")}));
  EXPECT_EQ(Diff(a, b), kDiffRegressed) << out_;
  EXPECT_THAT(out_, HasSubstr("New failures (2):"));
  EXPECT_THAT(out_,
              HasSubstr("ref/libnfs/rename@crash  PASS   FAIL  MUST handle-changed (seed 7)"));
  EXPECT_THAT(out_, HasSubstr("Result: REGRESSION: 2 new failure(s)"));
  // Backwards: FAIL -> PASS is a fix; FAIL -> XFAIL (a baseline was added) another change.
  EXPECT_EQ(Diff(b, a), kDiffOk) << out_;
  EXPECT_THAT(out_, HasSubstr("Fixes (1):"));
  EXPECT_THAT(out_, HasSubstr("Other verdict changes (1):"));
}

TEST_F(DiffTest, FailureOfANewCaseCountsButAMissingCaseDoesNot) {
  const auto a = Run("a", WithCases("a", {MakeCase("ref", "reference", "rename", "", "PASS")}));
  const auto b = Run("b", WithCases("b", {MakeCase("ref", "reference", "fresh", "", "FAIL")}));
  EXPECT_EQ(Diff(a, b), kDiffRegressed);
  EXPECT_THAT(out_, HasSubstr("0 cases in both runs, 1 only in A, 1 only in B"));
  EXPECT_THAT(out_, HasSubstr("ref/libnfs/fresh  -  FAIL"));
}

TEST_F(DiffTest, FlakyCasesAreNeitherNewFailuresNorFixes) {
  // Flaky within A (repeats disagree), failing in B.
  const auto a =
      Run("a", WithCases("a", {MakeCase("ref", "reference", "evict", "evict", "PASS", "", 1),
                               MakeCase("ref", "reference", "evict", "evict", "FAIL", "x", 2),
                               MakeCase("ref", "reference", "ok", "", "PASS", "", 1),
                               MakeCase("ref", "reference", "ok", "", "PASS", "", 2)}));
  const auto b =
      Run("b", WithCases("b", {MakeCase("ref", "reference", "evict", "evict", "FAIL", "y"),
                               MakeCase("ref", "reference", "ok", "", "PASS")}));
  EXPECT_EQ(Diff(a, b), kDiffOk) << out_;
  EXPECT_THAT(out_, HasSubstr("New failures (0): none"));
  EXPECT_THAT(out_, HasSubstr("Flaky (verdicts differ between repeats) (1):"));
  EXPECT_THAT(out_, HasSubstr("ref/libnfs/evict@evict  PASS FAIL  FAIL  y"));
  EXPECT_THAT(out_, HasSubstr("2 cases in both runs"));
  // And the other way round: flaky in B, so no fix either.
  EXPECT_EQ(Diff(b, a), kDiffOk);
  EXPECT_THAT(out_, HasSubstr("Fixes (0): none"));
  EXPECT_THAT(out_, HasSubstr("Flaky (verdicts differ between repeats) (1):"));
}

TEST_F(DiffTest, NewBlindControlIsARegression) {
  json b = WithCases("b", {MakeCase("ctl", "reference-volatile", "rename", "", "PASS")});
  b["blind_controls"] = {"ctl"};
  const auto ra =
      Run("a", WithCases("a", {MakeCase("ctl", "reference-volatile", "rename", "", "XFAIL")}));
  const auto rb = Run("b", b);
  EXPECT_EQ(Diff(ra, rb), kDiffRegressed);
  EXPECT_THAT(out_, HasSubstr("Negative control ctl is BLIND in B"));
  EXPECT_EQ(Diff(rb, ra), kDiffOk);
  EXPECT_THAT(out_, HasSubstr("was blind in A and catches its weakness in B"));
}

TEST_F(DiffTest, ThroughputNeedsRepeatsToBeJudged) {
  // Halved, but measured once per run: no noise estimate, no verdict, exit 0.
  EXPECT_EQ(Diff(Run("a", WithPhase("a", {200})), Run("b", WithPhase("b", {100}))), kDiffOk);
  EXPECT_THAT(out_, HasSubstr("mixed:reference  ops/s   200.0 (n=1)  100.0 (n=1)  -50.0%  "
                              "not enough repeats to judge"));
}

TEST_F(DiffTest, ThroughputBeyondThreeSigmaOfRepeatsIsARegression) {
  const auto a = Run("a", WithPhase("a", {200, 204, 196}));                        // sd 4
  EXPECT_EQ(Diff(a, Run("b", WithPhase("b", {190, 191, 189}))), kDiffOk) << out_;  // 10 < 12
  EXPECT_THAT(out_, HasSubstr("within noise (3 sd = 12.00)"));
  EXPECT_EQ(Diff(a, Run("c", WithPhase("c", {180, 181, 179}))), kDiffRegressed) << out_;
  EXPECT_THAT(out_, HasSubstr("200.0 +- 4.00 (n=3)  180.0 +- 1.00 (n=3)  -10.0%  REGRESSION"));
  EXPECT_THAT(out_, HasSubstr("1 throughput regression(s)"));
  // Repeats in one run are enough; faster is an improvement.
  EXPECT_EQ(Diff(a, Run("d", WithPhase("d", {230}))), kDiffOk);
  EXPECT_THAT(out_, HasSubstr("improvement"));
}

TEST_F(DiffTest, RepeatedScenarioCasesGiveThePhaseItsRounds) {
  // `--repeat 3`: one summed phase, and per round two cases whose ops/seconds are the round's.
  auto run = [](const std::string& id, const std::vector<double>& ops_per_round) {
    json r = testing::EmptyResults(id);
    for (size_t round = 0; round < ops_per_round.size(); ++round) {
      for (const char* scenario : {"rename", "unlink"}) {
        json c = MakeCase("ref", "reference", scenario, "", "PASS", "", round + 1);
        c["ops"] = ops_per_round[round] / 2;
        c["seconds"] = 0.5;
        r["cases"].push_back(c);
      }
    }
    r["throughput"]["phases"].push_back({{"name", "scenarios:ref"}, {"ops_per_s", 1.0}});
    return r;
  };
  EXPECT_EQ(Diff(Run("a", run("a", {200, 204, 196})), Run("b", run("b", {180, 181, 179}))),
            kDiffRegressed)
      << out_;
  EXPECT_THAT(out_, HasSubstr("scenarios:ref  ops/s   200.0 +- 4.00 (n=3)  180.0 +- 1.00 (n=3)"));
}

TEST_F(DiffTest, LatencyGrowingIsARegression) {
  auto jobs = [](const std::string& id, std::vector<double> p99) {
    json r = testing::EmptyResults(id);
    r["throughput"]["jobs"] = json::array();
    for (double v : p99) {
      r["throughput"]["jobs"].push_back(
          {{"job", "metadata-mix"}, {"server", "ref"}, {"unit", "ops/s"}, {"p99_us", v * 1000}});
    }
    return r;
  };
  EXPECT_EQ(Diff(Run("a", jobs("a", {1.0, 1.1, 0.9})), Run("b", jobs("b", {2.0, 2.1}))),
            kDiffRegressed)
      << out_;
  EXPECT_THAT(out_, HasSubstr("metadata-mix on ref  p99 ms"));
  EXPECT_EQ(Diff(Run("c", jobs("c", {2.0, 2.1})), Run("d", jobs("d", {1.0, 1.1}))), kDiffOk);
}

TEST_F(DiffTest, MeasurementsInOneRunOnlyAreListed) {
  json b = WithPhase("b", {100});
  b["throughput"]["phases"].push_back({{"name", "scenarios:new"}, {"ops_per_s", 5}});
  EXPECT_EQ(Diff(Run("a", WithPhase("a", {100})), Run("b", b)), kDiffOk);
  EXPECT_THAT(out_, HasSubstr("only in B: scenarios:new ops/s"));
}

TEST_F(DiffTest, BadInputIsExitCode2) {
  const auto good = Run("good", WithPhase("good", {1}));
  EXPECT_EQ(Diff(good, (dir_ / "missing").string()), kDiffBadInput);
  EXPECT_THAT(err_, HasSubstr("missing/results.json: cannot be read"));
  std::filesystem::create_directories(dir_ / "garbage");
  std::ofstream(dir_ / "garbage/results.json") << "{not json";
  EXPECT_EQ(Diff((dir_ / "garbage").string(), good), kDiffBadInput);
  EXPECT_THAT(err_, HasSubstr("not JSON"));
  json old = WithPhase("old", {1});
  old["schema_version"] = 0;
  EXPECT_EQ(Diff(good, Run("old", old)), kDiffBadInput);
  EXPECT_THAT(err_, HasSubstr("not schema_version 1"));
  json broken = WithPhase("broken", {1});
  broken["cases"].push_back({{"id", 5}});
  EXPECT_EQ(Diff(good, Run("broken", broken)), kDiffBadInput);
  EXPECT_THAT(err_, HasSubstr("a case without \"id\" and \"verdict\" strings"));
}

TEST_F(DiffTest, IdenticalRunsHaveNoChanges) {
  const auto a = Run("a", testing::FullResults());
  EXPECT_EQ(Diff(a, a), kDiffOk) << out_;
  EXPECT_THAT(out_, HasSubstr("Result: no regression (0 fix(es), 1 flaky case(s))"));
  EXPECT_THAT(out_, Not(HasSubstr("REGRESSION")));
}

}  // namespace
}  // namespace ovl::report
