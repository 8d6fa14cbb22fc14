#include "explore/shrink.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "explore/generator.h"

namespace ovl::explore {
namespace {

// A pure model of a server with one bug: a file's handle held before the file was written
// through it (a copy-up) is STALE after any fault. The history it gives fails the rule
// stale-handle when the steps hold: lookup P save X, write var X, a fault, read or getattr
// var X, and P is a file of the fixture. Any write of more than 100 bytes also breaks a
// second rule, "data", which a shrink of the first must not drift to.
std::optional<std::string> BuggyServer(const CaseDoc& d) {
  if (!Parse(d, d.id + ".yaml").ok()) return std::nullopt;  // the runner would not run it
  std::map<std::string, std::string> held;                  // var -> path
  std::map<std::string, int> stage;                         // var -> 1 held, 2 written, 3 faulted
  for (const Json& s : d.steps) {
    if (!s.contains("op")) {  // a fault or an offline edit
      for (auto& [var, st] : stage)
        if (st == 2) st = 3;
      continue;
    }
    const std::string op = s["op"];
    const std::string var = s.value("var", std::string());
    if (op == "lookup" && s.contains("save") && s.contains("path")) {
      held[s["save"]] = s["path"];
      stage[s["save"]] = 1;
    } else if (op == "write" && stage[var] == 1) {
      stage[var] = 2;
    } else if ((op == "read" || op == "getattr") && stage[var] == 3) {
      for (const Json& e : d.entries)
        if (e.value("file", std::string()) == held[var]) return "stale-handle";
    }
  }
  for (const Json& s : d.steps)
    if (s.value("data_size", 0u) > 100) return "data";
  return std::nullopt;
}

CaseDoc Noisy() {
  CaseDoc d;
  d.id = "gen-5-1";
  d.layers = 2;
  for (int i = 0; i < 6; ++i) {
    Json e{{"file", "d/f" + std::to_string(i)}, {"size", 3000 + i}};
    if (i % 2) e["layer"] = 1;
    d.entries.push_back(e);
  }
  d.entries.push_back(Json{{"hardlink", "d/h"}, {"to", "d/f0"}});
  auto noise = [&](int n) {
    for (int i = 0; i < n; ++i)
      d.steps.push_back(Json{{"op", "lookup"}, {"path", "d/f" + std::to_string(i % 6)}});
  };
  noise(5);
  d.steps.push_back(Json{{"op", "lookup"}, {"path", "d/f3"}, {"save", "X"}, {"client", "B"}});
  noise(4);
  d.steps.push_back(
      Json{{"op", "write"}, {"var", "X"}, {"offset", 700}, {"data_size", 2000}, {"client", "B"}});
  d.steps.push_back(Json{{"fault", "crash"}});
  noise(3);
  d.steps.push_back(Json{{"fault", "reboot"}});
  d.steps.push_back(Json{{"op", "read"}, {"var", "X"}, {"client", "B"}});
  noise(6);
  return d;
}

TEST(ShrinkTest, AFailingCaseShrinksToTheStepsThatMakeItFailAndNoMore) {
  const CaseDoc failing = Noisy();
  ASSERT_EQ(BuggyServer(failing), "stale-handle");
  std::vector<std::string> ids;
  const Oracle oracle = [&](const CaseDoc& c) {
    ids.push_back(c.id);
    return BuggyServer(c);
  };
  const ShrinkResult r = Shrink(failing, "stale-handle", oracle, {});
  EXPECT_FALSE(r.stopped_early);
  EXPECT_EQ(r.rule, "stale-handle");
  EXPECT_EQ(BuggyServer(r.smallest), "stale-handle");
  EXPECT_EQ(r.smallest.id, "gen-5-1-min");
  EXPECT_EQ(r.candidates, ids.size());
  EXPECT_EQ(ids.front(), "gen-5-1-s1");
  // lookup, write, one fault, read: each needed, and simplified as far as it goes.
  ASSERT_EQ(r.smallest.steps.size(), 4u) << ToYaml(r.smallest);
  EXPECT_EQ(r.smallest.steps[1]["data_size"], 1u);
  EXPECT_EQ(r.smallest.steps[1]["offset"], 0u);
  EXPECT_EQ(r.smallest.steps[2]["fault"], "evict");
  for (const Json& s : r.smallest.steps) EXPECT_FALSE(s.contains("client"));
  EXPECT_EQ(r.smallest.layers, 1);
  ASSERT_EQ(r.smallest.entries.size(), 1u);
  EXPECT_EQ(r.smallest.entries[0]["size"], 0u);
  EXPECT_TRUE(Parse(r.smallest, "min.yaml").ok());
}

// A candidate that fails by another rule is not kept: cutting the read leaves a write of 2000
// bytes, which fails "data", but the shrink keeps what fails stale-handle.
TEST(ShrinkTest, ACandidateFailingAnotherRuleIsNotKept) {
  uint64_t other = 0;
  const Oracle oracle = [&](const CaseDoc& c) {
    std::optional<std::string> rule = BuggyServer(c);
    if (rule == "data") ++other;
    return rule;
  };
  const ShrinkResult r = Shrink(Noisy(), "stale-handle", oracle, {});
  EXPECT_GT(other, 0u);
  EXPECT_EQ(BuggyServer(r.smallest), "stale-handle");
}

TEST(ShrinkTest, TheBudgetStopsItEarlyAndItSaysSo) {
  const Oracle oracle = [](const CaseDoc& c) { return BuggyServer(c); };
  ShrinkLimits limits;
  limits.max_candidates = 3;
  const ShrinkResult r = Shrink(Noisy(), "stale-handle", oracle, limits);
  EXPECT_TRUE(r.stopped_early);
  EXPECT_EQ(r.candidates, 3u);
  EXPECT_EQ(BuggyServer(r.smallest), "stale-handle");
}

// A generated case with the bug's pattern shrinks the same way.
TEST(ShrinkTest, AGeneratedFailingCaseShrinksToAtMostFourSteps) {
  const Oracle oracle = [](const CaseDoc& c) { return BuggyServer(c); };
  GeneratorOptions o;
  int shrunk = 0;
  for (uint64_t i = 0; i < 40 && shrunk < 3; ++i) {
    const CaseDoc d = GenerateCase(o, 21, i);
    if (BuggyServer(d) != "stale-handle") continue;
    const ShrinkResult r = Shrink(d, "stale-handle", oracle, {});
    EXPECT_LE(r.smallest.steps.size(), 4u) << ToYaml(r.smallest);
    EXPECT_EQ(BuggyServer(r.smallest), "stale-handle");
    ++shrunk;
  }
  EXPECT_EQ(shrunk, 3);
}

}  // namespace
}  // namespace ovl::explore
