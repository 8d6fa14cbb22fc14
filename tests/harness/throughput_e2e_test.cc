// The throughput phase end to end: a tiny version of topologies/local-compare.yaml (the same
// servers and jobs, seconds instead of minutes) run by the real `harness` binary. Every variant
// (ovlnfsd, nfs-ganesha, the physical reference) must produce figures for every job, each server
// a timeline and a recovery time around each fault, and ganesha verdicts next to ovlnfsd's.
// Needs root, overlayfs and nfs-ganesha.
#include <gtest/gtest.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "backend/local_ganesha.h"
#include "proc/process.h"

namespace ovl {
namespace {

namespace stdfs = std::filesystem;

// local-compare.yaml made tiny: two scenarios, small working sets, short jobs.
std::string TinyLocalCompare() {
  YAML::Node t = YAML::LoadFile(std::string(SOURCE_DIR) + "/topologies/local-compare.yaml");
  t["name"] = "local-compare-tiny";
  YAML::Node scenarios;
  scenarios.push_back("seed-unlink-reboot");
  scenarios.push_back("rename-parent");
  t["workloads"]["scenarios"] = scenarios;
  for (YAML::Node job : t["workloads"]["throughput"]) {
    if (job["size"]) job["size"] = "2M";
    if (job["files"]) job["files"] = 50;
    // The run under faults needs room for three faults and their restarts.
    job["duration"] = job["job"].as<std::string>() == "metadata-mix" ? "2s" : "300ms";
  }
  YAML::Emitter out;
  out << t;
  return out.c_str();
}

class ThroughputE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "the local backend needs root";
    if (std::string why = backend::GaneshaDaemon::UnavailableReason(); !why.empty()) {
      GTEST_SKIP() << why;
    }
    char tmpl[] = "/tmp/ovl_throughput_e2e.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    if (!dir_.empty()) stdfs::remove_all(dir_, ec);
  }

  // Runs harness with `args` (bounded), its output in <dir>/<log>: its exit code, -1 when it
  // did not exit by itself.
  int Harness(const std::vector<std::string>& args, const std::string& log) {
    std::vector<std::string> argv = {HARNESS_PATH};
    argv.insert(argv.end(), args.begin(), args.end());
    auto p = proc::Process::Start({argv, dir_ + "/" + log});
    EXPECT_TRUE(p.ok());
    if (!p.ok()) return -1;
    auto st = (*p)->Wait(std::chrono::seconds(120));
    return st.ok() && std::holds_alternative<proc::Exited>(*st) ? std::get<proc::Exited>(*st).code
                                                                : -1;
  }
  // The newest run directory under <dir>/results.
  std::string RunDir() const {
    std::string run_dir;
    for (const auto& e : stdfs::directory_iterator(dir_ + "/results")) run_dir = e.path();
    return run_dir;
  }

  std::string dir_;
};

TEST_F(ThroughputE2ETest, EveryVariantProducesFigures) {
  const std::string topology = dir_ + "/tiny.yaml";
  std::ofstream(topology) << TinyLocalCompare();
  auto p = proc::Process::Start(
      {{HARNESS_PATH, "run", topology, "--results", dir_ + "/results"}, dir_ + "/harness.log"});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  auto st = (*p)->Wait(std::chrono::seconds(400));
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  const std::string log = (*p)->Tail(80);
  ASSERT_TRUE(std::holds_alternative<proc::Exited>(*st)) << log;
  const int code = std::get<proc::Exited>(*st).code;
  EXPECT_TRUE(code == 0 || code == 1) << log;  // 1: a ganesha finding; never infrastructure

  std::string run_dir;
  for (const auto& e : stdfs::directory_iterator(dir_ + "/results")) run_dir = e.path();
  std::ifstream in(run_dir + "/results.json");
  nlohmann::json r = nlohmann::json::parse(in, nullptr, false);
  ASSERT_TRUE(r.is_object()) << log;

  // Figures for every job on every variant.
  const std::set<std::string> jobs = {"seq-read",      "seq-write",    "rand-read-4k",
                                      "rand-write-4k", "metadata-mix", "create-stat-unlink"};
  std::map<std::string, std::set<std::string>> measured;
  for (const auto& j : r["throughput"]["jobs"]) {
    SCOPED_TRACE(j.dump());
    EXPECT_FALSE(j.contains("error"));
    EXPECT_GT(j["ops"].get<uint64_t>(), 0u);
    EXPECT_GT(j["ops_per_s"].get<double>(), 0);
    EXPECT_GT(j["p99_us"].get<double>(), 0);
    EXPECT_GE(j["p99_us"].get<double>(), j["p50_us"].get<double>());
    EXPECT_EQ(j["clients"], 2);
    EXPECT_EQ(j["errors"], 0);
    if (j["unit"] == "MB/s") {
      EXPECT_GT(j["mb_per_s"].get<double>(), 0);
    }
    measured[j["variant"]].insert(j["job"].get<std::string>());
  }
  for (const char* variant : {"reference", "ganesha", "physical"}) {
    EXPECT_EQ(measured[variant], jobs) << variant;
  }
  EXPECT_EQ(measured.size(), 3u);

  // Each server recovered from each fault, and the timeline covers the run under faults.
  std::map<std::string, std::set<std::string>> recovered;
  for (const auto& f : r["throughput"]["recovery"]) {
    SCOPED_TRACE(f.dump());
    EXPECT_FALSE(f.contains("error"));
    ASSERT_TRUE(f["seconds_to_first_ok"].is_number());
    EXPECT_GE(f["seconds_to_first_ok"].get<double>(), 0);
    EXPECT_LT(f["seconds_to_first_ok"].get<double>(), 1.5);
    recovered[f["server"]].insert(f["fault"].get<std::string>());
  }
  const std::set<std::string> faults = {"crash", "reboot", "evict"};
  EXPECT_EQ(recovered["reference"], faults);
  EXPECT_EQ(recovered["ganesha"], faults);
  std::set<std::string> timelines;
  for (const auto& p : r["throughput"]["timeline"]) {
    timelines.insert(p["server"].get<std::string>() + "/" + p["job"].get<std::string>());
  }
  EXPECT_TRUE(timelines.count("reference/metadata-mix@faults"));
  EXPECT_TRUE(timelines.count("ganesha/metadata-mix@faults"));
  EXPECT_TRUE(timelines.count("physical/seq-read"));

  // ganesha is judged by the catalogue in the same matrix.
  EXPECT_EQ(r["matrix"]["seed-unlink-reboot"]["ganesha"]["reboot"], "PASS");
  EXPECT_EQ(r["matrix"]["rename-parent"]["reference"]["crash"], "PASS");
  EXPECT_NE(log.find("throughput: ganesha metadata-mix"), std::string::npos) << log;
}

