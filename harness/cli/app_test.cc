#include "cli/app.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/dry_run.h"
#include "topology/loader.h"

namespace ovl::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

const std::filesystem::path kRepo = OVL_SOURCE_DIR;

struct Outcome {
  int code = -1;
  std::string out;
  std::string err;
};

Commands RunOnly(RunFunction run) {
  Commands c;
  c.run = std::move(run);
  return c;
}

Commands DiffOnly(DiffFunction diff) {
  Commands c;
  c.diff = std::move(diff);
  return c;
}

Commands ImageAndClean(const ForwardFunction& f) {
  Commands c;
  c.image = f;
  c.clean = f;
  return c;
}

// Runs `harness args...`; a real run goes to `run` (default: fail the test).
Outcome Harness(std::vector<std::string> args, RunFunction run = nullptr) {
  if (!run) {
    run = [](const runner::RunRequest&) {
      ADD_FAILURE() << "unexpected run";
      return 99;
    };
  }
  args.insert(args.begin(), "harness");
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());
  std::ostringstream out, err;
  Outcome o;
  o.code = HarnessMain(static_cast<int>(argv.size()), argv.data(), out, err, RunOnly(run));
  o.out = out.str();
  o.err = err.str();
  return o;
}

std::vector<std::filesystem::path> ShippedTopologies() {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(kRepo / "topologies")) {
    if (e.path().extension() == ".yaml") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(ShippedTopologiesTest, AllValidate) {
  std::vector<std::filesystem::path> files = ShippedTopologies();
  EXPECT_GE(files.size(), 5u);
  for (const std::filesystem::path& file : files) {
    Outcome o = Harness({"validate", file.string()});
    EXPECT_EQ(o.code, 0) << file << "\n" << o.err;
    EXPECT_THAT(o.out, HasSubstr(": ok: ")) << file;
    EXPECT_THAT(o.err, IsEmpty()) << file;
  }
}

TEST(ShippedTopologiesTest, LocalIsTheDefaultMatrix) {
  Outcome o = Harness({"validate", (kRepo / "topologies/local.yaml").string()});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_THAT(o.out, HasSubstr("local: 4 servers, 2 clients (4 instances), 37 scenarios, "
                               "mixed 4000 ops / 20s, 4 faults"));
  EXPECT_THAT(o.out, HasSubstr("seed 1"));
}

TEST(ValidateTest, ErrorsGoToStderrWithExitCode2) {
  std::filesystem::path file = std::filesystem::path(testing::TempDir()) / "bad.yaml";
  std::ofstream(file) << "name: bad\nservers:\n  - {name: a, variant: knsfd}\nclients: 3\n";
  Outcome o = Harness({"validate", file.string()});
  EXPECT_EQ(o.code, 2);
  EXPECT_THAT(o.out, IsEmpty());
  EXPECT_THAT(o.err, HasSubstr(file.string() + ":3:24: servers[0].variant: unknown variant "
                                               "'knsfd' (expected one of: reference,"));
  EXPECT_THAT(o.err, HasSubstr(file.string() + ":4:10: clients: expected a list, got '3'"));
  EXPECT_THAT(o.err, HasSubstr("bad.yaml: 2 errors"));
}

TEST(ValidateTest, MissingFileIsATopologyError) {
  Outcome o = Harness({"validate", "/nonexistent.yaml"});
  EXPECT_EQ(o.code, 2);
  EXPECT_THAT(o.err, HasSubstr("/nonexistent.yaml: cannot read"));
}

TEST(ValidateTest, BrokenCatalogueIsReported) {
  Outcome o = Harness({"--workloads", "/nonexistent", "validate", "x.yaml"});
  EXPECT_EQ(o.code, 2);
  EXPECT_THAT(o.err, HasSubstr("cannot read /nonexistent/scenarios"));
  EXPECT_THAT(o.err, HasSubstr("harness: the workloads (/nonexistent, "));
}

// A copy of the shipped workloads and baselines with one mistake planted in each of a scenario
// step, a throughput job and a baseline line.
class BrokenWorkloads : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::filesystem::path(testing::TempDir()) / "broken_workloads";
    std::filesystem::remove_all(root_);
    std::filesystem::create_directories(root_);
    std::filesystem::copy(kRepo / "workloads", root_ / "workloads",
                          std::filesystem::copy_options::recursive);
    std::filesystem::copy(kRepo / "baselines", root_ / "baselines");
    Replace("workloads/scenarios/rename-file.yaml", "op: lookup", "op: lokup");
    Replace("workloads/throughput/seq-read.yaml", "pattern: sequential", "pattern: sideways");
    std::ofstream(root_ / "baselines" / "reference.txt") << "renam-file@crash: a typo\n";
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  void Replace(const std::string& rel, const std::string& from, const std::string& to) {
    std::ifstream in(root_ / rel);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t at = text.find(from);
    ASSERT_NE(at, std::string::npos) << rel << " has no " << from;
    text.replace(at, from.size(), to);
    std::ofstream(root_ / rel) << text;
  }
  Outcome Run(std::vector<std::string> args) {
    args.insert(args.begin(), {"--workloads", (root_ / "workloads").string(), "--baselines",
                               (root_ / "baselines").string()});
    return Harness(args);
  }

  std::filesystem::path root_;
};

