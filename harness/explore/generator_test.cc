#include "explore/generator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ovl::explore {
namespace {

bool Has(const CaseDoc& d, const std::string& key, const std::string& value) {
  for (const Json& s : d.steps)
    if (s.contains(key) && s[key] == value) return true;
  return false;
}

TEST(GeneratorTest, TheSameSeedAndIndexGiveTheSameCaseAndOthersDiffer) {
  const GeneratorOptions o;
  EXPECT_EQ(ToYaml(GenerateCase(o, 7, 3)), ToYaml(GenerateCase(o, 7, 3)));
  EXPECT_NE(ToYaml(GenerateCase(o, 7, 3)), ToYaml(GenerateCase(o, 7, 4)));
  EXPECT_NE(ToYaml(GenerateCase(o, 8, 3)), ToYaml(GenerateCase(o, 7, 3)));
  EXPECT_EQ(GenerateCase(o, 7, 3).id, "gen-7-3");
}

// Every case of many seeds is a scenario the catalogue's parser accepts, and over them the
// generator draws every kind of step it is meant to.
TEST(GeneratorTest, EveryGeneratedCaseParsesAndTheRunCoversTheHandleBreakingSteps) {
  const GeneratorOptions o;
  std::map<std::string, int> seen;
  for (uint64_t i = 0; i < 300; ++i) {
    const CaseDoc d = GenerateCase(o, 11, i);
    auto parsed = Parse(d, d.id + ".yaml");
    ASSERT_TRUE(parsed.ok()) << topology::FormatDiagnostics(parsed.errors()) << ToYaml(d);
    EXPECT_GE(d.steps.size(), o.steps / 2);
    for (const Json& s : d.steps) {
      if (s.contains("fault")) seen["fault:" + s["fault"].get<std::string>()]++;
      if (s.contains("op")) seen[s["op"].get<std::string>()]++;
      if (s.contains("offline")) seen["offline:" + s["offline"].get<std::string>()]++;
      if (s.contains("resume")) seen["resume"]++;
      if (s.contains("client")) seen["client"]++;
      if (s.contains("repeat")) seen["repeat"]++;
      if (s.contains("sweep")) seen["sweep"]++;
      if (s.value("how", "") == "exclusive") seen["exclusive"]++;
      if (s.value("stable", "") == "unstable") seen["unstable"]++;
      if (s.contains("var")) seen["var"]++;
    }
    for (const Json& e : d.entries)
      if (e.contains("hardlink")) seen["hardlink"]++;
  }
  for (const char* k : {"lookup",
                        "getattr",
                        "read",
                        "write",
                        "setattr",
                        "rename",
                        "link",
                        "remove",
                        "create",
                        "mkdir",
                        "rmdir",
                        "readdir",
                        "fault:evict",
                        "fault:reboot",
                        "fault:crash",
                        "offline:copy-up-unindexed",
                        "offline:rename-lower",
                        "offline:remove-lower",
                        "offline:link-lower",
                        "resume",
                        "sweep",
                        "client",
                        "var",
                        "hardlink"}) {
    EXPECT_GT(seen[k], 0) << k;
  }
}

TEST(GeneratorTest, OptionsNarrowWhatIsDrawn) {
  GeneratorOptions o;
  o.two_clients = false;
  o.raw_nfs = false;
  o.faults = {topology::FaultKind::kEvict};
  o.offline_percent = 0;
  for (uint64_t i = 0; i < 50; ++i) {
    const CaseDoc d = GenerateCase(o, 3, i);
    EXPECT_FALSE(Has(d, "client", "B"));
    EXPECT_FALSE(Has(d, "fault", "crash"));
    EXPECT_FALSE(Has(d, "fault", "reboot"));
    for (const Json& s : d.steps) {
      EXPECT_FALSE(s.contains("resume"));
      EXPECT_FALSE(s.contains("verifier"));
      EXPECT_FALSE(s.contains("offline"));
    }
  }
}

}  // namespace
}  // namespace ovl::explore
