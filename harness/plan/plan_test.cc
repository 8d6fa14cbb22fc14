#include "plan/plan.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "plan/plan_json.h"
#include "topology/loader.h"

namespace ovl::plan {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using topology::Catalogue;
using topology::Need;
using topology::ScenarioInfo;
using topology::Topology;

Catalogue TestCatalogue() {
  Catalogue c;
  auto add = [&](std::string id, std::vector<FaultKind> faults, std::vector<Need> needs) {
    ScenarioInfo s;
    s.id = std::move(id);
    s.summary = "summary";
    s.faults = std::move(faults);
    s.needs = std::move(needs);
    c.scenarios.push_back(std::move(s));
  };
  const std::vector<FaultKind> e = {FaultKind::kEvict, FaultKind::kReboot, FaultKind::kCrash};
  add("commit-durability", e, {Need::kPowerLoss});
  add("exclusive-create-replay", e, {Need::kRawNfs});
  add("malformed-handles", {}, {});
  add("open-unlinked", e, {Need::kOpenFiles});
  add("rename-file", e, {});
  add("rename-parent", e, {Need::kUpper});
  add("two-clients", {}, {Need::kTwoClients});
  add("unlink-all", e, {});
  add("upper-only", e, {});
  return c;
}

Topology Load(const std::string& yaml) {
  topology::Checked<Topology> t = topology::ParseTopology(yaml, "t.yaml", "/", TestCatalogue());
  EXPECT_TRUE(t.ok()) << topology::FormatDiagnostics(t.errors());
  return t.ok() ? t.value() : Topology{};
}

Plan MakeOrDie(const Topology& t, PlanOptions options = {}) {
  Result<Plan> p = MakePlan(t, TestCatalogue(), options);
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? p.value() : Plan{};
}

constexpr char kLocal[] = R"(name: local
seed: 1
duration: 60s
servers:
  - {name: ref, variant: reference}
  - {name: vol, variant: reference-volatile, expect: fail}
  - {name: kovl, variant: kernel-overlay}
clients:
  - {name: c, access: libnfs}
workloads:
  mixed: {ops: 5000}
faults:
  - {kind: crash, target: ref, at: random, rate: 3}
  - {kind: reboot, target: vol, at: 20s}
  - {kind: evict, target: ref, at: step 100}
  - {kind: client-evict, target: c, at: random}
)";

constexpr char kVm[] = R"(name: vm
backend: libvirt
servers:
  - {name: knfsd, variant: knfsd, overlay: {nfs_export: off, index: on}}
  - {name: ref, variant: reference}
clients:
  - {name: k, access: kernel-mount, count: 2}
  - {name: raw, access: libnfs, server: ref}
workloads:
  scenarios: [commit-durability, exclusive-create-replay, two-clients, open-unlinked]
)";

TEST(PlanTest, SameSeedGivesIdenticalPlan) {
  Topology t = Load(kLocal);
  EXPECT_EQ(ToJson(MakeOrDie(t)).dump(2), ToJson(MakeOrDie(t)).dump(2));
  Topology vm = Load(kVm);
  EXPECT_EQ(ToJson(MakeOrDie(vm)).dump(), ToJson(MakeOrDie(vm)).dump());
}

std::vector<std::string> CaseIds(const Plan& p) {
  std::vector<std::string> ids;
  for (const Case& c : p.cases) ids.push_back(c.id);
  return ids;
}

TEST(PlanTest, DifferentSeedGivesDifferentOrderOfTheSameCases) {
  Topology t = Load(kLocal);
  Plan a = MakeOrDie(t);
  Plan b = MakeOrDie(t, PlanOptions{.seed = 2, .only = {}});
  EXPECT_EQ(a.seed, 1u);
  EXPECT_TRUE(a.seed_from_topology);
  EXPECT_EQ(b.seed, 2u);
  EXPECT_FALSE(b.seed_from_topology);
  std::vector<std::string> ids_a = CaseIds(a);
  std::vector<std::string> ids_b = CaseIds(b);
  EXPECT_NE(ids_a, ids_b);
  EXPECT_EQ(std::set<std::string>(ids_a.begin(), ids_a.end()),
            std::set<std::string>(ids_b.begin(), ids_b.end()));
}