TEST_F(BrokenWorkloads, ValidateDryRunAndRunReportEveryErrorBeforeStarting) {
  const std::string topology = (kRepo / "topologies/local.yaml").string();
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"validate", topology},
        std::vector<std::string>{"run", topology, "--dry-run"},
        std::vector<std::string>{"run", topology, "--results", (root_ / "results").string()}}) {
    Outcome o = Run(args);  // the run function would fail the test if it were called
    EXPECT_EQ(o.code, 2) << args[0];
    EXPECT_THAT(o.err, HasSubstr("rename-file.yaml:"));
    EXPECT_THAT(o.err, HasSubstr(": needs op: one of lookup"));
    EXPECT_THAT(o.err, HasSubstr("seq-read.yaml:"));
    EXPECT_THAT(o.err, HasSubstr("reference.txt:1:1: no scenario is named 'renam-file'"));
    EXPECT_THAT(o.err, HasSubstr("harness: the workloads ("));
    EXPECT_FALSE(std::filesystem::exists(root_ / "results")) << "no run directory";
  }
}

TEST(UsageTest, BadCommandLinesExitWith2) {
  EXPECT_EQ(Harness({}).code, 2);
  EXPECT_EQ(Harness({"frobnicate"}).code, 2);
  EXPECT_EQ(Harness({"validate"}).code, 2);
  EXPECT_EQ(Harness({"list", "kernels"}).code, 2);
  EXPECT_EQ(Harness({"run", "x.yaml", "--repeat", "0"}).code, 2);
  EXPECT_EQ(Harness({"run", "x.yaml", "--seed", "minus-one"}).code, 2);
  Outcome help = Harness({"run", "--help"});
  EXPECT_EQ(help.code, 0);
  EXPECT_THAT(help.out, HasSubstr("--dry-run"));
}

TEST(UsageTest, HelpListsEverySubcommand) {
  Outcome help = Harness({"--help"});
  EXPECT_EQ(help.code, 0);
  for (const char* sub : {"validate", "list", "report", "analyze", "diff", "run", "guest",
                          "explore", "image", "clean"}) {
    EXPECT_THAT(help.out, HasSubstr(std::string("\n  ") + sub + " ")) << help.out;
  }
}

TEST(UsageTest, ImageAndCleanGetEveryArgumentAfterTheirName) {
  std::vector<std::string> got;
  auto image = [&](const std::vector<std::string>& args, std::ostream&, std::ostream&) {
    got = args;
    return 3;
  };
  auto harness = [&](std::vector<const char*> argv) {
    std::ostringstream out, err;
    return HarnessMain(static_cast<int>(argv.size()), argv.data(), out, err, ImageAndClean(image));
  };
  EXPECT_EQ(harness({"harness", "image", "build", "--kernel", "6.1", "--force"}), 3);
  EXPECT_EQ(got, (std::vector<std::string>{"build", "--kernel", "6.1", "--force"}));
  // --help is the subcommand's own, not the front end's.
  EXPECT_EQ(harness({"harness", "clean", "--help"}), 3);
  EXPECT_EQ(got, std::vector<std::string>{"--help"});
  EXPECT_EQ(harness({"harness", "clean"}), 3);
  EXPECT_THAT(got, IsEmpty());
  // A build without them says so.
  EXPECT_EQ(Harness({"image", "list"}).code, kExitUsage);
  EXPECT_THAT(Harness({"clean"}).err, HasSubstr("clean is not available"));
}

