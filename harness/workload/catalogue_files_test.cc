// Validates the shipped catalogue, workloads/scenarios/*.yaml: every file parses, and each
// scenario expands for every fault kind its header lists.
#include <gtest/gtest.h>

#include <set>

#include "scenario/scenario.h"
#include "workload/workloads.h"

namespace ovl::scenario {
namespace {

const std::filesystem::path kSource = OVL_SOURCE_DIR;

const workload::Workloads& Shipped() {
  static const topology::Checked<workload::Workloads> w =
      workload::LoadWorkloads({kSource / "workloads", kSource / "baselines"});
  EXPECT_TRUE(w.ok()) << topology::FormatDiagnostics(w.errors());
  static const workload::Workloads kNone;
  return w.ok() ? *w : kNone;
}

// The catalogue of docs/design.md, "Scenario catalogue".
const std::set<std::string> kDesignIds{"seed-unlink-reboot",
                                       "copyup-keeps-handle",
                                       "rename-file",
                                       "rename-parent",
                                       "rename-grandparent",
                                       "move-to-new-parent",
                                       "lower-hardlinks-copyup",
                                       "unlink-all",
                                       "open-unlinked",
                                       "dir-handles",
                                       "upper-only",
                                       "inode-reuse",
                                       "two-clients",
                                       "commit-durability",
                                       "exclusive-create-replay",
                                       "readdir-cookies",
                                       "malformed-handles",
                                       "crash-during-copyup",
                                       "namespace-durability",
                                       "lower-layers-handles",
                                       "merged-lower-dirs",
                                       "sweep-copied-up",
                                       "sweep-removed-file",
                                       "sweep-lower-dir",
                                       "sweep-upper-only",
                                       "offline-remove-upper",
                                       "offline-rename-lower-dir",
                                       "offline-swap-lower-dirs",
                                       "offline-remove-lower-dir",
                                       "offline-link-lower",
                                       "offline-copy-layers",
                                       "late-nfs-export",
                                       "remove-lower-held",
                                       "readdir-after-changes",
                                       "open-across-restart",
                                       "open-removed-elsewhere",
                                       "lookup-parent"};

TEST(CatalogueFilesTest, EveryScenarioParsesAndExpands) {
  const workload::Workloads& w = Shipped();
  std::set<std::string> ids;
  for (const Scenario& s : w.scenarios) {
    SCOPED_TRACE(s.info.id);
    ids.insert(s.info.id);
    const topology::ScenarioInfo* info = w.catalogue.Find(s.info.id);
    ASSERT_NE(info, nullptr);
    EXPECT_FALSE(s.fixture.is_null()) << "every scenario brings its fixture";
    // Two clients exactly where the header says the scenario needs them.
    EXPECT_EQ(s.clients.size() == 2, info->Needs(topology::Need::kTwoClients));
    bool has_e = false;
    for (const StepSpec& step : s.steps) {
      has_e |= (step.is_fault && step.fault_e) || step.offline_stop_e;
    }
    // "after E" scenarios list the kinds E becomes; the others have no E to expand.
    EXPECT_EQ(has_e, !info->faults.empty());

    std::vector<std::optional<FaultKind>> cases(info->faults.begin(), info->faults.end());
    if (cases.empty()) cases.push_back(std::nullopt);
    for (const std::optional<FaultKind>& fault : cases) {
      ovl::Result<Expansion> e = Expand(s, fault, 42);
      ASSERT_TRUE(e.ok()) << e.status().message();
      ASSERT_FALSE(e->steps.empty());
      size_t faults = 0;
      for (const Step& step : e->steps) {
        if (step.type != Step::Type::kOp) {
          ++faults;
          continue;
        }
        EXPECT_GT(step.op.seq, 0u);
        EXPECT_GT(step.op.step, 0u);
      }
      if (fault) {
        EXPECT_GT(faults, 0u);
      }
    }
  }
  EXPECT_EQ(ids, kDesignIds);
}

TEST(CatalogueFilesTest, FaultEBecomesTheCaseKind) {
  const Scenario* s = Shipped().FindScenario("rename-parent");
  ASSERT_NE(s, nullptr);
  ovl::Result<Expansion> crash = Expand(*s, FaultKind::kCrash, 1);
  ASSERT_TRUE(crash.ok());
  int crashes = 0;
  for (const Step& step : crash->steps) {
    if (step.type == Step::Type::kFault) {
      EXPECT_EQ(step.fault, FaultKind::kCrash);
      ++crashes;
    }
  }
  EXPECT_EQ(crashes, 2);
}

}  // namespace
}  // namespace ovl::scenario