// With --repeat N every job runs N times: N entries per job and server, which `harness diff`
// takes as repeats of one measurement and judges changes by their spread.
TEST_F(ThroughputE2ETest, RepeatedJobsGiveDiffASpread) {
  const std::string topology = dir_ + "/repeat.yaml";
  std::ofstream(topology) << "name: repeat\nservers:\n  - {name: reference, variant: reference}\n"
                          << "clients:\n  - {name: nfs, access: libnfs}\n"
                          << "workloads:\n  scenarios: []\n  throughput:\n"
                          << "    - {job: seq-read, size: 2M, clients: 1, duration: 300ms}\n";
  ASSERT_EQ(Harness({"run", topology, "--results", dir_ + "/results", "--repeat", "3"}, "run.log"),
            0);
  const std::string run_dir = RunDir();
  std::ifstream in(run_dir + "/results.json");
  nlohmann::json r = nlohmann::json::parse(in, nullptr, false);
  ASSERT_TRUE(r.is_object());
  std::map<std::string, int> entries;
  for (const auto& j : r["throughput"]["jobs"]) entries[j["server"].get<std::string>()]++;
  EXPECT_EQ(entries["reference"], 3);
  EXPECT_EQ(entries["physical"], 3);
  ASSERT_EQ(Harness({"diff", run_dir, run_dir}, "diff.log"), 0);
  std::ifstream diff_in(dir_ + "/diff.log");
  const std::string diff((std::istreambuf_iterator<char>(diff_in)), {});
  EXPECT_NE(diff.find("seq-read"), std::string::npos) << diff;
  EXPECT_EQ(diff.find("not enough repeats"), std::string::npos) << diff;
}

// engine: fio runs where the clients have a mounted path (here the physical reference; in VMs
// the kernel-mount clients) and is unsupported, with the reason, through libnfs.
TEST_F(ThroughputE2ETest, FioRunsOnMountedPathsOnly) {
  const std::string topology = dir_ + "/fio.yaml";
  std::ofstream(topology) << "name: fio\nservers:\n  - {name: reference, variant: reference}\n"
                          << "clients:\n  - {name: nfs, access: libnfs}\n"
                          << "workloads:\n  scenarios: []\n  throughput:\n"
                          << "    - {job: rand-write-4k, size: 2M, clients: 2, duration: 300ms, "
                             "engine: fio}\n";
  ASSERT_EQ(Harness({"run", topology, "--results", dir_ + "/results"}, "run.log"), 0);
  std::ifstream in(RunDir() + "/results.json");
  nlohmann::json r = nlohmann::json::parse(in, nullptr, false);
  ASSERT_TRUE(r.is_object());
  std::map<std::string, nlohmann::json> by_server;
  for (const auto& j : r["throughput"]["jobs"]) by_server[j["server"].get<std::string>()] = j;
  const nlohmann::json& physical = by_server["physical"];
  EXPECT_EQ(physical["engine"], "fio") << physical.dump();
  EXPECT_FALSE(physical.contains("error")) << physical.dump();
  EXPECT_GT(physical["ops_per_s"].get<double>(), 0) << physical.dump();
  EXPECT_GT(physical["p99_us"].get<double>(), 0) << physical.dump();
  EXPECT_EQ(physical["clients"], 2);
  EXPECT_NE(by_server["reference"].value("error", "").find("engine fio runs on a mounted path"),
            std::string::npos)
      << by_server["reference"].dump();
}

}  // namespace
}  // namespace ovl