TEST(ListTest, ListsCatalogueVariantsAndBackends) {
  Outcome o = Harness({"list", "scenarios"});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_THAT(o.out, HasSubstr("scenarios (37):"));
  EXPECT_THAT(o.out, HasSubstr("commit-durability        faults [evict, reboot, crash], needs "
                               "[power-loss, upper]"));
  EXPECT_THAT(o.out, Not(HasSubstr("variants:")));
  o = Harness({"list", "variants"});
  EXPECT_THAT(o.out, HasSubstr("knfsd-fuse"));
  EXPECT_THAT(o.out, HasSubstr("reference-volatile   local|libvirt"));
  o = Harness({"list", "backends"});
  EXPECT_THAT(o.out, HasSubstr("libvirt"));
  EXPECT_THAT(o.out, HasSubstr("local-syscalls"));
  o = Harness({"list"});
  EXPECT_THAT(o.out, HasSubstr("scenarios (37):"));
  EXPECT_THAT(o.out, HasSubstr("variants:"));
  EXPECT_THAT(o.out, HasSubstr("backends:"));
}

TEST(RunTest, PassesOptionsToTheExecutor) {
  runner::RunOptions seen;
  size_t cases = 0;
  size_t scenarios = 0;
  Outcome o = Harness({"run", (kRepo / "topologies/local.yaml").string(), "--seed", "7", "--only",
                       "rename-file", "--only", "unlink-all@crash", "--results", "/tmp/r", "--keep",
                       "--junit", "j.xml", "--json", "r.json", "--repeat", "3"},
                      [&](const runner::RunRequest& request) {
                        seen = request.options;
                        cases = request.plan.cases.size();
                        scenarios = request.workloads.scenarios.size();
                        EXPECT_EQ(request.plan.seed, 7u);
                        return 1;
                      });
  EXPECT_EQ(o.code, 1);
  EXPECT_THAT(o.out, HasSubstr("harness: topology local ("));
  EXPECT_THAT(o.out, HasSubstr("seed 7 (from --seed)"));
  EXPECT_EQ(seen.seed, 7u);
  EXPECT_EQ(seen.results_dir, "/tmp/r");
  EXPECT_EQ(seen.only, (std::vector<std::string>{"rename-file", "unlink-all@crash"}));
  EXPECT_TRUE(seen.keep);
  EXPECT_FALSE(seen.dry_run);
  EXPECT_EQ(seen.junit, std::filesystem::path("j.xml"));
  EXPECT_EQ(seen.json, std::filesystem::path("r.json"));
  EXPECT_EQ(seen.repeat, 3u);
  // The workloads travel with the plan, parsed: the runner reads no workload file.
  EXPECT_EQ(scenarios, 37u);
  // rename-file x 3 faults + unlink-all@crash, on each of 4 servers.
  EXPECT_EQ(cases, 4u * 4u);
}

TEST(GuestTest, PassesTheServerTheScriptAndItsBound) {
  const std::filesystem::path script = std::filesystem::path(testing::TempDir()) / "repro.sh";
  std::ofstream(script) << "uname -r\n";
  Commands c;
  std::string server, text, results;
  std::chrono::seconds timeout{0};
  c.guest = [&](const runner::RunRequest& request, const std::string& s, const std::string& t,
                std::chrono::seconds bound) {
    server = s;
    text = t;
    timeout = bound;
    results = request.options.results_dir.string();
    return 7;  // the script's exit code
  };
  const std::string topology = (kRepo / "topologies/vm-smoke.yaml").string();
  std::vector<const char*> argv = {"harness",   "guest", topology.c_str(), "knfsd", script.c_str(),
                                   "--timeout", "30",    "--results",      "/tmp/g"};
  std::ostringstream out, err;
  EXPECT_EQ(HarnessMain(static_cast<int>(argv.size()), argv.data(), out, err, c), 7) << err.str();
  EXPECT_EQ(server, "knfsd");
  EXPECT_EQ(text, "uname -r\n");
  EXPECT_EQ(timeout, std::chrono::seconds(30));
  EXPECT_EQ(results, "/tmp/g");
  // No script file, no topology: usage errors before anything starts.
  EXPECT_EQ(Harness({"guest", topology, "knfsd", "/nonexistent/repro.sh"}).code, 2);
  EXPECT_EQ(Harness({"guest", "/nonexistent.yaml", "knfsd", script.string()}).code, 2);
}

