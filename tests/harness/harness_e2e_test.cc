// The harness end to end on the local backend: the default topology as `make run` runs it, a
// planted handle bug being caught (by the handle rules and by the corrupted-handle sweep), an
// interrupted run leaving nothing behind, and `harness report` re-rendering a finished run. Needs
// root (ovlnfsd, overlay mounts).
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "proc/process.h"

namespace ovl {
namespace {

namespace stdfs = std::filesystem;
using proc::Exited;
using proc::Process;

class HarnessE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "the local backend needs root";
    char tmpl[] = "/tmp/ovl_harness_e2e.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    if (!dir_.empty()) stdfs::remove_all(dir_, ec);
  }

  // Runs `harness ARGS` with `env` and returns its exit code; output goes to dir_/harness.log.
  int Harness(std::vector<std::string> args, const std::vector<std::string>& env = {},
              std::chrono::seconds timeout = std::chrono::seconds(300)) {
    std::vector<std::string> argv = {"env"};
    argv.insert(argv.end(), env.begin(), env.end());
    argv.push_back(HARNESS_PATH);
    argv.insert(argv.end(), args.begin(), args.end());
    auto p = Process::Start({argv, dir_ + "/harness.log"});
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    auto st = (*p)->Wait(timeout);
    EXPECT_TRUE(st.ok()) << st.status().ToString();
    log_ = (*p)->Tail(80);
    return st.ok() && std::holds_alternative<Exited>(*st) ? std::get<Exited>(*st).code : -1;
  }
  // The one run directory under dir_/results.
  std::string RunDir() {
    for (const auto& e : stdfs::directory_iterator(dir_ + "/results")) return e.path().string();
    return "";
  }
  nlohmann::json Results() {
    std::ifstream in(RunDir() + "/results.json");
    return nlohmann::json::parse(in, nullptr, false);
  }
  std::string Topology(const std::string& name, const std::string& text) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }

  std::string dir_, log_;
};

// Processes whose command line mentions `needle` (leaks of an earlier run).
int CountProcesses(const std::string& needle) {
  int n = 0;
  for (const auto& e : stdfs::directory_iterator("/proc")) {
    std::ifstream cmd(e.path() / "cmdline");
    std::string line((std::istreambuf_iterator<char>(cmd)), {});
    n += line.find(needle) != std::string::npos;
  }
  return n;
}

// Processes whose working directory is under `dir`: the harness is started there, so every
// process it starts (servers, agents) is one of them, and nothing else on the host is.
int CountProcessesIn(const std::string& dir) {
  int n = 0;
  std::error_code ec;
  for (const auto& e : stdfs::directory_iterator("/proc")) {
    auto cwd = stdfs::read_symlink(e.path() / "cwd", ec);
    n += !ec && cwd.string().rfind(dir, 0) == 0;
  }
  return n;
}

int CountMounts(const std::string& needle) {
  std::ifstream in("/proc/self/mounts");
  std::string line;
  int n = 0;
  while (std::getline(in, line)) n += line.find(needle) != std::string::npos;
  return n;
}

