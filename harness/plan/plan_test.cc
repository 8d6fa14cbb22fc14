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

// The element of `items` whose `field` is `key` (a test failure, and an empty one, when none).
template <typename T>
const T& Named(const std::vector<T>& items, std::string T::*field, const std::string& key) {
  static const T kNone;
  for (const T& item : items) {
    if (item.*field == key) return item;
  }
  ADD_FAILURE() << "nothing named " << key;
  return kNone;
}

const Case& Find(const Plan& p, const std::string& id) {
  return Named(p.cases, &Case::id, id);
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

// Each NFS version of a kernel-mount client is an access path of its own; NFSv3 keeps the ids it
// always had.
TEST(PlanTest, NfsVersionsExpandKernelMountCases) {
  Plan p = MakeOrDie(Load(R"(name: v
backend: libvirt
servers:
  - {name: knfsd, variant: knfsd}
  - {name: ref, variant: reference}
clients:
  - {name: k, access: kernel-mount, nfs_versions: [3, 4.2]}
  - {name: k41, access: kernel-mount, nfs_versions: [4.1], server: knfsd}
workloads:
  scenarios: [rename-file]
)"));
  EXPECT_THAT(CaseIds(p), ::testing::IsSupersetOf({"knfsd/kernel-mount/rename-file@crash",
                                                   "knfsd/kernel-mount-v4.2/rename-file@crash",
                                                   "knfsd/kernel-mount-v4.1/rename-file@crash",
                                                   "ref/kernel-mount-v4.2/rename-file@evict"}));
  EXPECT_EQ(p.cases.size(), 3u * 5u);  // knfsd: 3 versions, ref: 2; three faults each
  const Case& v42 = Find(p, "knfsd/kernel-mount-v4.2/rename-file@crash");
  EXPECT_EQ(v42.nfs_version, "4.2");
  EXPECT_THAT(v42.clients, ElementsAre("k"));
  EXPECT_TRUE(v42.supported());
  EXPECT_THAT(Find(p, "knfsd/kernel-mount-v4.1/rename-file@crash").clients, ElementsAre("k41"));
  EXPECT_EQ(Find(p, "knfsd/kernel-mount/rename-file@crash").nfs_version, "3");
  EXPECT_TRUE(Find(p, "ref/kernel-mount-v4.2/rename-file@evict").supported());
  EXPECT_TRUE(Find(p, "ref/kernel-mount/rename-file@evict").supported());
  EXPECT_EQ(ToJson(p)["cases"][0].value("nfs_version", ""), p.cases[0].nfs_version);
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

const HostPlan& Host(const Plan& p, const std::string& name) {
  static const HostPlan kNone;
  const HostPlan* h = p.FindHost(name);
  if (h == nullptr) ADD_FAILURE() << "no host " << name;
  return h != nullptr ? *h : kNone;
}

std::vector<std::string> InstanceNames(const Plan& p) {
  std::vector<std::string> out;
  for (const ClientInstance& ci : p.clients) out.push_back(ci.name);
  return out;
}

const ClientInstance& Instance(const Plan& p, const std::string& name) {
  return Named(p.clients, &ClientInstance::name, name);
}

// A single-host topology keeps its instance names, and everything of it is on the one host of
// libvirt.uri.
TEST(PlanTest, OneHostKeepsTheNamesAndPutsEverythingOnIt) {
  Plan p = MakeOrDie(Load(kVm));
  EXPECT_THAT(InstanceNames(p), ElementsAre("k-1", "k-2", "raw"));
  ASSERT_EQ(p.hosts.size(), 1u);
  const HostPlan& h = p.hosts[0];
  EXPECT_EQ(h.name, "default");
  EXPECT_EQ(h.uri, "qemu:///system");
  EXPECT_EQ(h.pool, "ovlnfs-harness");
  EXPECT_EQ(h.pool_path, "/var/lib/libvirt/ovlnfs-harness");
  EXPECT_EQ(h.cpus, 1u);
  EXPECT_THAT(h.servers, ElementsAre("knfsd", "ref"));
  EXPECT_THAT(h.clients, ElementsAre("k-1", "k-2", "raw"));
  // knfsd has nfs_export=off: nothing supported. ref through kernel-mount: commit-durability
  // and open-unlinked (evict 1 + reboot 2 + crash 2 each) and two-clients (1); through libnfs:
  // commit-durability and exclusive-create-replay (5 each).
  EXPECT_DOUBLE_EQ(h.expected_seconds, 21 * kCaseSeconds);
  for (const PlannedServer& s : p.servers) EXPECT_EQ(s.host, "default") << s.name;
  for (const Link& l : p.links) EXPECT_EQ(l.host, "default") << l.client;
  // Local nodes are on no libvirt host, and a local plan still lists the (idle) host.
  Plan local = MakeOrDie(Load(kLocal));
  ASSERT_EQ(local.hosts.size(), 1u);
  EXPECT_THAT(local.hosts[0].servers, IsEmpty());
  EXPECT_THAT(local.hosts[0].clients, IsEmpty());
  EXPECT_EQ(local.servers[0].host, "");
  EXPECT_EQ(local.clients[0].host, "");
}

// Four servers of equal weight W on host a (1 CPU) and b (3 CPUs): s1 and s2 go to b (W/3,
// 2W/3 < W), s3 ties at W and takes the earlier host a, s4 goes to b (4W/3 < 2W).
constexpr char kTwoHosts[] = R"(name: two
backend: libvirt
libvirt:
  hosts:
    - {name: a, uri: "qemu:///system"}
    - {name: b, uri: "qemu+ssh://root@b/system", pool: x, pool_path: /srv/pool}
servers:
  - {name: s4, variant: knfsd}
  - {name: s3, variant: knfsd}
  - {name: s2, variant: knfsd}
  - {name: s1, variant: knfsd}
clients:
  - {name: k, access: kernel-mount, count: 2}
workloads:
  scenarios: [rename-file, two-clients]
  mixed: {ops: 100}
faults:
  - {kind: client-evict, target: k, at: random}
)";

TEST(PlanTest, PlacementBalancesHostsByCpus) {
  Topology t = Load(kTwoHosts);
  const PlanOptions options{.seed = {}, .only = {}, .host_cpus = {{"b", 3}}};
  Plan p = MakeOrDie(t, options);
  ASSERT_EQ(p.hosts.size(), 2u);
  EXPECT_EQ(p.hosts[0].name, "a");
  EXPECT_EQ(p.hosts[0].cpus, 1u);  // not in host_cpus
  EXPECT_EQ(p.hosts[1].cpus, 3u);
  EXPECT_EQ(p.hosts[1].uri, "qemu+ssh://root@b/system");
  EXPECT_EQ(p.hosts[1].pool, "x");
  EXPECT_EQ(p.hosts[1].pool_path, "/srv/pool");
  EXPECT_THAT(p.hosts[0].servers, ElementsAre("s3"));
  EXPECT_THAT(p.hosts[1].servers, ElementsAre("s4", "s2", "s1"));  // topology order
  // Each server: rename-file evict 1 + reboot 2 + crash 2, two-clients 1 = 6 units.
  EXPECT_DOUBLE_EQ(p.hosts[0].expected_seconds, 6 * kCaseSeconds);
  EXPECT_DOUBLE_EQ(p.hosts[1].expected_seconds, 18 * kCaseSeconds / 3);
  EXPECT_EQ(p.FindServer("s3")->host, "a");
  EXPECT_EQ(p.FindServer("s1")->host, "b");
  // A pure function of its inputs.
  EXPECT_EQ(ToJson(p).dump(), ToJson(MakeOrDie(t, options)).dump());
  // Equal CPUs: two each, the heaviest-first order breaking ties by name.
  Plan even = MakeOrDie(t, PlanOptions{.seed = {}, .only = {}, .host_cpus = {{"a", 2}, {"b", 2}}});
  EXPECT_THAT(even.hosts[0].servers, ElementsAre("s3", "s1"));
  EXPECT_THAT(even.hosts[1].servers, ElementsAre("s4", "s2"));
}

TEST(PlanTest, HeavierServersArePlacedFirst) {
  Topology t = Load(R"(name: heavy
backend: libvirt
libvirt:
  hosts:
    - {name: a, uri: "qemu:///system"}
    - {name: b, uri: "qemu:///system"}
servers:
  - {name: light, variant: knfsd, overlay: {nfs_export: off}}
  - {name: pinned, variant: knfsd, host: a}
  - {name: up, variant: knfsd, kernel_upgrade: "6.12"}
  - {name: plain, variant: knfsd}
clients:
  - {name: k, access: kernel-mount}
workloads:
  scenarios: [rename-file]
)");
  Plan p = MakeOrDie(t);
  // Weights: pinned 5 (on a first), up 7 (evict, reboot, crash, upgrade), plain 5, light 0
  // (all unsupported). up -> b (7 < 12); plain -> a (10 < 12); light -> b (7 < 10).
  EXPECT_THAT(Host(p, "a").servers, ElementsAre("pinned", "plain"));
  EXPECT_THAT(Host(p, "b").servers, ElementsAre("light", "up"));
  EXPECT_DOUBLE_EQ(Host(p, "a").expected_seconds, 10 * kCaseSeconds);
  EXPECT_DOUBLE_EQ(Host(p, "b").expected_seconds, 7 * kCaseSeconds);
}

// A client reaching servers on two hosts gets an instance per host, each reaching only the
// servers there; links carry the host, and their ports are distinct over the whole run.
TEST(PlanTest, AClientOnTwoHostsSplitsPerHost) {
  Plan p = MakeOrDie(Load(kTwoHosts), PlanOptions{.seed = {}, .only = {}, .host_cpus = {{"b", 3}}});
  EXPECT_THAT(InstanceNames(p), ElementsAre("k-1@a", "k-2@a", "k-1@b", "k-2@b"));
  EXPECT_THAT(Instance(p, "k-1@a").servers, ElementsAre("s3"));
  EXPECT_EQ(Instance(p, "k-1@a").host, "a");
  EXPECT_EQ(Instance(p, "k-1@a").client, "k");
  EXPECT_THAT(Instance(p, "k-2@b").servers, ElementsAre("s4", "s2", "s1"));
  EXPECT_EQ(Instance(p, "k-2@b").host, "b");
  EXPECT_THAT(Host(p, "a").clients, ElementsAre("k-1@a", "k-2@a"));
  EXPECT_THAT(Host(p, "b").clients, ElementsAre("k-1@b", "k-2@b"));
  ASSERT_EQ(p.links.size(), 2u + 6u);
  std::set<uint16_t> ports;
  for (const Link& l : p.links) {
    EXPECT_EQ(l.host, Instance(p, l.client).host) << l.client;
    EXPECT_EQ(l.host, p.FindServer(l.server)->host) << l.server;
    ports.insert(l.server_port);
    ports.insert(l.client_port);
  }
  EXPECT_EQ(ports.size(), 2 * p.links.size());
  // Cases pick the instances on their server's host.
  EXPECT_THAT(Find(p, "s3/kernel-mount/two-clients").clients, ElementsAre("k-1@a", "k-2@a"));
  EXPECT_THAT(Find(p, "s1/kernel-mount/rename-file@crash").clients, ElementsAre("k-1@b"));
  // The mixed workload and client-evict reach every instance of k.
  EXPECT_THAT(p.mixed.clients, ElementsAre("k-1@a", "k-2@a", "k-1@b", "k-2@b"));
  ASSERT_EQ(p.mixed.schedule.size(), 1u);
  EXPECT_EQ(p.mixed.schedule[0].target, "k");
}

TEST(PlanTest, PerServerClientsGiveEachServerItsOwnInstances) {
  Plan p = MakeOrDie(Load(R"(name: lanes
backend: libvirt
servers:
  - {name: s1, variant: knfsd}
  - {name: s2, variant: reference}
clients:
  - {name: k, access: kernel-mount, count: 2, per_server: true}
  - {name: raw, access: libnfs, server: s2}
workloads:
  scenarios: [rename-file, two-clients]
  mixed: {ops: 100, clients: [k]}
)"));
  EXPECT_THAT(InstanceNames(p), ElementsAre("k-1@s1", "k-2@s1", "k-1@s2", "k-2@s2", "raw"));
  EXPECT_THAT(Instance(p, "k-2@s1").servers, ElementsAre("s1"));
  EXPECT_THAT(Instance(p, "k-1@s2").servers, ElementsAre("s2"));
  EXPECT_EQ(Instance(p, "k-1@s2").host, "default");
  EXPECT_THAT(Find(p, "s1/kernel-mount/two-clients").clients, ElementsAre("k-1@s1", "k-2@s1"));
  EXPECT_THAT(Find(p, "s2/kernel-mount/two-clients").clients, ElementsAre("k-1@s2", "k-2@s2"));
  EXPECT_THAT(Find(p, "s2/libnfs/rename-file@evict").clients, ElementsAre("raw"));
  EXPECT_THAT(p.mixed.clients, ElementsAre("k-1@s1", "k-2@s1", "k-1@s2", "k-2@s2"));
  ASSERT_EQ(p.links.size(), 5u);
  std::set<uint16_t> ports;
  for (const Link& l : p.links) {
    EXPECT_EQ(l.host, "default");
    ports.insert(l.server_port);
    ports.insert(l.client_port);
  }
  EXPECT_EQ(ports.size(), 10u);
  EXPECT_THAT(p.hosts[0].clients, ElementsAre("k-1@s1", "k-2@s1", "k-1@s2", "k-2@s2", "raw"));
}

// A server without host: that a pinned client reaches runs on the client's host.
TEST(PlanTest, APinnedClientTakesItsServersAlong) {
  Plan p = MakeOrDie(Load(R"(name: pin
backend: libvirt
libvirt:
  hosts:
    - {name: a, uri: "qemu:///system"}
    - {name: b, uri: "qemu:///system"}
servers:
  - {name: s1, variant: knfsd}
  - {name: s2, variant: knfsd}
clients:
  - {name: k, access: kernel-mount, host: b}
)"));
  EXPECT_THAT(Host(p, "a").servers, IsEmpty());
  EXPECT_THAT(Host(p, "b").servers, ElementsAre("s1", "s2"));
  EXPECT_THAT(InstanceNames(p), ElementsAre("k"));
  EXPECT_EQ(Instance(p, "k").host, "b");
}

TEST(PlanTest, JsonHasHostsAndPlacement) {
  nlohmann::ordered_json j = ToJson(
      MakeOrDie(Load(kTwoHosts), PlanOptions{.seed = {}, .only = {}, .host_cpus = {{"b", 3}}}));
  ASSERT_EQ(j["hosts"].size(), 2u);
  EXPECT_EQ(j["hosts"][0]["name"], "a");
  EXPECT_EQ(j["hosts"][1]["uri"], "qemu+ssh://root@b/system");
  EXPECT_EQ(j["hosts"][1]["pool"], "x");
  EXPECT_EQ(j["hosts"][1]["pool_path"], "/srv/pool");
  EXPECT_EQ(j["hosts"][1]["cpus"], 3);
  EXPECT_EQ(j["hosts"][1]["expected_seconds"], 6 * kCaseSeconds);
  EXPECT_EQ(j["hosts"][0]["servers"], nlohmann::ordered_json::array({"s3"}));
  EXPECT_EQ(j["hosts"][0]["clients"], nlohmann::ordered_json::array({"k-1@a", "k-2@a"}));
  EXPECT_EQ(j["servers"][1]["name"], "s3");
  EXPECT_EQ(j["servers"][1]["host"], "a");
  EXPECT_EQ(j["clients"][0]["host"], "a");
  EXPECT_EQ(j["links"][0]["host"], "a");
}

}  // namespace
}  // namespace ovl::plan