TEST(PlanTest, CasesAreServersTimesScenariosTimesFaults) {
  Plan p = MakeOrDie(Load(kLocal));
  // Per server and access path: 7 scenarios expand into 3 faults each, 2 run once: 23 cases.
  EXPECT_EQ(p.cases.size(), 3u * 23u);
  std::set<std::string> ids;
  for (const Case& c : p.cases) ids.insert(c.id);
  EXPECT_EQ(ids.size(), p.cases.size());
  EXPECT_TRUE(ids.count("ref/libnfs/rename-parent@reboot"));
  EXPECT_TRUE(ids.count("kovl/local-syscalls/rename-parent@crash"));
  EXPECT_TRUE(ids.count("vol/libnfs/malformed-handles"));
}

const Case& Find(const Plan& p, const std::string& id) {
  static const Case kNone;
  for (const Case& c : p.cases) {
    if (c.id == id) return c;
  }
  ADD_FAILURE() << "no case " << id;
  return kNone;
}

TEST(PlanTest, CaseFieldsAndUnsupportedReasons) {
  Plan p = MakeOrDie(Load(kLocal));
  const Case& ref = Find(p, "ref/libnfs/rename-file@crash");
  EXPECT_EQ(ref.variant, Variant::kReference);
  EXPECT_EQ(ref.fault, FaultKind::kCrash);
  EXPECT_THAT(ref.clients, ElementsAre("c"));
  EXPECT_EQ(ref.expect, Expect::kPass);
  EXPECT_EQ(ref.expect_source, "model");
  EXPECT_TRUE(ref.supported());

  const Case& vol = Find(p, "vol/libnfs/rename-file@reboot");
  EXPECT_EQ(vol.expect, Expect::kFail);
  EXPECT_THAT(vol.expect_source, HasSubstr("negative control: its handles do not survive"));

  EXPECT_THAT(Find(p, "ref/libnfs/commit-durability@crash").unsupported,
              HasSubstr("needs power loss"));
  EXPECT_THAT(Find(p, "ref/libnfs/two-clients").unsupported,
              HasSubstr("needs two libnfs client instances on server 'ref'; the topology has 1"));
  EXPECT_THAT(Find(p, "kovl/local-syscalls/exclusive-create-replay@evict").unsupported,
              HasSubstr("needs raw NFS procedures"));
  // Files kept open: not through libnfs (NFSv3 has no open); on the host's overlay, not across a
  // restart, which the open files would block.
  EXPECT_THAT(Find(p, "ref/libnfs/open-unlinked@evict").unsupported, HasSubstr("has no open"));
  EXPECT_TRUE(Find(p, "kovl/local-syscalls/open-unlinked@evict").supported());
  EXPECT_THAT(Find(p, "kovl/local-syscalls/open-unlinked@reboot").unsupported,
              HasSubstr("upperdir is in-use"));
  // The implicit local-syscalls client has two instances.
  const Case& two = Find(p, "kovl/local-syscalls/two-clients");
  EXPECT_TRUE(two.supported());
  EXPECT_THAT(two.clients, ElementsAre("kovl-syscalls-1", "kovl-syscalls-2"));
}