TEST_F(HarnessE2ETest, DefaultTopologyRunsAsExpected) {
  int code = Harness(
      {"run", std::string(SOURCE_DIR) + "/topologies/local.yaml", "--results", dir_ + "/results"});
  ASSERT_EQ(code, 0) << log_;
  auto r = Results();
  ASSERT_EQ(r["schema_version"], 1);
  std::map<std::string, std::map<std::string, int>> by_server;
  for (const auto& c : r["cases"]) by_server[c["server"]][c["verdict"]]++;
  EXPECT_EQ(by_server["reference"]["FAIL"], 0);
  EXPECT_EQ(by_server["reference"]["UNRESOLVED"], 0);
  EXPECT_EQ(by_server["reference"]["XFAIL"], 0);
  EXPECT_GE(by_server["reference"]["PASS"], 35);  // all but the power-loss scenarios
  bool mixed_passed = false;
  for (const auto& c : r["cases"]) {
    mixed_passed |= c["id"] == "reference/mixed" && c["verdict"] == "PASS";
  }
  EXPECT_TRUE(mixed_passed) << "the mixed workload with random faults did not pass";
  EXPECT_GT(by_server["volatile"]["XFAIL"], 0) << "negative control did not fail";
  EXPECT_GT(by_server["noindex"]["XFAIL"], 0) << "negative control did not fail";
  EXPECT_GT(by_server["kernel-overlay"]["PASS"] + by_server["kernel-overlay"]["XFAIL"], 10);
  const std::string run = RunDir();
  for (const char* f : {"manifest.json", "results.json", "junit.xml", "history.jsonl"}) {
    EXPECT_TRUE(stdfs::exists(run + "/" + f)) << f;
  }
  EXPECT_NE(log_.find("harness: results in"), std::string::npos);
  EXPECT_EQ(CountMounts(dir_), 0);
  EXPECT_EQ(CountProcesses(dir_), 0);
}

// Offline edits on every local server (topologies/local-offline.yaml): ovlnfsd passes them, the
// planted lookup-ignores-index is caught by offline-link-lower, rename-skips-merge-dir-index by
// late-nfs-export, unlink-leaves-no-tombstone by unlink-all, per-boot handles by the edits that
// leave some held handles untouched, and the tmpfs copy-layers mounts is gone afterwards like
// every other mount.
TEST_F(HarnessE2ETest, OfflineEditsRunAndCatchTheirPlant) {
  int code = Harness({"run", std::string(SOURCE_DIR) + "/topologies/local-offline.yaml",
                      "--results", dir_ + "/results"});
  ASSERT_EQ(code, 0) << log_;
  std::map<std::string, std::map<std::string, int>> by_server;
  std::set<std::string> caught;
  const nlohmann::json results = Results();
  for (const auto& c : results["cases"]) {
    by_server[c["server"]][c["verdict"]]++;
    if (c["verdict"] == "XFAIL") caught.insert(c["id"]);
  }
  EXPECT_EQ(by_server["reference"]["FAIL"] + by_server["reference"]["UNRESOLVED"] +
                by_server["reference"]["XFAIL"],
            0);
  EXPECT_GE(by_server["reference"]["PASS"], 10);
  EXPECT_TRUE(caught.count("lookup-ignores-index/libnfs/offline-link-lower@crash")) << log_;
  EXPECT_TRUE(caught.count("lookup-ignores-index/libnfs/offline-link-lower@reboot")) << log_;
  EXPECT_TRUE(caught.count("rename-skips-merge-dir-index/libnfs/late-nfs-export@crash")) << log_;
  EXPECT_TRUE(caught.count("rename-skips-merge-dir-index/libnfs/late-nfs-export@reboot")) << log_;
  for (const char* fault : {"evict", "reboot", "crash"}) {
    EXPECT_TRUE(caught.count("unlink-leaves-no-tombstone/libnfs/unlink-all@" + std::string(fault)))
        << fault << log_;
  }
  // Files kept open: only the host's overlay has a client that opens (local syscalls), and a
  // restart of it cannot happen while they are open (plan.cc says why).
  EXPECT_GT(by_server["kernel-overlay"]["PASS"], 0);
  bool open_unlinked_passed = false;
  for (const auto& c : results["cases"]) {
    open_unlinked_passed |=
        c["id"] == "kernel-overlay/local-syscalls/open-unlinked@evict" && c["verdict"] == "PASS";
  }
  EXPECT_TRUE(open_unlinked_passed) << log_;
  for (const char* id :
       {"offline-remove-upper", "offline-rename-lower-dir", "offline-remove-lower-dir"}) {
    EXPECT_TRUE(caught.count("volatile/libnfs/" + std::string(id) + "@crash")) << id << log_;
  }
  EXPECT_EQ(CountMounts(dir_), 0);
  EXPECT_EQ(CountProcesses(dir_), 0);
}