TEST(RunTest, AScenarioFileRunsAloneOnEveryServer) {
  const std::filesystem::path dir = std::filesystem::path(testing::TempDir()) / "scenario_file";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "gen-3-1-reference-min.yaml")
      << "id: gen-3-1-reference-min\nsummary: shrunk\nfaults: []\nneeds: []\n"
         "fixture:\n  entries:\n    - {file: a, size: 3}\n"
         "steps:\n  - {op: lookup, path: a, save: H}\n  - {fault: crash}\n"
         "  - {op: read, var: H}\n";
  std::vector<std::string> ids;
  Outcome o = Harness({"run", (kRepo / "topologies/local.yaml").string(), "--scenario",
                       (dir / "gen-3-1-reference-min.yaml").string()},
                      [&](const runner::RunRequest& request) {
                        for (const auto& c : request.plan.cases) ids.push_back(c.id);
                        EXPECT_NE(request.workloads.FindScenario("gen-3-1-reference-min"), nullptr);
                        return 0;
                      });
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(ids.size(), 4u);  // one case on each server, nothing else
  for (const std::string& id : ids) EXPECT_THAT(id, HasSubstr("/gen-3-1-reference-min"));

  // A file that does not parse names its line; a catalogue id cannot be taken twice.
  std::ofstream(dir / "bad.yaml") << "id: bad\nsummary: x\nfaults: []\nsteps:\n  - {op: fly}\n";
  o = Harness({"run", (kRepo / "topologies/local.yaml").string(), "--scenario",
               (dir / "bad.yaml").string()});
  EXPECT_EQ(o.code, 2);
  EXPECT_THAT(o.err, HasSubstr("bad.yaml:5:"));
  std::filesystem::copy_file(kRepo / "workloads/scenarios/rename-file.yaml",
                             dir / "rename-file.yaml",
                             std::filesystem::copy_options::overwrite_existing);
  o = Harness({"run", (kRepo / "topologies/local.yaml").string(), "--scenario",
               (dir / "rename-file.yaml").string()});
  EXPECT_EQ(o.code, 2);
  EXPECT_THAT(o.err, HasSubstr("already in the catalogue"));
}

TEST(ExploreTest, PassesItsOptionsAndTheRunsSeed) {
  Commands c;
  runner::ExploreOptions seen;
  uint64_t seed = 0;
  c.explore = [&](const runner::RunRequest& request, const runner::ExploreOptions& options) {
    seen = options;
    seed = request.plan.seed;
    return 1;
  };
  const std::string topology = (kRepo / "topologies/local.yaml").string();
  std::vector<const char*> argv = {"harness",
                                   "explore",
                                   topology.c_str(),
                                   "--seed",
                                   "9",
                                   "--budget",
                                   "90s",
                                   "--shrink-budget",
                                   "2m",
                                   "--faults",
                                   "crash,client-evict",
                                   "--one-client",
                                   "--server",
                                   "reference",
                                   "--steps",
                                   "12"};
  std::ostringstream out, err;
  EXPECT_EQ(HarnessMain(static_cast<int>(argv.size()), argv.data(), out, err, c), 1) << err.str();
  EXPECT_EQ(seed, 9u);
  EXPECT_EQ(seen.budget, std::chrono::seconds(90));
  EXPECT_EQ(seen.shrink_budget, std::chrono::minutes(2));
  EXPECT_EQ(seen.generator.faults,
            (std::vector<topology::FaultKind>{topology::FaultKind::kCrash,
                                              topology::FaultKind::kClientEvict}));
  EXPECT_FALSE(seen.generator.two_clients);
  EXPECT_TRUE(seen.generator.raw_nfs);
  EXPECT_EQ(seen.generator.steps, 12u);
  EXPECT_EQ(seen.servers, std::vector<std::string>{"reference"});
  // Bad values are usage errors before anything starts.
  EXPECT_EQ(Harness({"explore", topology, "--faults", "flood"}).code, 2);
  EXPECT_EQ(Harness({"explore", topology, "--budget", "soon"}).code, 2);
}