TEST(PlanTest, ALowerOnlyServerRunsOnlyWhatNeedsNoUpper) {
  Plan p = MakeOrDie(Load(R"(name: ro
servers:
  - {name: ro, variant: reference, layers: 2, filesystems: {upper: none}}
  - {name: rw, variant: reference}
clients:
  - {name: c, access: libnfs}
)"));
  EXPECT_THAT(Find(p, "ro/libnfs/rename-parent@evict").unsupported,
              HasSubstr("needs an upper layer (the scenario changes the namespace or data); this "
                        "server is a lower-only, read-only export"));
  EXPECT_TRUE(Find(p, "ro/libnfs/rename-file@evict").supported());
  EXPECT_TRUE(Find(p, "rw/libnfs/rename-parent@evict").supported());
}

TEST(PlanTest, VmPlanHasLinksAndAccessPaths) {
  Plan p = MakeOrDie(Load(kVm));
  ASSERT_EQ(p.servers.size(), 2u);
  EXPECT_EQ(p.servers[0].port, kGuestNfsPort);
  // k-1, k-2 reach both servers; raw reaches ref: 5 links, 10 distinct ports in range.
  ASSERT_EQ(p.links.size(), 5u);
  std::set<uint16_t> ports;
  for (const Link& l : p.links) {
    ports.insert(l.server_port);
    ports.insert(l.client_port);
  }
  EXPECT_EQ(ports.size(), 10u);
  EXPECT_GE(*ports.begin(), kLinkPortMin);
  EXPECT_LE(*ports.rbegin(), kLinkPortMax);
  EXPECT_EQ(p.links[0].server, "knfsd");
  EXPECT_EQ(p.links[0].client, "k-1");

  EXPECT_THAT(Find(p, "knfsd/kernel-mount/two-clients").unsupported, HasSubstr("nfs_export=off"));
  const Case& two = Find(p, "ref/kernel-mount/two-clients");
  EXPECT_TRUE(two.supported());
  EXPECT_THAT(two.clients, ElementsAre("k-1", "k-2"));
  // Power loss is real in a VM.
  EXPECT_TRUE(Find(p, "ref/kernel-mount/commit-durability@crash").supported());
  EXPECT_THAT(Find(p, "ref/kernel-mount/exclusive-create-replay@reboot").unsupported,
              HasSubstr("kernel-mount cannot choose"));
  EXPECT_TRUE(Find(p, "ref/libnfs/exclusive-create-replay@reboot").supported());
  // A kernel NFS client keeps files open across a server restart.
  EXPECT_TRUE(Find(p, "ref/kernel-mount/open-unlinked@crash").supported());
  EXPECT_THAT(Find(p, "ref/libnfs/open-unlinked@crash").unsupported, HasSubstr("has no open"));
  EXPECT_FALSE(p.mixed.enabled);
}

// An upgrade is a reboot into another kernel: planned wherever a reboot is, on the servers that
// have a second kernel, and selectable with --only.
TEST(PlanTest, UpgradeCasesOnlyOnServersWithASecondKernel) {
  Topology t = Load(R"(name: up
backend: libvirt
servers:
  - {name: k61, variant: knfsd, kernel: "6.1", kernel_upgrade: "6.12"}
  - {name: k612, variant: knfsd, kernel: "6.12"}
clients:
  - {name: k, access: kernel-mount}
workloads:
  scenarios: [rename-file, malformed-handles]
)");
  Plan p = MakeOrDie(t);
  EXPECT_TRUE(Find(p, "k61/kernel-mount/rename-file@upgrade").supported());
  std::vector<std::string> ids = CaseIds(p);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), "k612/kernel-mount/rename-file@upgrade"), 0);
  EXPECT_EQ(std::count_if(ids.begin(), ids.end(),
                          [](const std::string& id) { return id.ends_with("@upgrade"); }),
            1)
      << "malformed-handles has no reboot, so no upgrade either";
  Result<Plan> only =
      MakePlan(t, TestCatalogue(), PlanOptions{.seed = {}, .only = {"rename-file@upgrade"}});
  ASSERT_TRUE(only.ok()) << only.status().ToString();
  EXPECT_THAT(CaseIds(*only), ElementsAre("k61/kernel-mount/rename-file@upgrade"));
}

TEST(PlanTest, LocalServersUseEphemeralPorts) {
  Plan p = MakeOrDie(Load(kLocal));
  EXPECT_EQ(p.servers[0].port, 0);
  EXPECT_FALSE(p.servers[2].port.has_value());  // kernel-overlay: no NFS
  EXPECT_THAT(p.links, IsEmpty());
}