// The mutation run (docs/planted-bugs.md): the catalogue catches every planted bug of
// topologies/local-mutation.yaml (none is blind) and passes on the correct server.
TEST_F(HarnessE2ETest, TheCatalogueCatchesEveryPlantedBug) {
  int code = Harness({"run", std::string(SOURCE_DIR) + "/topologies/local-mutation.yaml",
                      "--results", dir_ + "/results"},
                     {}, std::chrono::seconds(600));
  ASSERT_EQ(code, 0) << log_;
  const nlohmann::json results = Results();
  EXPECT_TRUE(results["blind_controls"].empty()) << results["blind_controls"].dump();
  std::map<std::string, std::map<std::string, int>> by_server;
  for (const auto& c : results["cases"]) by_server[c["server"]][c["verdict"]]++;
  EXPECT_GE(by_server.size(), 14u);
  for (const auto& [server, verdicts] : by_server) {
    if (server == "reference") {
      EXPECT_EQ(verdicts.count("FAIL") + verdicts.count("XFAIL") + verdicts.count("UNRESOLVED"),
                0u);
    } else {
      EXPECT_GT(verdicts.count("XFAIL"), 0u) << server;
    }
  }
  EXPECT_EQ(CountMounts(dir_), 0);
  EXPECT_EQ(CountProcesses(dir_), 0);
}

// `harness explore` finds a planted bug with generated cases alone, shrinks it, and the shrunk
// scenario file replays to the same finding through `harness run --scenario`; the correct server
// passes every generated case of the same run.
TEST_F(HarnessE2ETest, ExploreFindsShrinksAndReplaysAPlantedBug) {
  const std::string topology = std::string(SOURCE_DIR) + "/topologies/local-offline.yaml";
  const std::string plant = "unlink-leaves-no-tombstone";
  int code =
      Harness({"explore", topology, "--server", "reference", "--server", plant, "--seed", "5",
               "--budget", "15s", "--shrink-budget", "90s", "--results", dir_ + "/results"});
  ASSERT_EQ(code, 0) << log_;
  const nlohmann::json results = Results();
  const nlohmann::json& explore = results["explore"];
  EXPECT_GE(explore["generated"].get<int>(), 10) << explore.dump();
  std::map<std::string, int> reference;
  for (const auto& c : results["cases"]) {
    if (c["server"] == "reference") reference[c["verdict"]]++;
  }
  EXPECT_GE(reference["PASS"], 10);
  EXPECT_EQ(reference.size(), 1u) << results["cases"].dump();
  nlohmann::json shrunk;
  for (const auto& s : explore["shrunk"]) {
    if (s["server"] == plant) shrunk = s;
  }
  ASSERT_TRUE(shrunk.is_object()) << explore.dump();
  EXPECT_LE(shrunk["steps_after"].get<int>(), 10);
  EXPECT_LT(shrunk["steps_after"], shrunk["steps_before"]);
  EXPECT_EQ(shrunk["replay_verdict"], "XFAIL");
  EXPECT_EQ(shrunk["replay_rule"], shrunk["rule"]);
  const std::string file = RunDir() + "/" + shrunk["file"].get<std::string>();
  ASSERT_TRUE(stdfs::exists(file));
  std::ifstream html(RunDir() + "/report.html");
  const std::string page((std::istreambuf_iterator<char>(html)), {});
  EXPECT_NE(page.find(shrunk["file"].get<std::string>()), std::string::npos);

  code =
      Harness({"run", topology, "--scenario", file, "--seed", "5", "--results", dir_ + "/replay"});
  EXPECT_NE(code, 3) << log_;
  const std::string id = stdfs::path(file).stem().string();
  std::ifstream in(stdfs::directory_iterator(dir_ + "/replay")->path() / "results.json");
  const nlohmann::json replay = nlohmann::json::parse(in, nullptr, false);
  std::map<std::string, nlohmann::json> by_id;
  for (const auto& c : replay["cases"]) by_id[c["id"]] = c;
  ASSERT_TRUE(by_id.count(plant + "/libnfs/" + id)) << replay.dump();
  EXPECT_EQ(by_id[plant + "/libnfs/" + id]["verdict"], "XFAIL");
  EXPECT_NE(by_id[plant + "/libnfs/" + id]["explanation"].get<std::string>().find(
                "MUST " + shrunk["rule"].get<std::string>()),
            std::string::npos);
  EXPECT_EQ(by_id["reference/libnfs/" + id]["verdict"], "PASS");
  EXPECT_EQ(CountMounts(dir_), 0);
  EXPECT_EQ(CountProcesses(dir_), 0);
}

