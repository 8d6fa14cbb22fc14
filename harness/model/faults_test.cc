// Unknown outcomes fork the model; the verdict machinery: UNRESOLVED for infrastructure
// trouble, failed checks, advisory steps, findings limits, reading a history file.
#include <gtest/gtest.h>

#include <fstream>

#include "base/temp_dir_for_test.h"
#include "model/model_test_util.h"
#include "ops/history_file.h"

namespace ovl::model::testing {
namespace {

using nlohmann::json;

const json kFile = {{"entries", {{{"file", "a"}, {"size", 10}}}}};

TEST(FaultsTest, AnOperationCutOffByACrashMayHaveHappenedOrNot) {
  for (bool happened : {false, true}) {
    History h(kFile);
    h.Do(Lookup("a", "H"), WithHandle("ha"));
    const uint64_t seq = h.Invoke(Remove("a"));
    h.Fault("crash").Complete(seq, Unknown());
    if (happened) {
      h.Do(GetAttr(V("H")), Err("STALE")).Do(Lookup("a"), Err("NOENT"));
    } else {
      h.Do(GetAttr(V("H")), WithAttrs("reg", 10, 3, 1)).Do(Lookup("a"), WithHandle("ha"));
    }
    CaseVerdict v = JudgeOne(h.End());
    EXPECT_EQ(v.verdict, Verdict::kPass) << happened << "\n" << Dump(v);
    EXPECT_EQ(v.max_candidates, 2u);
  }
}

TEST(FaultsTest, LaterResultsMustAgreeWithTheOneCandidateLeft) {
  History h(kFile);
  h.Do(Lookup("a", "H"), WithHandle("ha"));
  const uint64_t seq = h.Invoke(Remove("a"));
  h.Fault("crash")
      .Complete(seq, Unknown())
      .Do(Lookup("a"), WithHandle("ha"))   // it did not happen...
      .Do(GetAttr(V("H")), Err("STALE"));  // ...so H must still work
  CaseVerdict v = JudgeOne(h.End());
  EXPECT_EQ(v.verdict, Verdict::kFail) << Dump(v);
}

TEST(FaultsTest, RetransmissionAfterARestartMayReportItsOwnEffect) {
  History h(kFile);
  const uint64_t seq = h.Invoke(Remove("a"));
  h.Fault("reboot").Complete(seq, Err("NOENT")).Do(Lookup("a"), Err("NOENT"));
  CaseVerdict v = JudgeOne(h.End());
  EXPECT_EQ(v.verdict, Verdict::kPass) << Dump(v);

  History no_restart(kFile);
  no_restart.Do(Remove("a"), Err("NOENT"));
  EXPECT_EQ(JudgeOne(no_restart.End()).verdict, Verdict::kFail);
}

TEST(FaultsTest, OpsDuringARestartOrOnAStaleConnectionMayGoUnanswered) {
  History during(kFile);
  during.Do(Lookup("a", "H"), WithHandle("ha"))
      .Fault("crash", true, /*lasting=*/3)
      .Do(GetAttr(V("H")), WithAttrs("reg", 10, 3, 1))  // answered before the kill
      .Do(GetAttr(V("H")), Unknown())                   // sent while the server was down
      .Do(GetAttr(V("H")), WithAttrs("reg", 10, 3, 1));
  CaseVerdict v = JudgeOne(during.End());
  EXPECT_EQ(v.verdict, Verdict::kPass) << Dump(v);

  History stale(kFile);
  stale.Do(Lookup("a", "H"), WithHandle("ha"))
      .Do(As(GetAttr(P("a")), "B"), WithAttrs("reg", 10, 3, 1))
      .Fault("reboot")
      .Do(GetAttr(V("H")), Unknown())  // each client's first op after the restart
      .Do(As(GetAttr(P("a")), "B"), Unknown());
  v = JudgeOne(stale.End());
  EXPECT_EQ(v.verdict, Verdict::kPass) << Dump(v);

  stale.Do(GetAttr(V("H")), Unknown());  // the second one has no excuse
  v = JudgeOne(stale.End());
  EXPECT_EQ(v.verdict, Verdict::kFail) << Dump(v);
  EXPECT_TRUE(Has(v, "no-answer")) << Dump(v);
}

TEST(FaultsTest, TooManyUnknownOutcomesAreUnresolved) {
  History h({});
  for (int i = 0; i < 8; ++i) {
    const uint64_t seq = h.Invoke(Create("f" + std::to_string(i)));
    h.Fault("crash").Complete(seq, Unknown());
  }
  JudgeOptions options;
  options.max_candidates = 16;
  CaseVerdict v = JudgeOne(h.End(), options);
  EXPECT_EQ(v.verdict, Verdict::kUnresolved) << Dump(v);
  EXPECT_NE(v.reason.find("possible states"), std::string::npos);
}

TEST(FaultsTest, DisjointClientsForkSeparately) {
  const json fixture = {{"entries", {{{"dir", "c1"}}, {{"dir", "c2"}}}}};
  History h(fixture, /*disjoint_clients=*/true);
  for (int i = 0; i < 6; ++i) {
    const uint64_t s1 = h.Invoke(As(Create("c1/f" + std::to_string(i)), "c1"));
    const uint64_t s2 = h.Invoke(As(Create("c2/f" + std::to_string(i)), "c2"));
    h.Fault("crash").Complete(s1, Unknown()).Complete(s2, Unknown());
  }
  JudgeOptions options;
  options.max_candidates = 64;
  CaseVerdict v = JudgeOne(h.End(), options);
  EXPECT_EQ(v.verdict, Verdict::kPass) << Dump(v);  // 2^6 per client, not 2^12 together
  EXPECT_EQ(v.max_candidates, 64u);
}

TEST(FaultsTest, InfrastructureTroubleIsUnresolvedNeverPass) {
  History h(kFile);
  h.Do(Lookup("a"), WithHandle("ha"));
  EXPECT_EQ(JudgeOne(h.End("unresolved")).verdict, Verdict::kUnresolved);
  EXPECT_EQ(JudgeOne(h.events()).verdict, Verdict::kUnresolved);  // no end event
  History failed_fault(kFile);
  failed_fault.Fault("crash", /*ok=*/false);
  CaseVerdict v = JudgeOne(failed_fault.End());
  EXPECT_EQ(v.verdict, Verdict::kUnresolved);
  EXPECT_NE(v.reason.find("could not be injected"), std::string::npos);

  std::vector<ops::Event> orphan = h.End();
  orphan.erase(orphan.begin());
  EXPECT_EQ(JudgeOne(orphan).verdict, Verdict::kUnresolved);
}

TEST(FaultsTest, FailedCheckEventFails) {
  History h(kFile);
  h.Check("lower-unchanged", false, "lower layer changed: l0/a: content");
  CaseVerdict v = JudgeOne(h.End());
  EXPECT_EQ(v.verdict, Verdict::kFail);
  EXPECT_TRUE(Has(v, "check:lower-unchanged"));
  History ok(kFile);
  ok.Check("lower-unchanged", true, "");
  EXPECT_EQ(JudgeOne(ok.End()).verdict, Verdict::kPass);
}

TEST(FaultsTest, AdvisoryStepsReportInsteadOfFailing) {
  History h(kFile);
  ops::Op lookup = Lookup("zz");
  lookup.may = true;
  h.Do(lookup, WithHandle("hz"));
  CaseVerdict v = JudgeOne(h.End());
  EXPECT_EQ(v.verdict, Verdict::kPass) << Dump(v);
  EXPECT_TRUE(Has(v, "noent", /*must=*/false)) << Dump(v);
}

TEST(FaultsTest, FindingsAreCappedAndFormatted) {
  History h(kFile);
  for (int i = 0; i < 5; ++i) h.Do(Read(P("a")), WithData("wrong"));
  JudgeOptions options;
  options.max_findings = 2;
  CaseVerdict v = JudgeOne(h.End(), options);
  EXPECT_EQ(v.findings.size(), 2u);
  EXPECT_EQ(v.findings_dropped, 3u);
  const std::string line = FormatFinding(v.findings.front());
  EXPECT_NE(line.find("MUST data: seq 1 client A read path=\"a\""), std::string::npos) << line;
  EXPECT_NE(line.find("(seed 7)"), std::string::npos) << line;
  EXPECT_EQ(v.reason, line);
}

TEST(FaultsTest, JudgesAHistoryFile) {
  TempDir dir;
  const std::string path = dir.path() + "/history.jsonl";
  {
    ops::HistoryWriter w(path);
    History h(kFile);
    h.Do(Lookup("a", "H"), WithHandle("ha")).Do(Read(V("H")), WithData(FileData("a", 10)));
    for (const ops::Event& e : h.End()) ASSERT_TRUE(w.Append(e).ok());
  }
  std::string error;
  std::optional<std::vector<ops::Event>> history = ops::ReadHistory(path, &error);
  ASSERT_TRUE(history) << error;
  std::vector<CaseVerdict> v = Judge(*history);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].verdict, Verdict::kPass) << Dump(v[0]);
  EXPECT_EQ(v[0].scenario, "test");
  { std::ofstream(path, std::ios::app) << "{broken\n"; }
  EXPECT_FALSE(ops::ReadHistory(path, &error));
  EXPECT_NE(error.find("history.jsonl:7:"), std::string::npos) << error;
}

}  // namespace
}  // namespace ovl::model::testing
