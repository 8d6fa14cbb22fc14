#include "topology/catalogue.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace ovl::topology {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> Strings(const Diagnostics& diagnostics) {
  std::vector<std::string> out;
  for (const Diagnostic& d : diagnostics) out.push_back(d.ToString());
  return out;
}

TEST(ScenarioHeaderTest, ReadsHeaderAndIgnoresRunnerKeys) {
  Checked<ScenarioInfo> info = ParseScenarioHeader(
      "id: x\nsummary: s\nfaults: [evict, crash]\nneeds: [power-loss]\n"
      "fixture: {files: 3}\nsteps:\n  - op: lookup\n",
      "x.yaml", "x");
  ASSERT_TRUE(info.ok()) << FormatDiagnostics(info.errors());
  EXPECT_EQ(info->id, "x");
  EXPECT_EQ(info->summary, "s");
  EXPECT_THAT(info->faults, ElementsAre(FaultKind::kEvict, FaultKind::kCrash));
  EXPECT_TRUE(info->Needs(Need::kPowerLoss));
  EXPECT_FALSE(info->Needs(Need::kTwoClients));
}

TEST(ScenarioHeaderTest, ReportsEveryProblem) {
  Checked<ScenarioInfo> info = ParseScenarioHeader(
      "id: y\nfaults: [evict, explode, evict]\nneeds: [gpu]\ncolour: red\n", "x.yaml", "x");
  ASSERT_FALSE(info.ok());
  EXPECT_THAT(
      Strings(info.errors()),
      ElementsAre(
          "x.yaml:1:1: summary: missing required key",
          "x.yaml:1:5: id: id 'y' does not match the file name 'x.yaml'",
          "x.yaml:2:17: faults[1]: unknown fault kind 'explode' (expected one of: crash, reboot, "
          "evict, client-evict)",
          "x.yaml:2:26: faults[2]: listed twice",
          "x.yaml:3:9: needs[0]: unknown need 'gpu' (expected one of: power-loss, two-clients, "
          "raw-nfs, server-handles)",
          "x.yaml:4:1: colour: unknown key (expected one of: id, summary, faults, needs, fixture, "
          "steps)"));
}

TEST(LoadCatalogueTest, ReadsScenariosAndFixtureNames) {
  std::filesystem::path dir = std::filesystem::path(testing::TempDir()) / "catalogue_test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "scenarios");
  std::filesystem::create_directories(dir / "fixtures");
  std::ofstream(dir / "scenarios" / "b.yaml") << "id: b\nsummary: B\nfaults: []\n";
  std::ofstream(dir / "scenarios" / "a.yaml") << "id: a\nsummary: A\nfaults: [reboot]\n";
  std::ofstream(dir / "scenarios" / "README.md") << "not a scenario";
  std::ofstream(dir / "fixtures" / "small.yaml") << "files: 1\n";
  Checked<Catalogue> c = LoadCatalogue(dir);
  ASSERT_TRUE(c.ok()) << FormatDiagnostics(c.errors());
  ASSERT_EQ(c->scenarios.size(), 2u);
  EXPECT_EQ(c->scenarios[0].id, "a");
  EXPECT_EQ(c->scenarios[1].id, "b");
  EXPECT_EQ(c->scenarios[0].file, dir / "scenarios" / "a.yaml");
  EXPECT_THAT(c->fixtures, ElementsAre("small"));
  EXPECT_EQ(c->JoinIds(), "a, b");
}

TEST(LoadCatalogueTest, CollectsErrorsOfAllFiles) {
  std::filesystem::path dir = std::filesystem::path(testing::TempDir()) / "catalogue_bad";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "scenarios");
  std::ofstream(dir / "scenarios" / "a.yaml") << "id: a\nfaults: []\n";
  std::ofstream(dir / "scenarios" / "b.yaml") << "id: b\nsummary: [\n";
  Checked<Catalogue> c = LoadCatalogue(dir);
  ASSERT_FALSE(c.ok());
  ASSERT_EQ(c.errors().size(), 2u);
  EXPECT_THAT(c.errors()[0].ToString(), HasSubstr("a.yaml:1:1: summary: missing required key"));
  EXPECT_THAT(c.errors()[1].file, HasSubstr("b.yaml"));
}

TEST(LoadCatalogueTest, MissingDirectoryIsAnError) {
  Checked<Catalogue> c = LoadCatalogue("/nonexistent/workloads");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.errors()[0].message, HasSubstr("cannot read /nonexistent/workloads/scenarios"));
}

// The shipped catalogue: every scenario of docs/design.md, "Scenario catalogue", with the expansion
// and needs the plan relies on.
TEST(ShippedCatalogueTest, HasTheDesignScenarios) {
  Checked<Catalogue> c = LoadCatalogue(std::filesystem::path(OVL_SOURCE_DIR) / "workloads");
  ASSERT_TRUE(c.ok()) << FormatDiagnostics(c.errors());
  std::vector<std::string> ids;
  for (const ScenarioInfo& s : c->scenarios) ids.push_back(s.id);
  EXPECT_THAT(ids, ElementsAre("commit-durability", "copyup-keeps-handle", "crash-during-copyup",
                               "dir-handles", "exclusive-create-replay", "inode-reuse",
                               "lower-hardlinks-copyup", "malformed-handles", "move-to-new-parent",
                               "namespace-durability", "readdir-cookies", "rename-file",
                               "rename-grandparent", "rename-parent", "seed-unlink-reboot",
                               "two-clients", "unlink-all", "upper-only"));
  EXPECT_TRUE(c->Find("commit-durability")->Needs(Need::kPowerLoss));
  EXPECT_TRUE(c->Find("namespace-durability")->Needs(Need::kPowerLoss));
  EXPECT_TRUE(c->Find("two-clients")->Needs(Need::kTwoClients));
  EXPECT_THAT(c->Find("rename-parent")->faults,
              ElementsAre(FaultKind::kEvict, FaultKind::kReboot, FaultKind::kCrash));
  EXPECT_TRUE(c->Find("lower-hardlinks-copyup")->faults.empty());
}

}  // namespace
}  // namespace ovl::topology