// A reader that goes away (`harness run ... | head`) must not end the run half-way, with servers
// up and no results: writes to the closed pipe fail, and the run goes on and cleans up.
TEST_F(HarnessE2ETest, AClosedStdoutDoesNotCutTheRunShort) {
  const std::string cmd = std::string(HARNESS_PATH) + " run " + SOURCE_DIR +
                          "/topologies/local-offline.yaml --only offline-link-lower --results " +
                          dir_ + "/results | true";
  auto p = Process::Start({{"sh", "-c", cmd}, dir_ + "/harness.log"});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  auto st = (*p)->Wait(std::chrono::seconds(300));
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  log_ = (*p)->Tail(80);
  const nlohmann::json results = Results();
  ASSERT_TRUE(results.contains("cases")) << log_;
  EXPECT_FALSE(results["cases"].empty());
  EXPECT_EQ(CountMounts(dir_), 0);
  EXPECT_EQ(CountProcesses(dir_), 0);
}

// `harness guest` runs scripts in server VMs only: a local server is a usage error, before
// anything starts (the VM path: VmSmokeTest.GuestRunsAScriptInOneServerVmAndLeavesNothing).
TEST_F(HarnessE2ETest, GuestRefusesALocalServer) {
  const std::string script = Topology("probe.sh", "true\n");
  EXPECT_EQ(Harness({"guest", std::string(SOURCE_DIR) + "/topologies/local.yaml", "reference",
                     script, "--results", dir_ + "/results"}),
            2);
  EXPECT_NE(log_.find("reference is not a server of local that runs in a VM"), std::string::npos)
      << log_;
}

