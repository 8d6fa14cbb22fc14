#include "explore/case_doc.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ovl::explore {
namespace {

CaseDoc Doc() {
  CaseDoc d;
  d.id = "gen-1-0";
  d.summary = "a: \"quoted\" summary";
  d.layers = 2;
  d.entries = {Json{{"file", "d/a"}, {"size", 10}}, Json{{"hardlink", "d/b"}, {"to", "d/a"}},
               Json{{"file", "e/c"}, {"size", 5}, {"layer", 1}}};
  d.steps = {Json{{"op", "lookup"}, {"path", "d/a"}, {"save", "H"}},
             Json{{"op", "setattr"}, {"var", "H"}, {"mode", "0600"}},
             Json{{"fault", "crash"}},
             Json{{"op", "lookup"}, {"path", "e/c"}, {"save", "G"}, {"client", "B"}},
             Json{{"op", "read"}, {"var", "G"}, {"client", "B"}},
             Json{{"op", "readdir"}, {"path", "d"}, {"max_entries", 2}, {"save", "L"}}};
  return d;
}

TEST(CaseDocTest, ItsYamlIsACatalogueScenarioWithTheNeedsItsStepsHave) {
  const CaseDoc d = Doc();
  auto parsed = Parse(d, "gen-1-0.yaml");
  ASSERT_TRUE(parsed.ok()) << topology::FormatDiagnostics(parsed.errors());
  const scenario::Scenario& s = parsed.value();
  EXPECT_EQ(s.info.id, "gen-1-0");
  EXPECT_EQ(s.info.summary, d.summary);
  EXPECT_TRUE(s.info.faults.empty());
  EXPECT_TRUE(s.info.Needs(topology::Need::kTwoClients));
  EXPECT_TRUE(s.info.Needs(topology::Need::kRawNfs));
  EXPECT_TRUE(s.info.Needs(topology::Need::kUpper));
  ASSERT_EQ(s.steps.size(), 6u);
  EXPECT_EQ(*s.steps[1].op.mode, 0600u);  // the octal mode survives as octal
  EXPECT_TRUE(s.steps[2].is_fault);
  EXPECT_EQ(s.steps[2].fault, topology::FaultKind::kCrash);
  EXPECT_EQ(s.steps[4].client, "B");
  EXPECT_EQ(s.fixture["layers"], 2);
  EXPECT_EQ(s.fixture["entries"].size(), 3u);
  EXPECT_EQ(StepCount(d), 6u);
}

TEST(CaseDocTest, ACutDocumentLosesTheStepsAndLinksThatDependedOnWhatWasCut) {
  CaseDoc d = Doc();
  d.steps.erase(d.steps.begin() + 3);  // G's save
  d.entries.erase(d.entries.begin());  // d/a, the hard link's file
  // A step of client A using B's variable name is dangling too: variables are per client.
  d.steps.push_back(Json{{"op", "getattr"}, {"var", "G"}});
  DropDangling(&d);
  ASSERT_EQ(d.steps.size(), 4u);
  EXPECT_EQ(d.steps[2]["fault"], "crash");
  EXPECT_EQ(d.steps[3]["op"], "readdir");
  ASSERT_EQ(d.entries.size(), 1u);
  EXPECT_EQ(d.entries[0]["file"], "e/c");
  auto cut = Parse(d, "cut.yaml");
  EXPECT_TRUE(cut.ok()) << topology::FormatDiagnostics(cut.errors());
}

TEST(CaseDocTest, AnInvalidDocumentIsReportedNotRun) {
  CaseDoc d = Doc();
  d.steps = {Json{{"op", "read"}, {"var", "nowhere"}}};
  EXPECT_FALSE(Parse(d, "bad.yaml").ok());
}

}  // namespace
}  // namespace ovl::explore