TEST(RunTest, TopologyAndOnlyErrorsStopBeforeTheExecutor) {
  std::filesystem::path file = std::filesystem::path(testing::TempDir()) / "bad-run.yaml";
  std::ofstream(file) << "name: bad\n";
  EXPECT_EQ(Harness({"run", file.string()}).code, 2);
  Outcome o =
      Harness({"run", (kRepo / "topologies/local-quick.yaml").string(), "--only", "two-clients"});
  EXPECT_EQ(o.code, 2);
  EXPECT_THAT(o.err, HasSubstr("does not run scenario 'two-clients'"));
}

// The dry run as the real binary does it (RunCommand minus the executor).
int DryRun(const runner::RunRequest& request, std::ostream* out) {
  EXPECT_TRUE(request.options.dry_run);
  std::ostringstream err;
  return PrintDryRun(request.options, request.topology, request.plan, *out, err);
}

TEST(DryRunTest, PrintsTheResolvedPlanDeterministically) {
  auto dry = [](std::vector<std::string> extra) {
    std::ostringstream text;
    std::vector<std::string> args = {"run", (kRepo / "topologies/local.yaml").string(),
                                     "--dry-run"};
    args.insert(args.end(), extra.begin(), extra.end());
    Outcome o =
        Harness(args, [&](const runner::RunRequest& request) { return DryRun(request, &text); });
    EXPECT_EQ(o.code, 0) << o.err;
    return o.out + text.str();
  };
  std::string a = dry({});
  EXPECT_EQ(a, dry({}));
  EXPECT_NE(a, dry({"--seed", "2"}));
  EXPECT_THAT(a, HasSubstr("seed: 1 (from the topology)"));
  EXPECT_THAT(a, HasSubstr("NFS port 0 (ephemeral: chosen when the server starts)"));
  EXPECT_THAT(a, HasSubstr("kernel-overlay-syscalls-1 local-syscalls"));
  EXPECT_THAT(a, HasSubstr("fault schedule (8 events):"));
  EXPECT_THAT(a, HasSubstr("faults[0], time drawn from the seed"));
  EXPECT_THAT(a, HasSubstr("UNSUPPORTED: needs power loss"));
  EXPECT_THAT(a, HasSubstr("expect fail (negative control)"));
  EXPECT_THAT(a, HasSubstr("links: none (no VMs)"));
}

TEST(DryRunTest, VmTopologyShowsLinksAndWritesPlanJson) {
  std::filesystem::path json = std::filesystem::path(testing::TempDir()) / "plan.json";
  std::ostringstream text;
  Outcome o = Harness(
      {"run", (kRepo / "topologies/vm-smoke.yaml").string(), "--dry-run", "--json", json.string()},
      [&](const runner::RunRequest& request) { return DryRun(request, &text); });
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_THAT(text.str(), HasSubstr("links (2, qemu UDP sockets on 127.0.0.1):"));
  EXPECT_THAT(text.str(), HasSubstr("NFS port 2049 in the guest"));
  EXPECT_THAT(text.str(), HasSubstr("t=30.000s"));
  std::ifstream in(json);
  nlohmann::json j = nlohmann::json::parse(in);
  EXPECT_EQ(j["topology"], "vm-smoke");
  EXPECT_EQ(j["links"].size(), 2u);
  for (const auto& link : j["links"]) {
    EXPECT_GE(link["server_port"].get<int>(), 20000);
    EXPECT_LE(link["client_port"].get<int>(), 29999);
  }
}

TEST(DiffCommandTest, HandsBothRunDirectoriesToTheDiff) {
  const char* argv[] = {"harness", "diff", "results/a", "results/b"};
  std::ostringstream out, err;
  std::string got_a, got_b;
  auto diff = [&](const std::string& a, const std::string& b, std::ostream&, std::ostream&) {
    got_a = a;
    got_b = b;
    return 1;
  };
  EXPECT_EQ(HarnessMain(4, argv, out, err, DiffOnly(diff)), 1);
  EXPECT_EQ(got_a, "results/a");
  EXPECT_EQ(got_b, "results/b");
  // One directory is a usage error, and a build without diff says so.
  EXPECT_EQ(HarnessMain(3, argv, out, err, DiffOnly(diff)), kExitUsage);
  EXPECT_EQ(HarnessMain(4, argv, out, err, Commands{}), kExitUsage);
  EXPECT_THAT(err.str(), HasSubstr("diff is not available"));
}

}  // namespace
}  // namespace ovl::cli