TEST_F(HarnessE2ETest, PlantedHandleBugIsCaught) {
  std::string topo = Topology("planted.yaml", R"(name: planted
seed: 5
backend: local
servers:
  - {name: reference, variant: reference}
clients:
  - {name: nfs, access: libnfs}
workloads:
  scenarios: [seed-unlink-reboot, copyup-keeps-handle, rename-parent]
)");
  // The same run against the real server passes: the failure below is the planted bug's.
  ASSERT_EQ(Harness({"run", topo, "--results", dir_ + "/results"}), 0) << log_;
  stdfs::remove_all(dir_ + "/results");
  int code = Harness({"run", topo, "--results", dir_ + "/results"},
                     {"OVL_OVLNFSD=" + std::string(PLANTED_BUG_OVLNFSD),
                      "OVL_REAL_OVLNFSD=" + std::string(OVLNFSD_PATH)});
  EXPECT_EQ(code, 1) << log_;
  int fails = 0;
  auto results = Results();
  ASSERT_TRUE(results.contains("cases")) << RunDir();
  for (const auto& c : results["cases"]) {
    if (c["verdict"] == "FAIL") {
      ++fails;
      EXPECT_NE(c["explanation"].get<std::string>().find("seed 5"), std::string::npos);
    }
  }
  EXPECT_GE(fails, 6) << "every reboot/crash/evict case must catch the planted bug";
  EXPECT_NE(log_.find("FAIL: reference/libnfs/"), std::string::npos);

  // The history is the single source of truth: judged again, it gives the run's verdicts...
  const std::string run = RunDir();
  const nlohmann::json judged_by_the_run = results["cases"];
  EXPECT_EQ(Harness({"analyze", run}), 1) << log_;
  EXPECT_EQ(Results()["cases"], judged_by_the_run);
  // ...and once the bug is a known failure, the same stored history gives XFAIL, not FAIL.
  const std::string baselines = dir_ + "/baselines";
  stdfs::create_directories(baselines);
  std::ofstream(baselines + "/reference.txt") << "seed-unlink-reboot sometimes: the planted bug\n"
                                              << "copyup-keeps-handle sometimes: the planted bug\n"
                                              << "rename-parent sometimes: the planted bug\n";
  EXPECT_EQ(Harness({"--baselines", baselines, "analyze", run}), 0) << log_;
  int xfails = 0;
  const nlohmann::json rejudged = Results();
  for (const auto& c : rejudged["cases"]) {
    EXPECT_NE(c["verdict"], "FAIL") << c["id"];
    if (c["verdict"] == "XFAIL") {
      ++xfails;
      EXPECT_NE(c["explanation"].get<std::string>().find("known failure"), std::string::npos);
    }
  }
  EXPECT_EQ(xfails, fails);
  std::ifstream junit(run + "/junit.xml");
  std::string junit_text((std::istreambuf_iterator<char>(junit)), std::istreambuf_iterator<char>());
  EXPECT_EQ(junit_text.find("<failure"), std::string::npos) << "junit.xml is rewritten too";
  // A baseline line that names no scenario is refused before anything is judged.
  std::ofstream(baselines + "/reference.txt") << "seed-unlink-rebot: a typo\n";
  EXPECT_EQ(Harness({"--baselines", baselines, "analyze", run}), 2) << log_;
  EXPECT_NE(log_.find("reference.txt:1:1: no scenario is named 'seed-unlink-rebot'"),
            std::string::npos)
      << log_;
  // A directory without a history cannot be judged.
  stdfs::remove(run + "/history.jsonl");
  EXPECT_EQ(Harness({"analyze", run}), 2) << log_;
}

// The corrupted-handle sweep's negative control (topologies/local-sweep.yaml): ovlnfsd with its
// handle tag unchecked (docs/planted-bugs.md, handle-tag-unchecked) lets a handle with its layer
// byte flipped to "upper" reach the lower inode: the stale lower copy of a copied-up file, a
// removed file. The sweeps catch both as corrupt-handle; the correct server beside it answers
// every corrupted handle with BADHANDLE or STALE.
TEST_F(HarnessE2ETest, SweepCatchesAnUncheckedHandleTag) {
  ASSERT_EQ(Harness({"run", std::string(SOURCE_DIR) + "/topologies/local-sweep.yaml", "--results",
                     dir_ + "/results"}),
            0)
      << log_;
  auto r = Results();
  ASSERT_TRUE(r.contains("cases")) << RunDir();
  std::set<std::string> caught;
  int reference_sweeps = 0;
  for (const auto& c : r["cases"]) {
    const nlohmann::json& sweep = c["sweep"];
    ASSERT_TRUE(sweep.is_object()) << c["id"];
    if (c["server"] == "reference") {
      EXPECT_EQ(c["verdict"], "PASS") << c["id"] << ": " << c["explanation"];
      EXPECT_EQ(sweep["violations"], 0) << c["id"];
      for (const auto& [answer, n] : sweep["outcomes"].items()) {
        EXPECT_TRUE(answer == "BADHANDLE" || answer == "STALE") << c["id"] << " " << answer;
      }
      reference_sweeps += sweep["sent"].get<int>();
    } else if (c["server"] == "tagless" && c["verdict"] == "XFAIL") {
      EXPECT_NE(c["explanation"].get<std::string>().find("MUST corrupt-handle"), std::string::npos)
          << c["explanation"];
      EXPECT_GT(sweep["outcomes"].value("wrong-object", 0), 0) << sweep.dump();
      caught.insert(c["id"].get<std::string>());
    }
  }
  EXPECT_EQ(caught, (std::set<std::string>{"tagless/libnfs/sweep-copied-up@evict",
                                           "tagless/libnfs/sweep-copied-up@reboot",
                                           "tagless/libnfs/sweep-removed-file@evict",
                                           "tagless/libnfs/sweep-removed-file@reboot"}));
  EXPECT_GT(reference_sweeps, 8 * 500);  // every sweep of 8 cases ran
}

