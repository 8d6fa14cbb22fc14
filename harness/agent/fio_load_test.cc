// The fio engine: its command line per job, its reading of fio's json+ output and IOPS log, and
// real fio runs (Debian's fio) of every data job on a scratch directory, through the agent.
#include "agent/fio_load.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "agent/agent.h"
#include "agent/executor_test_util.h"
#include "backend/fixture_disk.h"
#include "ops/fixture.h"
#include "support/scratch_dir.h"
#include "throughput/jobs.h"

namespace ovl::agent {
namespace {

using nlohmann::json;
using throughput::LoadReport;
using throughput::LoadRequest;
namespace tp = ::ovl::topology;

constexpr std::chrono::milliseconds kShort{300};

throughput::ResolvedJob Small(tp::JobKind kind) {
  topology::Checked<throughput::JobCatalogue> c =
      throughput::LoadJobCatalogue(std::string(OVL_SOURCE_DIR) + "/workloads/throughput");
  EXPECT_TRUE(c.ok()) << topology::FormatDiagnostics(c.errors());
  tp::ThroughputJob entry{.kind = kind,
                          .size = 1024 * 1024,
                          .clients = 1,
                          .duration = kShort,
                          .engine = tp::LoadEngine::kFio};
  return throughput::Resolve(*c->Find(kind), entry);
}

bool Has(const std::vector<std::string>& args, const std::string& arg) {
  return std::find(args.begin(), args.end(), arg) != args.end();
}

TEST(FioArgsTest, MapEachDataJobOntoOneDirectFioJob) {
  const auto read =
      FioArgs(throughput::RequestFor(Small(tp::JobKind::kSeqRead), 0, 7, kShort, false),
              "/mnt/s/tput/c0/data", "/tmp/o");
  EXPECT_EQ(read.front(), "fio");
  EXPECT_TRUE(Has(read, "--rw=read"));
  EXPECT_TRUE(Has(read, "--bs=1048576"));
  EXPECT_TRUE(Has(read, "--direct=1"));
  EXPECT_TRUE(Has(read, "--filename=/mnt/s/tput/c0/data"));
  EXPECT_TRUE(Has(read, "--runtime=300ms"));
  EXPECT_TRUE(Has(read, "--randseed=7"));
  EXPECT_TRUE(Has(read, "--log_avg_msec=300"));
  EXPECT_FALSE(std::any_of(read.begin(), read.end(),
                           [](const std::string& a) { return a.starts_with("--fsync"); }));

  // rand-write-4k is unstable: a COMMIT (fsync) after every working set's worth of writes.
  const auto write =
      FioArgs(throughput::RequestFor(Small(tp::JobKind::kRandWrite4k), 0, 1, kShort, false), "/f",
              "/tmp/o");
  EXPECT_TRUE(Has(write, "--rw=randwrite"));
  EXPECT_TRUE(Has(write, "--bs=4096"));
  EXPECT_TRUE(Has(write, "--fsync=256"));

  LoadRequest stable =
      throughput::RequestFor(Small(tp::JobKind::kRandWrite4k), 0, 1, kShort, false);
  stable.job.stable = ops::Stable::kFileSync;
  EXPECT_TRUE(Has(FioArgs(stable, "/f", "/tmp/o"), "--sync=sync"));
  stable.job.stable = ops::Stable::kDataSync;
  EXPECT_TRUE(Has(FioArgs(stable, "/f", "/tmp/o"), "--sync=dsync"));
}

// The parts of fio 3.33's json+ that the report reads.
json FioOutput(int error) {
  return {{"jobs",
           {{{"error", error},
             {"job_runtime", 2001},
             {"read",
              {{"total_ios", 400},
               {"io_bytes", 400 * 4096},
               {"runtime", 2000},
               {"clat_ns", {{"bins", {{"10000", 300}, {"20000", 96}, {"900000", 4}}}}}}},
             {"write", {{"total_ios", 0}, {"io_bytes", 0}, {"runtime", 0}}},
             {"sync", {{"total_ios", 0}}}}}}};
}

TEST(ReportFromFioTest, OpsBytesSecondsLatenciesAndTimeline) {
  Result<LoadReport> r = ReportFromFio(FioOutput(0), "1000, 150, 0, 0, 0\n2000, 250, 0, 0, 0\n",
                                       std::chrono::seconds(1));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->ops, 400u);
  EXPECT_EQ(r->bytes, 400u * 4096);
  EXPECT_DOUBLE_EQ(r->seconds, 2.0);
  EXPECT_EQ(r->by_op["read"].ok, 400u);
  EXPECT_EQ(r->latency.count(), 400u);
  EXPECT_NEAR(r->latency.PercentileUs(0.5), 10, 2);
  EXPECT_GT(r->latency.PercentileUs(0.999), 500);
  EXPECT_EQ(r->timeline, (std::vector<uint64_t>{150, 250}));
}

TEST(ReportFromFioTest, AFailedJobOrForeignOutputIsAnError) {
  Result<LoadReport> failed = ReportFromFio(FioOutput(5), "", std::chrono::seconds(1));
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), EIO);
  EXPECT_NE(failed.status().message().find("I/O error"), std::string::npos);
  EXPECT_EQ(ReportFromFio(json::object(), "", std::chrono::seconds(1)).status().code(), EINVAL);
  EXPECT_EQ(ReportFromFio(FioOutput(0), "garbage\n", std::chrono::seconds(1)).status().code(),
            EINVAL);
}

