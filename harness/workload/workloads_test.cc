#include "workload/workloads.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace ovl::workload {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const fs::path kSource = OVL_SOURCE_DIR;

std::vector<std::string> Strings(const topology::Diagnostics& diagnostics) {
  std::vector<std::string> out;
  for (const topology::Diagnostic& d : diagnostics) out.push_back(d.ToString());
  return out;
}

// A workloads directory under the test's temp dir: the shipped throughput jobs, the given
// scenario files, and baselines/.
class WorkloadsDir : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::path(::testing::TempDir()) /
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(root_);
    fs::create_directories(root_ / "w" / "scenarios");
    fs::create_directories(root_ / "b");
    fs::copy(kSource / "workloads" / "throughput", root_ / "w" / "throughput");
  }
  void TearDown() override { fs::remove_all(root_); }

  void Write(const fs::path& rel, const std::string& text) {
    fs::create_directories((root_ / rel).parent_path());
    std::ofstream(root_ / rel) << text;
  }
  std::string Path(const fs::path& rel) const { return (root_ / rel).string(); }
  topology::Checked<Workloads> Load() const { return LoadWorkloads({root_ / "w", root_ / "b"}); }

  fs::path root_;
};

constexpr char kGood[] =
    "id: a\nsummary: A\nfaults: [reboot]\nsteps:\n  - {op: lookup, path: f, save: H}\n";

TEST(ShippedWorkloadsTest, LoadWithoutErrors) {
  auto w = LoadWorkloads({kSource / "workloads", kSource / "baselines"});
  ASSERT_TRUE(w.ok()) << topology::FormatDiagnostics(w.errors());
  ASSERT_EQ(w->scenarios.size(), w->catalogue.scenarios.size());
  for (size_t i = 0; i < w->scenarios.size(); ++i) {
    EXPECT_EQ(w->scenarios[i].info.id, w->catalogue.scenarios[i].id);
    EXPECT_FALSE(w->scenarios[i].steps.empty()) << w->scenarios[i].info.id;
  }
  EXPECT_NE(w->FindScenario("rename-file"), nullptr);
  EXPECT_EQ(w->FindScenario("no-such"), nullptr);
  EXPECT_FALSE(w->jobs.jobs.empty());
  EXPECT_FALSE(w->baselines.entries().empty());
}

// The shipped catalogue: every scenario of docs/design.md, "Scenario catalogue", with the expansion
// and needs the plan relies on.
TEST(ShippedWorkloadsTest, HasTheDesignScenarios) {
  auto w = LoadWorkloads({kSource / "workloads", kSource / "baselines"});
  ASSERT_TRUE(w.ok()) << topology::FormatDiagnostics(w.errors());
  const topology::Catalogue* c = &w->catalogue;
  std::vector<std::string> ids;
  for (const topology::ScenarioInfo& s : c->scenarios) ids.push_back(s.id);
  EXPECT_THAT(
      ids,
      ElementsAre("commit-durability", "copyup-keeps-handle", "crash-during-copyup", "dir-handles",
                  "exclusive-create-replay", "inode-reuse", "late-nfs-export", "lookup-parent",
                  "lower-hardlinks-copyup", "lower-layers-handles", "malformed-handles",
                  "merged-lower-dirs", "move-to-new-parent", "namespace-durability",
                  "offline-copy-layers", "offline-link-lower", "offline-remove-lower-dir",
                  "offline-remove-upper", "offline-rename-lower-dir", "offline-swap-lower-dirs",
                  "open-across-restart", "open-removed-elsewhere", "open-unlinked",
                  "readdir-after-changes", "readdir-cookies", "remove-lower-held", "rename-file",
                  "rename-grandparent", "rename-parent", "seed-unlink-reboot", "sweep-copied-up",
                  "sweep-lower-dir", "sweep-removed-file", "sweep-upper-only", "two-clients",
                  "unlink-all", "upper-only"));
  EXPECT_TRUE(c->Find("commit-durability")->Needs(topology::Need::kPowerLoss));
  EXPECT_TRUE(c->Find("open-unlinked")->Needs(topology::Need::kOpenFiles));
  EXPECT_TRUE(c->Find("open-removed-elsewhere")->Needs(topology::Need::kOpenState));
  EXPECT_TRUE(c->Find("namespace-durability")->Needs(topology::Need::kPowerLoss));
  EXPECT_TRUE(c->Find("two-clients")->Needs(topology::Need::kTwoClients));
  EXPECT_THAT(c->Find("rename-parent")->faults,
              ElementsAre(topology::FaultKind::kEvict, topology::FaultKind::kReboot,
                          topology::FaultKind::kCrash));
  EXPECT_TRUE(c->Find("lower-hardlinks-copyup")->faults.empty());
  // `upper` follows from the steps: any change needs it, read-only scenarios run without it.
  EXPECT_TRUE(c->Find("rename-parent")->Needs(topology::Need::kUpper));
  EXPECT_FALSE(c->Find("lower-layers-handles")->Needs(topology::Need::kUpper));
  EXPECT_FALSE(c->Find("merged-lower-dirs")->Needs(topology::Need::kUpper));
}