TEST_F(HarnessE2ETest, InterruptedRunLeavesNothingBehind) {
  std::string topo = Topology("long.yaml", R"(name: long
seed: 3
duration: 30s
backend: local
servers:
  - {name: reference, variant: reference}
  - {name: kernel-overlay, variant: kernel-overlay, overlay: {index: on, nfs_export: on}}
clients:
  - {name: nfs, access: libnfs, count: 2}
workloads:
  scenarios: all
  mixed: {ops: 100000}
faults:
  - {kind: crash, target: reference, at: random, rate: 30}
)");
  auto p = Process::Start({{"sh", "-c",
                            "cd '" + dir_ + "' && exec '" + std::string(HARNESS_PATH) + "' run '" +
                                topo + "' --results '" + dir_ + "/results'"},
                           dir_ + "/harness.log"});
  ASSERT_TRUE(p.ok());
  auto started =
      (*p)->WaitForLine([](const std::string& l) { return l.find("PASS: ") != std::string::npos; },
                        std::chrono::seconds(60));
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  std::this_thread::sleep_for(std::chrono::seconds(2));
  ASSERT_TRUE((*p)->Signal(SIGINT).ok());
  auto st = (*p)->Wait(std::chrono::seconds(120));
  ASSERT_TRUE(st.ok()) << "harness did not stop after SIGINT";
  ASSERT_TRUE(std::holds_alternative<Exited>(*st));
  EXPECT_NE(std::get<Exited>(*st).code, 0);
  EXPECT_NE((*p)->Tail(20).find("interrupted"), std::string::npos) << (*p)->Tail(20);
  EXPECT_EQ(CountMounts(dir_), 0) << "an overlay mount leaked";
  EXPECT_EQ(CountProcesses(dir_), 0) << "a server leaked";
  EXPECT_EQ(CountProcessesIn(dir_), 0) << "a server or an agent leaked";
  EXPECT_TRUE(stdfs::exists(RunDir() + "/results.json")) << "partial results not written";
}

// One scenario (unlink-all) on ovlnfsd through libnfs: a run of a few seconds.
std::string QuickUnlinkAllYaml() {
  return R"(name: quick
backend: local
servers:
  - {name: reference, variant: reference}
clients:
  - {name: nfs, access: libnfs}
workloads:
  scenarios: [unlink-all]
)";
}

TEST_F(HarnessE2ETest, ReportRerendersAFinishedRun) {
  std::string topo = Topology("quick.yaml", QuickUnlinkAllYaml());
  ASSERT_EQ(Harness({"run", topo, "--results", dir_ + "/results"}), 0) << log_;
  const std::string run = RunDir();
  EXPECT_TRUE(stdfs::exists(run + "/report.html")) << "harness run writes the report";
  stdfs::remove(run + "/junit.xml");
  stdfs::remove(run + "/report.html");
  EXPECT_EQ(Harness({"report", run}), 0) << log_;
  EXPECT_TRUE(stdfs::exists(run + "/junit.xml"));
  EXPECT_TRUE(stdfs::exists(run + "/report.html"));
  EXPECT_NE(log_.find("unlink-all"), std::string::npos);
  EXPECT_EQ(Harness({"report", dir_}), 2) << "a directory without results must be refused";
}