// Real fio, through the agent's "load" request on a syscalls connection.
class FioAgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<testsupport::ScratchDir> dir = testsupport::ScratchDir::Create("fio-test");
    ASSERT_TRUE(dir.ok()) << dir.status().ToString();
    dir_ = std::move(dir).value();
  }
  testsupport::ScratchDir dir_;
};

TEST_F(FioAgentTest, EveryDataJobRunsAndReports) {
  Agent agent;
  for (tp::JobKind kind : {tp::JobKind::kSeqRead, tp::JobKind::kSeqWrite, tp::JobKind::kRandRead4k,
                           tp::JobKind::kRandWrite4k}) {
    const throughput::ResolvedJob job = Small(kind);
    SCOPED_TRACE(job.def.name());
    const std::string root = dir_.path() + "/" + job.def.name();
    std::filesystem::create_directory(root);
    ASSERT_TRUE(backend::Materialize(throughput::WorkingSet(job, 1), {root}).ok());
    json connect = {{"cmd", "connect"}, {"mode", "syscalls"}, {"root", root}};
    ASSERT_EQ(testutil::AgentRequest(agent, connect.dump())["ok"], true);
    const json load = throughput::ToJson(
        throughput::RequestFor(job, 0, 1, std::chrono::milliseconds(100), false));
    EXPECT_EQ(load["engine"], "fio");
    json reply = testutil::AgentRequest(agent, load.dump());
    ASSERT_EQ(reply["ok"], true) << job.def.name() << ": " << reply.dump();
    Result<LoadReport> r = throughput::LoadReportFromJson(reply["load"]);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_GT(r->ops, 10u);
    EXPECT_GT(r->bytes, 10u * job.def.request_size);
    EXPECT_GE(r->seconds, 0.25);
    EXPECT_LT(r->seconds, 5.0);
    EXPECT_EQ(r->latency.count(), r->ops);
    EXPECT_FALSE(r->timeline.empty());
    EXPECT_GE(r->request_seconds, r->seconds);
  }
}

TEST_F(FioAgentTest, AMissingFileOrALibnfsConnectionIsAnErrorNotAReport) {
  Agent agent;
  json connect = {{"cmd", "connect"}, {"mode", "syscalls"}, {"root", dir_.path()}};
  ASSERT_EQ(testutil::AgentRequest(agent, connect.dump())["ok"], true);
  const json load = throughput::ToJson(
      throughput::RequestFor(Small(tp::JobKind::kSeqRead), 0, 1, std::chrono::seconds(1), false));
  json missing = testutil::AgentRequest(agent, load.dump());
  EXPECT_EQ(missing["ok"], false);
  EXPECT_NE(missing["error"].get<std::string>().find("tput/c0/data"), std::string::npos);

  // Not a mounted path: fio cannot run on a libnfs connection. (The dial fails without a
  // server, but the connection's mode is what the load checks.)
  json nfs = {{"cmd", "connect"}, {"mode", "libnfs"}, {"host", "127.0.0.1"},
              {"nfs_port", 9},    {"export", "/x"},   {"timeout_ms", 500}};
  testutil::AgentRequest(agent, nfs.dump());
  json refused = testutil::AgentRequest(agent, load.dump());
  EXPECT_EQ(refused["ok"], false);
  EXPECT_NE(refused["error"].get<std::string>().find("mounted path"), std::string::npos)
      << refused.dump();
}

}  // namespace
}  // namespace ovl::agent