TEST_F(WorkloadsDir, ReadsScenariosAndFixtureNames) {
  Write("w/scenarios/b.yaml", "id: b\nsummary: B\nfaults: []\nsteps:\n  - {op: getattr}\n");
  Write("w/scenarios/a.yaml", kGood);
  Write("w/scenarios/README.md", "not a scenario");
  Write("w/fixtures/small.yaml", "files: 1\n");
  auto w = Load();
  ASSERT_TRUE(w.ok()) << topology::FormatDiagnostics(w.errors());
  ASSERT_EQ(w->catalogue.scenarios.size(), 2u);
  EXPECT_EQ(w->catalogue.scenarios[0].id, "a");
  EXPECT_EQ(w->catalogue.scenarios[1].id, "b");
  EXPECT_EQ(w->catalogue.scenarios[0].file, Path("w/scenarios/a.yaml"));
  EXPECT_THAT(w->catalogue.fixtures, ElementsAre("small"));
  EXPECT_EQ(w->catalogue.JoinIds(), "a, b");
  EXPECT_EQ(w->FindScenario("a")->steps.size(), 1u);
}

// The case the parse-once design exists for: a bad step, a bad job and a bad baseline line are
// all reported together, each where it is written, before anything runs.
TEST_F(WorkloadsDir, ABadStepJobAndBaselineAreAllReported) {
  Write("w/scenarios/a.yaml", kGood);
  Write("w/scenarios/c.yaml",
        "id: c\nsummary: C\nfaults: []\nsteps:\n  - {op: lookup, path: f, save: H}\n"
        "  - {op: comit, var: H}\n");
  Write("w/throughput/seq-read.yaml", "job: seq-read\nsummary: s\nunit: MB/s\npattern: sideways\n");
  Write("b/reference.txt", "a@crash: fine\nrenam-file: a typo\n");
  auto w = Load();
  ASSERT_FALSE(w.ok());
  std::vector<std::string> errors = Strings(w.errors());
  EXPECT_THAT(errors, ::testing::Contains(HasSubstr(Path("w/scenarios/c.yaml") +
                                                    ":6:10: steps[1].op: needs op: one of")));
  EXPECT_THAT(errors, ::testing::Contains(HasSubstr(Path("w/throughput/seq-read.yaml") +
                                                    ":4:10: pattern: unknown")));
  EXPECT_THAT(errors, ::testing::Contains(Path("b/reference.txt") +
                                          ":2:1: no scenario is named 'renam-file'"));
}

TEST_F(WorkloadsDir, BaselinesNameKnownVariantsAndFaults) {
  Write("w/scenarios/a.yaml", kGood);
  Write("b/refrence.txt", "a: misspelt variant\n");
  Write("b/knfsd.txt", "a@explode: no such fault\n");
  auto w = Load();
  ASSERT_FALSE(w.ok());
  EXPECT_THAT(Strings(w.errors()),
              ElementsAre(HasSubstr("knfsd.txt:1:1: unknown fault 'explode'"),
                          HasSubstr("refrence.txt:1:1: no variant is named 'refrence'")));
}

TEST_F(WorkloadsDir, CollectsErrorsOfAllScenarioFiles) {
  Write("w/scenarios/a.yaml", "id: a\nfaults: []\nsteps:\n  - {op: getattr}\n");
  Write("w/scenarios/b.yaml", "id: b\nsummary: [\n");
  auto w = Load();
  ASSERT_FALSE(w.ok());
  ASSERT_EQ(w.errors().size(), 2u);
  EXPECT_THAT(w.errors()[0].ToString(), HasSubstr("a.yaml:1:1: summary: missing required key"));
  EXPECT_THAT(w.errors()[1].file, HasSubstr("b.yaml"));
}

TEST_F(WorkloadsDir, MissingOrEmptyScenarioDirectoryIsAnError) {
  auto empty = Load();
  ASSERT_FALSE(empty.ok());
  EXPECT_THAT(empty.errors()[0].message, HasSubstr("no scenario files"));
  fs::remove_all(root_ / "w" / "scenarios");
  auto missing = Load();
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.errors()[0].message, HasSubstr("cannot read " + Path("w/scenarios")));
}

}  // namespace
}  // namespace ovl::workload
