#include "topology/topology.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "topology/loader.h"

namespace ovl::topology {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

Catalogue TestCatalogue() {
  Catalogue c;
  auto add = [&](std::string id, std::vector<FaultKind> faults, std::vector<Need> needs) {
    ScenarioInfo s;
    s.id = std::move(id);
    s.summary = "summary of " + s.id;
    s.faults = std::move(faults);
    s.needs = std::move(needs);
    c.scenarios.push_back(std::move(s));
  };
  add("commit-durability", {FaultKind::kCrash}, {Need::kPowerLoss});
  add("rename-parent", {FaultKind::kEvict, FaultKind::kReboot, FaultKind::kCrash}, {});
  add("two-clients", {}, {Need::kTwoClients});
  c.fixtures = {"small"};
  return c;
}

Checked<Topology> Parse(const std::string& yaml) {
  return ParseTopology(yaml, "t.yaml", "/base", TestCatalogue());
}

// The diagnostics of parsing `yaml`, as "file:line:col: path: message" strings.
std::vector<std::string> Errors(const std::string& yaml) {
  std::vector<std::string> out;
  Checked<Topology> t = Parse(yaml);
  for (const Diagnostic& d : t.errors()) out.push_back(d.ToString());
  return out;
}

constexpr char kMinimal[] = R"(name: t
servers:
  - name: ref
    variant: reference
clients:
  - name: c
    access: libnfs
)";

