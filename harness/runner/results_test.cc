#include "runner/results.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "runner/judge.h"
#include "runner/verdict.h"

namespace ovl::runner {
namespace {

// A case of `server`; servers named "ctl..." are negative controls (expect: fail).
CaseReport Case(const std::string& server, const std::string& scenario, Verdict v) {
  CaseReport c;
  c.id = server + "/libnfs/" + scenario;
  c.server = server;
  c.expect = server.rfind("ctl", 0) == 0 ? "fail" : "pass";
  c.scenario = scenario;
  c.verdict = v;
  c.explanation = "x <y> & \"z\"";
  return c;
}

TEST(VerdictTest, NegativeControlsFailSomewhereNotEverywhere) {
  EXPECT_EQ(Decide(true, topology::Expect::kPass, Known::kNo), Verdict::kFail);
  EXPECT_EQ(Decide(false, topology::Expect::kPass, Known::kNo), Verdict::kPass);
  EXPECT_EQ(Decide(true, topology::Expect::kFail, Known::kNo), Verdict::kXFail);
  EXPECT_EQ(Decide(false, topology::Expect::kFail, Known::kNo), Verdict::kPass);
  EXPECT_EQ(Decide(true, topology::Expect::kPass, Known::kAlways), Verdict::kXFail);
  EXPECT_EQ(Decide(false, topology::Expect::kPass, Known::kAlways), Verdict::kXPass);
  // A failure that needs a fault to fall in a window: a run that missed the window passes.
  EXPECT_EQ(Decide(true, topology::Expect::kPass, Known::kSometimes), Verdict::kXFail);
  EXPECT_EQ(Decide(false, topology::Expect::kPass, Known::kSometimes), Verdict::kPass);
  std::vector<CaseReport> cases = {Case("ref", "a", Verdict::kPass),
                                   Case("ctl", "a", Verdict::kPass)};
  EXPECT_EQ(BlindControls(cases), std::vector<std::string>{"ctl"});
  EXPECT_EQ(ExitCode(cases, BlindControls(cases)), 1);
  cases.push_back(Case("ctl", "b", Verdict::kXFail));
  EXPECT_TRUE(BlindControls(cases).empty());
  EXPECT_EQ(ExitCode(cases, {}), 0);
  cases.push_back(Case("ref", "c", Verdict::kUnresolved));
  EXPECT_EQ(ExitCode(cases, {}), 3);
  cases.push_back(Case("ref", "d", Verdict::kFail));
  EXPECT_EQ(ExitCode(cases, {}), 1);
}

TEST(ResultsTest, JsonRoundTripAndJunitEscaping) {
  RunSummary run;
  run.run_id = "r";
  run.topology = "t";
  run.seed = 9;
  run.cases = {Case("ref", "a", Verdict::kFail), Case("ref", "b", Verdict::kUnsupported)};
  run.cases[0].kernel_lines = {"[ 1.0] overlayfs: x"};
  run.cases[0].kernel_lines_total = 3;
  run.phases = {{"scenarios:ref", 10, 4096, 2.0}};
  auto back = SummaryFromJson(ResultsJson(run));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->cases.size(), 2u);
  EXPECT_EQ(back->cases[0].verdict, Verdict::kFail);
  EXPECT_EQ(back->cases[0].kernel_lines, run.cases[0].kernel_lines);
  EXPECT_EQ(back->cases[0].kernel_lines_total, 3u);
  EXPECT_EQ(ResultsJson(*back), ResultsJson(run));
  EXPECT_EQ(ResultsJson(run)["throughput"]["phases"][0]["ops_per_s"], 5.0);
  std::string x = JunitXml(run);
  EXPECT_NE(x.find("<failure message=\"FAIL: x &lt;y&gt; &amp; &quot;z&quot;\""),
            std::string::npos);
  EXPECT_NE(x.find("<skipped"), std::string::npos);
  EXPECT_EQ(x.find("<y>"), std::string::npos);
  std::ostringstream table;
  PrintVerdictTable(run, table);
  EXPECT_NE(table.str().find("FAIL 1/1"), std::string::npos);
  EXPECT_EQ(SummaryFromJson(nlohmann::json::object()).status().code(), EINVAL);
}

TEST(ResultsTest, SweepCountsRoundTrip) {
  model::CaseVerdict v;
  v.sweep.sent = 5;
  v.sweep.outcomes = {{"BADHANDLE", 3}, {"same-object", 1}, {"wrong-object", 1}};
  v.sweep.violations = 1;
  RunSummary run;
  run.cases = {Case("ref", "sweep", Verdict::kFail), Case("ref", "plain", Verdict::kPass)};
  ApplyJudgement(run.cases[0], FromModel(v), workload::Baselines{});
  ApplyJudgement(run.cases[1], FromModel(model::CaseVerdict{}), workload::Baselines{});
  nlohmann::json j = ResultsJson(run);
  EXPECT_EQ(j["cases"][0]["sweep"],
            nlohmann::json::parse(R"({"sent": 5, "violations": 1, "outcomes":
                {"BADHANDLE": 3, "same-object": 1, "wrong-object": 1}})"));
  EXPECT_TRUE(j["cases"][1]["sweep"].is_null());
  auto back = SummaryFromJson(j);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(ResultsJson(*back), j);
  j["cases"][0].erase("sweep");  // written before the sweep existed
  back = SummaryFromJson(j);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(back->cases[0].sweep.is_null());
}

TEST(ResultsTest, ThroughputJobsTimelineAndRecoveryRoundTrip) {
  RunSummary run;
  run.run_id = "r";
  run.jobs.resize(2);
  run.jobs[0] = {.job = "seq-read",
                 .variant = "reference",
                 .server = "ref",
                 .unit = "MB/s",
                 .clients = 2,
                 .ops = 100,
                 .bytes = 104857600,
                 .seconds = 2.0,
                 .ops_per_s = 50,
                 .mb_per_s = 52.4,
                 .p50_us = 900,
                 .p99_us = 2100,
                 .error = "",
                 .engine = "fio",
                 .by_op = {{"read", {100, 0, 900, 2100}}}};
  run.jobs[1].job = "seq-read";
  run.jobs[1].variant = "ganesha";
  run.jobs[1].server = "g";
  run.jobs[1].unit = "MB/s";
  run.jobs[1].clients = 2;
  run.jobs[1].error = "setup: boom";
  run.timeline = {{"ref", "metadata-mix@faults", 0.1, 2000}};
  run.recovery = {
      {"ref", "reference", "metadata-mix@faults", "crash", 1.5, 0.2, 0.25, ""},
      {"ref", "reference", "metadata-mix@faults", "reboot", 3.0, 0.3, std::nullopt, ""}};
  nlohmann::json j = ResultsJson(run);
  const nlohmann::json& t = j["throughput"];
  EXPECT_EQ(t["jobs"][0]["mb_per_s"], 52.4);
  EXPECT_EQ(t["jobs"][0]["p99_us"], 2100);
  EXPECT_FALSE(t["jobs"][0].contains("error"));
  EXPECT_EQ(t["jobs"][1]["error"], "setup: boom");
  EXPECT_EQ(t["jobs"][0]["engine"], "fio");
  EXPECT_EQ(t["jobs"][0]["by_op"]["read"]["p99_us"], 2100);
  EXPECT_FALSE(t["jobs"][1].contains("by_op"));
  EXPECT_EQ(t["timeline"][0]["job"], "metadata-mix@faults");
  EXPECT_EQ(t["recovery"][0]["seconds_to_first_ok"], 0.25);
  EXPECT_TRUE(t["recovery"][1]["seconds_to_first_ok"].is_null());
  auto back = SummaryFromJson(j);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(ResultsJson(*back), j);

  // Results written before these keys existed still read.
  j["throughput"] = {{"phases", nlohmann::json::array()}};
  back = SummaryFromJson(j);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(back->jobs.empty());
  EXPECT_TRUE(back->recovery.empty());
}

}  // namespace
}  // namespace ovl::runner