TEST(PlanTest, FaultScheduleIsWithinDurationAndOrdered) {
  Topology t = Load(kLocal);
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    Plan p = MakeOrDie(t, PlanOptions{.seed = seed, .only = {}});
    ASSERT_TRUE(p.mixed.enabled);
    EXPECT_EQ(p.mixed.ops, 5000u);
    EXPECT_EQ(p.mixed.duration, milliseconds(60'000));
    EXPECT_THAT(p.mixed.clients, ElementsAre("c", "kovl-syscalls-1", "kovl-syscalls-2"));
    // rate 3/min over 60 s: 3 crashes; default rate 1/min: 1 client-evict; 1 timed; 1 step.
    ASSERT_EQ(p.mixed.schedule.size(), 6u);
    size_t crashes = 0;
    for (size_t i = 0; i < p.mixed.schedule.size(); ++i) {
      const FaultEvent& e = p.mixed.schedule[i];
      crashes += e.kind == FaultKind::kCrash;
      if (e.at_step) {
        EXPECT_EQ(i, p.mixed.schedule.size() - 1) << "step events come last";
        EXPECT_EQ(e.step, 100u);
        continue;
      }
      EXPECT_GE(e.time.count(), 0);
      EXPECT_LT(e.time, t.duration);
      if (i > 0) {
        EXPECT_LE(p.mixed.schedule[i - 1].time, e.time);
      }
      EXPECT_EQ(e.drawn, e.origin == "faults[0]" || e.origin == "faults[3]");
    }
    EXPECT_EQ(crashes, 3u);
  }
}

TEST(PlanTest, RandomFaultTimesFollowTheSeed) {
  Topology t = Load(kLocal);
  auto times = [&](uint64_t seed) {
    std::vector<int64_t> out;
    for (const FaultEvent& e : MakeOrDie(t, PlanOptions{.seed = seed, .only = {}}).mixed.schedule) {
      if (e.drawn) out.push_back(e.time.count());
    }
    return out;
  };
  EXPECT_EQ(times(5), times(5));
  EXPECT_NE(times(5), times(6));
}

TEST(PlanTest, OnlySelectsCasesInTheirPlannedOrder) {
  Topology t = Load(kLocal);
  Plan all = MakeOrDie(t);
  Plan some =
      MakeOrDie(t, PlanOptions{.seed = std::nullopt, .only = {"rename-file", "unlink-all@crash"}});
  std::vector<std::string> expected;
  for (const Case& c : all.cases) {
    if (c.scenario == "rename-file" || (c.scenario == "unlink-all" && c.id.ends_with("@crash"))) {
      expected.push_back(c.id);
    }
  }
  EXPECT_EQ(CaseIds(some), expected);
  EXPECT_EQ(expected.size(), 3u * 4u);
  EXPECT_FALSE(some.mixed.enabled);
  EXPECT_THAT(some.mixed.schedule, IsEmpty());
}

TEST(PlanTest, OnlyRejectsWhatTheTopologyDoesNotRun) {
  Topology t = Load(kVm);
  Result<Plan> p = MakePlan(t, TestCatalogue(), PlanOptions{.seed = {}, .only = {"rename-file"}});
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(p.status().message(), HasSubstr("does not run scenario 'rename-file'"));
  p = MakePlan(t, TestCatalogue(), PlanOptions{.seed = {}, .only = {"two-clients@crash"}});
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(p.status().message(), HasSubstr("expands into faults []"));
}

TEST(PlanTest, JsonHasTheResolvedPlan) {
  nlohmann::ordered_json j = ToJson(MakeOrDie(Load(kVm)));
  EXPECT_EQ(j["topology"], "vm");
  EXPECT_EQ(j["seed"], 1);
  EXPECT_EQ(j["servers"][0]["port"], 2049);
  EXPECT_EQ(j["links"].size(), 5u);
  // 10 cases for each (server, access path): knfsd/kernel-mount, ref/kernel-mount, ref/libnfs.
  EXPECT_EQ(j["cases"].size(), 3u * 10u);
}

}  // namespace
}  // namespace ovl::plan