TEST(TopologyTest, MinimalTopologyGetsDefaults) {
  Checked<Topology> t = Parse(kMinimal);
  ASSERT_TRUE(t.ok()) << FormatDiagnostics(t.errors());
  EXPECT_EQ(t->name, "t");
  EXPECT_EQ(t->file, "t.yaml");
  EXPECT_EQ(t->seed, 1u);
  EXPECT_EQ(t->duration, milliseconds(60'000));
  EXPECT_EQ(t->backend, Backend::kLocal);
  ASSERT_EQ(t->servers.size(), 1u);
  const ServerSpec& s = t->servers[0];
  EXPECT_EQ(s.expect, Expect::kPass);
  EXPECT_EQ(s.layers, 1u);
  EXPECT_EQ(s.threads, 8u);
  EXPECT_EQ(s.export_path, "/export");
  EXPECT_FALSE(s.kernel.has_value());
  EXPECT_EQ(s.pos, (Pos{3, 5}));
  ASSERT_EQ(t->clients.size(), 1u);
  EXPECT_THAT(t->clients[0].servers, ElementsAre("ref"));
  EXPECT_THAT(t->clients[0].InstanceNames(), ElementsAre("c"));
  EXPECT_TRUE(t->workloads.all_scenarios);
  EXPECT_THAT(t->workloads.scenarios,
              ElementsAre("commit-durability", "rename-parent", "two-clients"));
  EXPECT_FALSE(t->workloads.mixed.enabled);
  EXPECT_THAT(t->faults, IsEmpty());
  EXPECT_FALSE(t->UsesLibvirt());
}

TEST(TopologyTest, UnknownKey) {
  EXPECT_THAT(Errors(std::string(kMinimal) + "    colour: red\n"),
              ElementsAre("t.yaml:8:5: clients[0].colour: unknown key (expected one of: name, "
                          "access, backend, count, server, mount_options, nfs_versions, kernel, "
                          "host, per_server)"));
}

TEST(TopologyTest, WrongType) {
  EXPECT_THAT(Errors(std::string(kMinimal) + "seed: [1]\nduration: soon\n"),
              ElementsAre("t.yaml:8:7: seed: expected an unsigned integer, got a list",
                          "t.yaml:9:11: duration: expected a duration such as 90s, 2m or 1m30s, "
                          "got 'soon'"));
}

TEST(TopologyTest, MissingField) {
  EXPECT_THAT(Errors("servers:\n  - variant: reference\n"),
              ElementsAre("t.yaml:1:1: name: missing required key",
                          "t.yaml:2:5: servers[0].name: missing required key"));
}

TEST(TopologyTest, BadVariant) {
  EXPECT_THAT(Errors("name: t\nservers:\n  - name: a\n    variant: reference\n"
                     "  - name: b\n    variant: knsfd\nclients:\n  - {name: c, access: libnfs}\n"),
              ElementsAre("t.yaml:6:14: servers[1].variant: unknown variant 'knsfd' (expected one "
                          "of: reference, reference-volatile, reference-noindex, kernel-overlay, "
                          "knfsd, knfsd-fuse, ganesha)"));
}

TEST(TopologyTest, UnknownScenario) {
  EXPECT_THAT(
      Errors(std::string(kMinimal) + "workloads:\n  scenarios: [rename-parent, rename-prent]\n"),
      ElementsAre("t.yaml:9:30: workloads.scenarios[1]: unknown scenario 'rename-prent' "
                  "(expected one of: commit-durability, rename-parent, two-clients)"));
}

TEST(TopologyTest, DuplicateServerName) {
  EXPECT_THAT(
      Errors("name: t\nservers:\n  - {name: a, variant: reference}\n"
             "  - {name: a, variant: ganesha}\nclients:\n  - {name: c, access: libnfs}\n"),
      ElementsAre("t.yaml:4:5: servers[1].name: duplicate name 'a' (first used at line 3); server, "
                  "client and client instance names share one namespace"));
}

TEST(TopologyTest, NegativeControlWithoutExpectFail) {
  std::vector<std::string> errors = Errors(
      "name: t\nservers:\n  - name: v\n    variant: reference-volatile\n"
      "  - name: n\n    variant: reference-noindex\n    expect: pass\n"
      "clients:\n  - {name: c, access: libnfs}\n");
  EXPECT_THAT(errors,
              ElementsAre("t.yaml:4:14: servers[0].expect: reference-volatile is a negative "
                          "control (its handles do not survive a restart, so reboot and crash "
                          "cases must fail): it must declare expect: fail",
                          HasSubstr("t.yaml:7:13: servers[1].expect: reference-noindex is a "
                                    "negative control")));
}

TEST(TopologyTest, NegativeControlWithExpectFailIsAccepted) {
  Checked<Topology> t = Parse(
      "name: t\nservers:\n  - {name: v, variant: reference-volatile, expect: fail}\n"
      "clients:\n  - {name: c, access: libnfs}\n");
  ASSERT_TRUE(t.ok()) << FormatDiagnostics(t.errors());
  EXPECT_EQ(t->servers[0].expect, Expect::kFail);
}

TEST(TopologyTest, PlantedBugsAreNegativeControlsOfOvlnfsdOnly) {
  Checked<Topology> t = Parse(
      "name: t\nservers:\n  - {name: p, variant: reference, plant: handle-tag-unchecked, "
      "expect: fail}\nclients:\n  - {name: c, access: libnfs}\n");
  ASSERT_TRUE(t.ok()) << FormatDiagnostics(t.errors());
  EXPECT_EQ(t->servers[0].plant, Plant::kHandleTagUnchecked);
  EXPECT_THAT(
      Errors("name: t\nservers:\n"
             "  - {name: a, variant: reference, plant: handle-tag-unchecked}\n"
             "  - {name: b, variant: ganesha, plant: handle-tag-unchecked, expect: fail}\n"
             "  - {name: c, variant: reference, plant: typo, expect: fail}\n"
             "clients:\n  - {name: n, access: libnfs}\n"),
      ElementsAre(HasSubstr("t.yaml:3:42: servers[0].expect: a server with a planted bug is a "
                            "negative control"),
                  HasSubstr("t.yaml:4:40: servers[1].plant: bugs are planted only in ovlnfsd"),
                  HasSubstr("t.yaml:5:42: servers[2].plant: unknown planted bug 'typo' (expected "
                            "one of: handle-tag-unchecked")));
}

TEST(TopologyTest, KernelUpgradeNeedsALibvirtServerAndAnotherKernel) {
  EXPECT_THAT(
      Errors("name: t\nservers:\n"
             "  - {name: a, variant: reference, kernel_upgrade: \"6.12\"}\n"
             "  - {name: b, variant: knfsd, backend: libvirt, kernel_upgrade: \"6.1\"}\n"
             "  - {name: c, variant: knfsd, backend: libvirt}\n"
             "clients:\n  - {name: n, access: libnfs, server: a}\n"
             "  - {name: m, access: kernel-mount, backend: libvirt}\n"
             "workloads:\n  mixed: {ops: 10}\n"
             "faults:\n  - {kind: upgrade, target: c, at: random}\n"),
      ElementsAre(HasSubstr("t.yaml:3:51: servers[0].kernel_upgrade: only libvirt servers"),
                  HasSubstr("t.yaml:4:65: servers[1].kernel_upgrade: the same kernel as"),
                  HasSubstr("t.yaml:12:12: faults[0].kind: server 'c' has no second kernel")));
}

TEST(TopologyTest, CollectsAllErrors) {
  std::vector<std::string> errors = Errors(
      "name: Bad_Name\nseed: -1\nservers:\n  - name: a\n    variant: nope\n    layers: 9\n"
      "clients:\n  - name: c\n    access: carrier-pigeon\nextra: 1\n");
  EXPECT_THAT(errors, ElementsAre(HasSubstr("t.yaml:1:7: name: invalid name 'Bad_Name'"),
                                  HasSubstr("t.yaml:2:7: seed: expected an unsigned integer"),
                                  HasSubstr("t.yaml:5:14: servers[0].variant: unknown variant"),
                                  HasSubstr("t.yaml:6:13: servers[0].layers: value 9 out of range"),
                                  HasSubstr("t.yaml:9:13: clients[0].access: unknown access"),
                                  HasSubstr("t.yaml:10:1: extra: unknown key")));
}

TEST(TopologyTest, ABrokenClientDoesNotCascade) {
  EXPECT_THAT(Errors("name: t\nservers:\n  - {name: ref, variant: reference}\n"
                     "clients:\n  - {name: c, access: nfs}\n"),
              ElementsAre(HasSubstr("t.yaml:5:23: clients[0].access: unknown access 'nfs'")));
}

TEST(TopologyTest, EmptyDocument) {
  EXPECT_THAT(Errors(""), ElementsAre("t.yaml:1:1: expected a map, got nothing"));
}

TEST(TopologyTest, YamlSyntaxErrorHasPosition) {
  EXPECT_THAT(Errors("name: t\nservers: [\n"), ElementsAre(HasSubstr("t.yaml:3:1: ")));
}

TEST(TopologyTest, PlacementRules) {
  EXPECT_THAT(
      Errors("name: t\nservers:\n  - {name: k, variant: knfsd}\n"
             "  - {name: o, variant: kernel-overlay, backend: libvirt}\n"
             "clients:\n  - {name: c, access: kernel-mount, backend: local}\n"),
      ElementsAre(
          "t.yaml:3:24: servers[0].backend: knfsd needs a guest kernel (the host has no nfsd): "
          "set backend: libvirt",
          "t.yaml:4:49: servers[1].backend: kernel-overlay runs on the host kernel: set backend: "
          "local",
          "t.yaml:6:46: clients[0].backend: kernel-mount needs a client VM (the host has no NFS "
          "client): backend must be libvirt"));
}

TEST(TopologyTest, ClientsReachServersOnTheirBackend) {
  Checked<Topology> t = Parse(
      "name: t\nservers:\n  - {name: ref, variant: reference}\n"
      "  - {name: vm, variant: knfsd, backend: libvirt, kernel: '6.12'}\n"
      "  - {name: kovl, variant: kernel-overlay}\n"
      "clients:\n  - {name: c, access: libnfs, count: 2}\n  - {name: k, access: kernel-mount}\n");
  ASSERT_TRUE(t.ok()) << FormatDiagnostics(t.errors());
  ASSERT_EQ(t->clients.size(), 3u);
  EXPECT_THAT(t->clients[0].servers, ElementsAre("ref"));
  EXPECT_THAT(t->clients[0].InstanceNames(), ElementsAre("c-1", "c-2"));
  EXPECT_THAT(t->clients[1].servers, ElementsAre("vm"));
  EXPECT_EQ(t->clients[1].backend, Backend::kLibvirt);
  EXPECT_EQ(t->clients[1].mount_options, "vers=3,proto=tcp,hard,actimeo=0");
  EXPECT_EQ(t->clients[1].kernel->series, "6.1");
  EXPECT_EQ(t->servers[1].kernel->series, "6.12");
  // The kernel-overlay server gets an implicit local-syscalls client with two instances.
  EXPECT_TRUE(t->clients[2].implicit);
  EXPECT_EQ(t->clients[2].name, "kovl-syscalls");
  EXPECT_EQ(t->clients[2].access, Access::kLocalSyscalls);
  EXPECT_THAT(t->clients[2].servers, ElementsAre("kovl"));
  EXPECT_EQ(t->clients[2].count, 2u);
  EXPECT_TRUE(t->libvirt.image.kernels.empty());  // every series: one image for all
  EXPECT_TRUE(t->UsesLibvirt());
}

TEST(TopologyTest, NfsVersionsOfKernelMounts) {
  Checked<Topology> t = Parse(
      "name: t\nservers:\n  - {name: vm, variant: knfsd, backend: libvirt, nfs4: {lease: 15s}}\n"
      "clients:\n  - {name: k, access: kernel-mount, nfs_versions: [3, 4.1, \"4.2\"],\n"
      "     mount_options: \"proto=tcp,hard,timeo=600\"}\n"
      "  - {name: old, access: kernel-mount, mount_options: \"nfsvers=4.2,hard\"}\n"
      "  - {name: plain, access: kernel-mount}\n");
  ASSERT_TRUE(t.ok()) << FormatDiagnostics(t.errors());
  EXPECT_THAT(t->clients[0].nfs_versions, ElementsAre("3", "4.1", "4.2"));
  EXPECT_EQ(t->clients[0].MountOptions("4.1"), "vers=4.1,proto=tcp,hard,timeo=600");
  // A version in the options is the client's one version, and MountOptions replaces it.
  EXPECT_THAT(t->clients[1].nfs_versions, ElementsAre("4.2"));
  EXPECT_EQ(t->clients[1].MountOptions("4.2"), "vers=4.2,hard");
  EXPECT_THAT(t->clients[2].nfs_versions, ElementsAre("3"));
  EXPECT_EQ(t->clients[2].MountOptions("3"), t->clients[2].mount_options);
  EXPECT_EQ(t->servers[0].nfs4.lease, std::chrono::seconds(15));
  EXPECT_EQ(t->servers[0].nfs4.grace, std::chrono::seconds(10));
}

TEST(TopologyTest, NfsVersionErrors) {
  EXPECT_THAT(
      Errors("name: t\nservers:\n  - {name: vm, variant: knfsd, backend: libvirt}\n"
             "  - {name: ref, variant: kernel-overlay, nfs4: {grace: 5s}}\n"
             "clients:\n  - {name: a, access: kernel-mount, nfs_versions: [4.0, 4.2, 4.2]}\n"
             "  - {name: b, access: kernel-mount, nfs_versions: [4.1], mount_options: vers=3}\n"
             "  - {name: c, access: libnfs, server: ref, nfs_versions: [3]}\n"
             "  - {name: d, access: kernel-mount, mount_options: \"vers=4\"}\n"),
      ElementsAre(
          HasSubstr("t.yaml:4:48: servers[1].nfs4: kernel-overlay does not serve NFSv4"),
          HasSubstr("t.yaml:4:56: servers[1].nfs4.grace: must be whole seconds"),
          HasSubstr("t.yaml:6:52: clients[0].nfs_versions[0]: unknown NFS version '4.0'"),
          HasSubstr("t.yaml:6:62: clients[0].nfs_versions[2]: NFS version 4.2 listed twice"),
          HasSubstr("t.yaml:7:73: clients[1].mount_options: names NFS version 3"),
          HasSubstr("t.yaml:8:58: clients[2].nfs_versions: applies to kernel-mount"),
          HasSubstr("t.yaml:9:52: clients[3].mount_options: NFS version '4'")));
}

TEST(TopologyTest, UnreachableServerReferences) {
  EXPECT_THAT(
      Errors("name: t\nservers:\n  - {name: ref, variant: reference}\n"
             "  - {name: kovl, variant: kernel-overlay}\n"
             "clients:\n  - {name: c, access: libnfs, server: [ref, kovl, nope]}\n"),
      ElementsAre(
          "t.yaml:6:45: clients[0].server[1]: cannot reach server 'kovl': kernel-overlay is not "
          "served over NFS (use local-syscalls)",
          "t.yaml:6:51: clients[0].server[2]: unknown server 'nope'"));
}

TEST(TopologyTest, ServerWithoutClient) {
  EXPECT_THAT(Errors("name: t\nservers:\n  - {name: ref, variant: reference}\n"),
              ElementsAre("t.yaml:3:5: servers[0]: no client reaches server 'ref' (add a client "
                          "with access libnfs or kernel-mount on backend local)"));
}

TEST(TopologyTest, InstanceNamesMustNotCollide) {
  EXPECT_THAT(Errors("name: t\nservers:\n  - {name: ref, variant: reference}\n"
                     "clients:\n  - {name: c-2, access: libnfs}\n  - {name: c, access: libnfs, "
                     "count: 2}\n"),
              ElementsAre(HasSubstr("t.yaml:6:5: clients[1].count: duplicate name 'c-2'")));
}

TEST(TopologyTest, OverlayOptions) {
  Checked<Topology> t = Parse(
      "name: t\nservers:\n  - name: kovl\n    variant: kernel-overlay\n"
      "    overlay: {redirect_dir: nofollow, xino: auto}\n");
  ASSERT_TRUE(t.ok()) << FormatDiagnostics(t.errors());
  EXPECT_EQ(t->servers[0].overlay.MountOptions(),
            "index=on,nfs_export=on,redirect_dir=nofollow,xino=auto");
  // Combinations the kernel refuses are left to the mount (its cases become UNSUPPORTED).
  t = Parse(
      "name: t\nservers:\n  - name: kovl\n    variant: kernel-overlay\n"
      "    overlay: {metacopy: on, uuid: null}\n");
  ASSERT_TRUE(t.ok()) << FormatDiagnostics(t.errors());
  EXPECT_EQ(t->servers[0].overlay.MountOptions(), "index=on,nfs_export=on,metacopy=on,uuid=null");
  EXPECT_THAT(Errors("name: t\nservers:\n  - name: kovl\n    variant: kernel-overlay\n"
                     "    overlay: {index: off, uuid: maybe, xino: maybe}\n"
                     "  - name: ref\n    variant: reference\n    overlay: {index: on}\n"
                     "clients:\n  - {name: c, access: libnfs}\n"),
              ElementsAre("t.yaml:5:33: servers[0].overlay.uuid: unknown value 'maybe' (expected "
                          "one of: on, off, null, auto)",
                          "t.yaml:5:46: servers[0].overlay.xino: unknown value 'maybe' (expected "
                          "one of: on, off, auto)",
                          HasSubstr("t.yaml:8:14: servers[1].overlay: reference does not mount "
                                    "kernel overlayfs")));
}

TEST(TopologyTest, LayerSetups) {
  Checked<Topology> t = Parse(
      "name: t\nservers:\n  - name: kovl\n    variant: kernel-overlay\n"
      "    filesystems: {upper: ext4, lower: [same, tmpfs, xfs]}\n"
      "  - name: ro\n    variant: kernel-overlay\n    layers: 2\n"
      "    filesystems: {upper: none}\n    nested: true\n");
  ASSERT_TRUE(t.ok()) << FormatDiagnostics(t.errors());
  const ServerSpec& k = t->servers[0];
  EXPECT_EQ(k.layers, 3u);  // from the list
  EXPECT_THAT(k.lower_fs, ElementsAre(LayerFs::kSame, LayerFs::kTmpfs, LayerFs::kXfs));
  EXPECT_EQ(k.upper_fs, LayerFs::kExt4);
  EXPECT_TRUE(k.has_upper());
  EXPECT_FALSE(k.nested);
  EXPECT_EQ(k.DescribeLayers(), "layers 3 (lower same,tmpfs,xfs; upper ext4)");
  const ServerSpec& ro = t->servers[1];
  EXPECT_THAT(ro.lower_fs, ElementsAre(LayerFs::kSame, LayerFs::kSame));
  EXPECT_FALSE(ro.has_upper());
  EXPECT_TRUE(ro.nested);
  EXPECT_EQ(ro.DescribeLayers(), "layers 2 (lower same,same; upper none; nested)");
  EXPECT_EQ(Parse(kMinimal)->servers[0].DescribeLayers(), "layers 1");

  EXPECT_THAT(
      Errors("name: t\nservers:\n  - name: a\n    variant: kernel-overlay\n    layers: 2\n"
             "    filesystems: {upper: btrfs, lower: [none, ext4, tmpfs], colour: red}\n"
             "  - name: k\n    variant: knfsd\n    backend: libvirt\n    filesystems: {lower: "
             "[tmpfs]}\n"
             "  - name: n\n    variant: knfsd\n    backend: libvirt\n    nested: on\n"
             "    filesystems: {upper: xfs, lower: [same, ext4]}\n"
             "clients:\n  - {name: c, access: kernel-mount}\n"),
      ElementsAre(
          "t.yaml:6:18: servers[0].filesystems.lower: 3 entries, but layers is 2",
          "t.yaml:6:26: servers[0].filesystems.upper: unknown filesystem 'btrfs' (expected one "
          "of: same, tmpfs, ext4, xfs, none)",
          "t.yaml:6:41: servers[0].filesystems.lower[0]: a lower layer needs a filesystem "
          "('none' is for the upper)",
          "t.yaml:6:61: servers[0].filesystems.colour: unknown key (expected one of: upper, "
          "lower)",
          "t.yaml:10:18: servers[1].filesystems: tmpfs layers are for the local backend: a VM's "
          "reboot or crash would empty them (use ext4 or xfs, a disk of the VM's own)"));
}

TEST(TopologyTest, KernelAndFixture) {
  std::filesystem::path dir = std::filesystem::path(testing::TempDir()) / "topology_kernel";
  std::filesystem::create_directories(dir / "modules");
  std::ofstream(dir / "bzImage") << "x";
  Checked<Topology> t = ParseTopology(
      "name: t\nservers:\n  - name: k\n    variant: knfsd\n    backend: libvirt\n"
      "    kernel: {bzimage: bzImage, modules: modules}\n    fixture: small\n"
      "  - name: r\n    variant: reference\n    fixture: {files: 5, size: 1M, hardlinks: 2}\n"
      "clients:\n  - {name: c, access: kernel-mount}\n  - {name: l, access: libnfs}\n",
      "t.yaml", dir, TestCatalogue());
  ASSERT_TRUE(t.ok()) << FormatDiagnostics(t.errors());
  EXPECT_EQ(t->servers[0].kernel->bzimage, dir / "bzImage");
  EXPECT_EQ(t->servers[0].kernel->modules, dir / "modules");
  EXPECT_EQ(t->servers[0].fixture.Describe(), "small");
  EXPECT_EQ(t->servers[1].fixture.Describe(),
            "generated files=5 dirs=10 size=1M hardlinks=2 seed=1");
  EXPECT_THAT(
      Errors("name: t\nservers:\n  - name: k\n    variant: knfsd\n    backend: libvirt\n"
             "    kernel: {bzimage: /nonexistent/bz, modules: /nonexistent/m}\n"
             "  - {name: r, variant: reference, kernel: '6.1', fixture: large}\n"
             "  - {name: v, variant: knfsd, backend: libvirt, kernel: '5.10'}\n"
             "clients:\n  - {name: c, access: kernel-mount}\n  - {name: l, access: libnfs}\n"),
      ElementsAre("t.yaml:6:23: servers[0].kernel.bzimage: no such file: /nonexistent/bz",
                  "t.yaml:6:49: servers[0].kernel.modules: no such directory: /nonexistent/m",
                  "t.yaml:7:43: servers[1].kernel: only libvirt nodes boot a kernel of their own",
                  "t.yaml:7:59: servers[1].fixture: unknown fixture 'large' (expected one of: "
                  "small)",
                  "t.yaml:8:57: servers[2].kernel: unknown kernel '5.10' (expected one of: 6.1, "
                  "6.12, or {bzimage: PATH, modules: DIR})"));
}

constexpr char kMixed[] = R"(name: t
duration: 30s
servers:
  - {name: ref, variant: reference}
clients:
  - {name: c, access: libnfs}
workloads:
  mixed: {ops: 100}
  throughput:
    - seq-read
    - {job: create-stat-unlink, files: 50, clients: 2, duration: 5s}
faults:
)";

TEST(TopologyTest, WorkloadsAndFaults) {
  Checked<Topology> t = Parse(std::string(kMixed) +
                              "  - {kind: crash, target: ref, at: random, rate: 2}\n"
                              "  - {kind: evict, target: ref, at: step 40}\n"
                              "  - {kind: client-evict, target: c, at: 12s}\n");
  ASSERT_TRUE(t.ok()) << FormatDiagnostics(t.errors());
  EXPECT_TRUE(t->workloads.mixed.enabled);
  EXPECT_EQ(t->workloads.mixed.ops, 100u);
  EXPECT_THAT(t->workloads.mixed.clients, ElementsAre("c"));
  ASSERT_EQ(t->workloads.throughput.size(), 2u);
  EXPECT_EQ(t->workloads.throughput[0].kind, JobKind::kSeqRead);
  EXPECT_EQ(t->workloads.throughput[1].files, 50u);
  EXPECT_EQ(t->workloads.throughput[1].clients, 2u);
  ASSERT_EQ(t->faults.size(), 3u);
  EXPECT_EQ(t->faults[0].trigger, Trigger::kRandom);
  EXPECT_EQ(t->faults[0].rate, 2.0);
  EXPECT_EQ(t->faults[1].trigger, Trigger::kStep);
  EXPECT_EQ(t->faults[1].step, 40u);
  EXPECT_EQ(t->faults[2].trigger, Trigger::kTime);
  EXPECT_EQ(t->faults[2].time, milliseconds(12'000));
  EXPECT_EQ(t->faults[2].path, "faults[2]");
}

TEST(TopologyTest, FaultErrors) {
  EXPECT_THAT(
      Errors(std::string(kMixed) + "  - {kind: crash, target: c, at: step 500}\n"
                                   "  - {kind: client-evict, target: ref, at: 31s}\n"
                                   "  - {kind: reboot, target: ref, at: 5s, rate: 3}\n"
                                   "  - {kind: evict, target: ref, at: often}\n"),
      ElementsAre(
          "t.yaml:13:27: faults[0].target: unknown server 'c' (crash targets a server)",
          "t.yaml:13:34: faults[0].at: step 500 is beyond the mixed workload's 100 ops",
          "t.yaml:14:34: faults[1].target: unknown client 'ref' (client-evict targets a client)",
          "t.yaml:14:43: faults[1].at: 31s is not within duration 30s",
          "t.yaml:15:47: faults[2].rate: rate applies to at: random only",
          "t.yaml:16:36: faults[3].at: expected 'random', 'step N' (N >= 1) or a time such as "
          "12s, got 'often'"));
}

TEST(TopologyTest, FaultsNeedTheMixedWorkload) {
  EXPECT_THAT(
      Errors(std::string(kMinimal) + "faults:\n  - {kind: crash, target: ref, at: random}\n"),
      ElementsAre("t.yaml:9:3: faults: faults apply to the mixed workload: enable "
                  "workloads.mixed"));
}

TEST(TopologyTest, ThroughputJobParams) {
  EXPECT_THAT(
      Errors(std::string(kMinimal) + "workloads:\n  throughput:\n    - {job: seq-write, files: 3}\n"
                                     "    - {job: metadata-mix, size: 1M}\n    - fio\n"),
      ElementsAre(HasSubstr("t.yaml:10:31: workloads.throughput[0].files: seq-write "
                            "moves data"),
                  HasSubstr("t.yaml:11:33: workloads.throughput[1].size: metadata-mix "
                            "works on many small files"),
                  HasSubstr("t.yaml:12:7: workloads.throughput[2]: unknown throughput job "
                            "'fio'")));
}

TEST(TopologyTest, FioEngineIsForDataJobs) {
  Checked<Topology> t =
      Parse(std::string(kMinimal) +
            "workloads:\n  throughput:\n    - {job: rand-read-4k, engine: fio}\n");
  ASSERT_TRUE(t.ok()) << FormatDiagnostics(t.errors());
  EXPECT_EQ(t->workloads.throughput[0].engine, LoadEngine::kFio);
  EXPECT_THAT(
      Errors(std::string(kMinimal) +
             "workloads:\n  throughput:\n    - {job: metadata-mix, engine: fio}\n"
             "    - {job: seq-read, engine: dd}\n"),
      ElementsAre(HasSubstr("t.yaml:10:35: workloads.throughput[0].engine: metadata-mix is not a "
                            "data job"),
                  HasSubstr("t.yaml:11:31: workloads.throughput[1].engine: unknown load engine "
                            "'dd'")));
}

constexpr char kHosts[] = R"(name: t
backend: libvirt
libvirt:
  hosts:
    - {name: a, uri: "qemu:///system"}
    - {name: b, uri: "qemu+ssh://root@b/system", pool: x, pool_path: /srv/pool}
servers:
  - {name: s1, variant: knfsd, host: b}
  - {name: s2, variant: knfsd}
clients:
  - {name: k, access: kernel-mount, count: 2, per_server: true}
  - {name: p, access: kernel-mount, host: b, server: s1}
)";

TEST(TopologyTest, LibvirtHostsAndPins) {
  Checked<Topology> t = Parse(kHosts);
  ASSERT_TRUE(t.ok()) << FormatDiagnostics(t.errors());
  const std::vector<LibvirtHost>& hosts = t->libvirt.hosts;
  ASSERT_EQ(hosts.size(), 2u);
  EXPECT_EQ(hosts[0].name, "a");
  EXPECT_EQ(hosts[0].uri, "qemu:///system");
  EXPECT_EQ(hosts[0].pool, "ovlnfs-harness");
  EXPECT_EQ(hosts[0].pool_path, "/var/lib/libvirt/ovlnfs-harness");
  EXPECT_EQ(hosts[0].pos, (Pos{5, 7}));
  EXPECT_EQ(hosts[1].uri, "qemu+ssh://root@b/system");
  EXPECT_EQ(t->FindHost("b"), &hosts[1]);
  EXPECT_EQ(t->FindHost("b")->pool, "x");
  EXPECT_EQ(t->FindHost("b")->pool_path, "/srv/pool");
  EXPECT_EQ(t->FindHost("c"), nullptr);
  // The one-connection field follows the first host.
  EXPECT_EQ(t->libvirt.uri, "qemu:///system");
  EXPECT_EQ(t->servers[0].host, "b");
  EXPECT_EQ(t->servers[1].host, "");
  EXPECT_TRUE(t->clients[0].per_server);
  EXPECT_EQ(t->clients[0].host, "");
  EXPECT_THAT(t->clients[0].servers, ElementsAre("s1", "s2"));
  EXPECT_FALSE(t->clients[1].per_server);
  EXPECT_EQ(t->clients[1].host, "b");
  // Two instances of k per server, and p.
  EXPECT_THAT(t->Summary(), HasSubstr("2 servers, 2 clients (5 instances)"));
}

TEST(TopologyTest, LibvirtUriIsTheShorthandForOneHost) {
  Checked<Topology> t = Parse(kMinimal);
  ASSERT_TRUE(t.ok()) << FormatDiagnostics(t.errors());
  ASSERT_EQ(t->libvirt.hosts.size(), 1u);
  EXPECT_EQ(t->libvirt.hosts[0].name, "default");
  EXPECT_EQ(t->libvirt.hosts[0].uri, "qemu:///system");
  EXPECT_EQ(t->FindHost("default"), &t->libvirt.hosts[0]);

  t = Parse(std::string(kMinimal) + "libvirt:\n  uri: qemu+ssh://root@far/system\n");
  ASSERT_TRUE(t.ok()) << FormatDiagnostics(t.errors());
  ASSERT_EQ(t->libvirt.hosts.size(), 1u);
  EXPECT_EQ(t->libvirt.hosts[0].name, "default");
  EXPECT_EQ(t->libvirt.hosts[0].uri, "qemu+ssh://root@far/system");
  EXPECT_EQ(t->libvirt.hosts[0].pool, "ovlnfs-harness");
  EXPECT_EQ(t->libvirt.hosts[0].pos, (Pos{9, 8}));
  EXPECT_EQ(t->libvirt.uri, "qemu+ssh://root@far/system");
}

TEST(TopologyTest, LibvirtHostErrors) {
  EXPECT_THAT(
      Errors(std::string(kMinimal) +
             "libvirt:\n  uri: qemu:///system\n  hosts:\n"
             "    - {name: a, uri: \"qemu:///system\"}\n"
             "    - {name: a, uri: \"qemu:///x\"}\n"
             "    - {uri: \"qemu:///y\"}\n"
             "    - {name: Bad, uri: \"qemu:///z\"}\n"
             "    - {name: c, colour: red}\n"
             "    - {name: d, uri: \"\", pool: \"\", pool_path: srv/pool}\n"),
      ElementsAre(
          "t.yaml:9:8: libvirt.uri: give either uri (the shorthand for one host) or hosts, not "
          "both",
          "t.yaml:12:14: libvirt.hosts[1].name: duplicate host name 'a' (first used at line 11)",
          "t.yaml:13:7: libvirt.hosts[2].name: missing required key",
          "t.yaml:14:14: libvirt.hosts[3].name: invalid name 'Bad': use up to 40 lowercase "
          "letters, digits and '-', starting with a letter (names become VM and directory "
          "names)",
          "t.yaml:15:7: libvirt.hosts[4].uri: missing required key",
          "t.yaml:15:17: libvirt.hosts[4].colour: unknown key (expected one of: name, uri, pool, "
          "pool_path)",
          "t.yaml:16:22: libvirt.hosts[5].uri: must not be empty",
          "t.yaml:16:32: libvirt.hosts[5].pool: must not be empty",
          "t.yaml:16:47: libvirt.hosts[5].pool_path: must be an absolute path (on that host)"));
  EXPECT_THAT(Errors(std::string(kMinimal) + "libvirt:\n  hosts: []\n"),
              ElementsAre("t.yaml:9:10: libvirt.hosts: at least one host is needed"));
}

TEST(TopologyTest, HostKeyErrors) {
  EXPECT_THAT(
      Errors("name: t\nlibvirt:\n  hosts:\n    - {name: a, uri: \"qemu:///system\"}\n"
             "    - {name: b, uri: \"qemu+ssh://b/system\"}\n"
             "servers:\n"
             "  - {name: local, variant: reference, host: a}\n"
             "  - {name: vx, variant: knfsd, backend: libvirt, host: c}\n"
             "  - {name: va, variant: knfsd, backend: libvirt, host: a}\n"
             "  - {name: vb, variant: knfsd, backend: libvirt, host: b}\n"
             "  - {name: vfree, variant: knfsd, backend: libvirt}\n"
             "clients:\n"
             "  - {name: n, access: libnfs, host: a, per_server: true}\n"
             "  - {name: ka, access: kernel-mount, host: a, server: [va, vb, vfree]}\n"
             "  - {name: kb, access: kernel-mount, host: b, server: [vb, vfree]}\n"
             "  - {name: kc, access: kernel-mount, host: c}\n"),
      ElementsAre(
          "t.yaml:7:45: servers[0].host: only libvirt nodes run on a libvirt host (this node's "
          "backend is local)",
          "t.yaml:8:56: servers[1].host: unknown host 'c' (expected one of: a, b; see "
          "libvirt.hosts)",
          "t.yaml:13:37: clients[0].host: only libvirt nodes run on a libvirt host (this node's "
          "backend is local)",
          "t.yaml:13:52: clients[0].per_server: per_server gives each server VM client VMs of "
          "its own: libvirt clients only",
          "t.yaml:14:60: clients[1].server[1]: cannot reach server 'vb': the client is pinned to "
          "host 'a' and the server to host 'b': a link would cross hosts (links are qemu UDP "
          "sockets on one host's 127.0.0.1)",
          "t.yaml:15:44: clients[2].host: server 'vfree' is also reached by client 'ka', pinned "
          "to host 'a': its VM runs on one host, and links never cross hosts (pin the server "
          "with host:, or list this client's servers)",
          "t.yaml:16:44: clients[3].host: unknown host 'c' (expected one of: a, b; see "
          "libvirt.hosts)"));
}

// A pinned client without a server list reaches every server it can, but not across hosts.
TEST(TopologyTest, APinnedClientReachesOnlyServersThatCanShareItsHost) {
  Checked<Topology> t = Parse(
      "name: t\nbackend: libvirt\nlibvirt:\n  hosts:\n    - {name: a, uri: \"qemu:///system\"}\n"
      "    - {name: b, uri: \"qemu+ssh://b/system\"}\n"
      "servers:\n  - {name: va, variant: knfsd, host: a}\n  - {name: vb, variant: knfsd, host: b}\n"
      "  - {name: vfree, variant: knfsd}\n"
      "clients:\n  - {name: ka, access: kernel-mount, host: a}\n"
      "  - {name: kb, access: kernel-mount, host: b, server: vb}\n");
  ASSERT_TRUE(t.ok()) << FormatDiagnostics(t.errors());
  EXPECT_THAT(t->clients[0].servers, ElementsAre("va", "vfree"));
  EXPECT_THAT(t->clients[1].servers, ElementsAre("vb"));
}

TEST(TopologyTest, LoadTopologyReportsUnreadableFile) {
  Checked<Topology> t = LoadTopology("/nonexistent/x.yaml", TestCatalogue());
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.errors()[0].ToString(), HasSubstr("/nonexistent/x.yaml: cannot read: "));
}

}  // namespace
}  // namespace ovl::topology