TEST_F(HarnessE2ETest, ResultsThatCannotBeWrittenAreAnInfrastructureError) {
  std::string topo = Topology("quick.yaml", QuickUnlinkAllYaml());
  // --json names a directory: results.json cannot be copied there.
  const std::string json_path = dir_ + "/a-directory";
  stdfs::create_directory(json_path);
  EXPECT_EQ(Harness({"run", topo, "--results", dir_ + "/results", "--json", json_path}), 3) << log_;
  EXPECT_NE(log_.find("harness: cannot write " + json_path), std::string::npos) << log_;
  EXPECT_TRUE(stdfs::exists(RunDir() + "/results.json")) << "the other files are still written";

  // `harness report` whose report.html cannot be replaced.
  const std::string run = RunDir();
  stdfs::remove(run + "/report.html");
  stdfs::create_directory(run + "/report.html");
  EXPECT_EQ(Harness({"report", run}), 3) << log_;
  EXPECT_NE(log_.find("harness: cannot write " + run + "/report.html"), std::string::npos) << log_;
}

// The host kernel's own messages as findings of the case that made them: an overlay mounted
// with xino=on on one filesystem makes the kernel say the option is useless (a real overlayfs
// line, harmless), at every mount: each case of that server has it as a MAY finding and passes;
// the same scenario on a server without the option has no such line. `harness analyze` judges
// the lines again from the history.
TEST_F(HarnessE2ETest, HostKernelMessagesAreFindingsOfTheirCase) {
  std::string topo = Topology("kmsg.yaml", R"(name: kmsg
backend: local
servers:
  - {name: xino, variant: kernel-overlay, overlay: {index: on, nfs_export: on, xino: on}}
  - {name: plain, variant: kernel-overlay, overlay: {index: on, nfs_export: on}}
workloads:
  scenarios: [upper-only]
)");
  ASSERT_EQ(Harness({"run", topo, "--results", dir_ + "/results"}), 0) << log_;
  const std::string kXino = "overlayfs: \"xino=on\" is useless";
  auto check = [&](const nlohmann::json& results) {
    int xino_cases = 0, plain_cases = 0;
    for (const auto& c : results["cases"]) {
      bool finding = false;
      for (const auto& f : c["findings"]) {
        finding |= f.value("rule", "") == "kernel-overlayfs" && !f.value("must", true) &&
                   f.value("got", "").find(kXino) != std::string::npos;
      }
      bool line = false;
      for (const auto& l : c.value("kernel_lines", nlohmann::json::array())) {
        line |= l.get<std::string>().find(kXino) != std::string::npos;
      }
      if (c["server"] == "xino") {
        ++xino_cases;
        EXPECT_EQ(c["verdict"], "PASS") << c.dump(2);
        EXPECT_TRUE(finding) << c.dump(2);
        EXPECT_TRUE(line) << c.dump(2);
      } else {
        ++plain_cases;
        EXPECT_EQ(c["verdict"], "PASS") << c.dump(2);
        EXPECT_FALSE(finding) << c.dump(2);
      }
    }
    EXPECT_EQ(xino_cases, 3);  // upper-only@evict, @reboot, @crash
    EXPECT_EQ(plain_cases, 3);
  };
  check(Results());
  // The history holds the lines as each case's "kernel" event.
  std::ifstream history(RunDir() + "/history.jsonl");
  int kernel_events = 0;
  for (std::string line; std::getline(history, line);) {
    const auto e = nlohmann::json::parse(line, nullptr, false);
    kernel_events += e.value("type", "") == "kernel";
  }
  EXPECT_EQ(kernel_events, 6);
  // Judged again from the file: the same findings.
  nlohmann::json before = Results();
  for (auto& c : before["cases"]) {
    c["findings"] = nlohmann::json::array();
    c["kernel_lines"] = nlohmann::json::array();
  }
  std::ofstream(RunDir() + "/results.json") << before.dump();
  ASSERT_EQ(Harness({"analyze", RunDir()}), 0) << log_;
  check(Results());
  std::ifstream html(RunDir() + "/report.html");
  const std::string page((std::istreambuf_iterator<char>(html)), {});
  EXPECT_NE(page.find("Passed with kernel messages (MAY)"), std::string::npos);
  EXPECT_NE(page.find("is useless with all layers on same fs"), std::string::npos);
}

}  // namespace
}  // namespace ovl
