// The load generator and the executors' probes: every throughput job through the syscalls path
// on a plain directory, a load cut off and redialled (a scripted executor), setup failures, and
// an agent "load" request end to end.
#include "agent/load.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "agent/agent.h"
#include "agent/executor_test_util.h"
#include "agent/syscall_executor.h"
#include "backend/fixture_disk.h"
#include "ops/fixture.h"
#include "support/scratch_dir.h"
#include "throughput/jobs.h"

namespace ovl::agent {
namespace {

using nlohmann::json;
using throughput::LoadOp;
using throughput::LoadReport;
using throughput::LoadRequest;
using Outcome = ops::Result::Outcome;
namespace tp = ::ovl::topology;

constexpr std::chrono::milliseconds kShort{150};

throughput::JobCatalogue Catalogue() {
  topology::Checked<throughput::JobCatalogue> c =
      throughput::LoadJobCatalogue(std::string(OVL_SOURCE_DIR) + "/workloads/throughput");
  EXPECT_TRUE(c.ok()) << topology::FormatDiagnostics(c.errors());
  return c.ok() ? *c : throughput::JobCatalogue{};
}

// A job small enough for a unit test: 1 MiB per data client, 40 files per metadata client.
throughput::ResolvedJob Small(tp::JobKind kind) {
  throughput::JobCatalogue c = Catalogue();
  tp::ThroughputJob entry{
      .kind = kind, .size = 1024 * 1024, .files = 40, .clients = 1, .duration = kShort};
  return throughput::Resolve(*c.Find(kind), entry);
}

class LoadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The syscalls path holds handles: open_by_handle_at needs CAP_DAC_READ_SEARCH.
    if (geteuid() != 0) GTEST_SKIP() << "held handles need root";
    Result<testsupport::ScratchDir> dir = testsupport::ScratchDir::Create("load-test");
    ASSERT_TRUE(dir.ok()) << dir.status().ToString();
    dir_ = std::move(dir).value();
  }

  // Materializes `job`'s working set into the scratch dir and runs client 0's load on it.
  Result<LoadReport> Run(const throughput::ResolvedJob& job) {
    OVL_RETURN_IF_ERROR(backend::Materialize(throughput::WorkingSet(job, 3), {dir_.path()}));
    auto executor = testutil::ValueOrNull(SyscallExecutor::Open(dir_.path()));
    if (!executor) return Status::Error(EIO, "no executor");
    Redial never = [] { return static_cast<Executor*>(nullptr); };
    return RunLoad(throughput::RequestFor(job, 0, 1, std::chrono::milliseconds(50), true),
                   executor.get(), never);
  }

  testsupport::ScratchDir dir_;
};

TEST_F(LoadTest, EveryJobRunsOnAPlainDirectory) {
  for (const auto& named : tp::kJobKindNames) {
    SCOPED_TRACE(std::string(named.name));
    ASSERT_EQ(system(("rm -rf " + dir_.path() + "/*").c_str()), 0);
    Result<LoadReport> r = Run(Small(named.value));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_GT(r->ops, 10u);
    EXPECT_EQ(r->errors, 0u) << r->first_error;
    EXPECT_GE(r->seconds, 0.15);
    EXPECT_LT(r->seconds, 5.0);
    EXPECT_EQ(r->latency.count(), r->ops);
    EXPECT_FALSE(r->timeline.empty());
    EXPECT_FALSE(r->ok_runs.empty());
    EXPECT_EQ(r->reconnects, 0u);
    if (tp::IsDataJob(named.value)) {
      EXPECT_GT(r->bytes, 0u);
    }
  }
}

TEST_F(LoadTest, TheMixIssuesEveryProcedure) {
  throughput::ResolvedJob job = Small(tp::JobKind::kMetadataMix);
  job.duration = std::chrono::milliseconds(600);
  Result<LoadReport> r = Run(job);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->errors, 0u) << r->first_error;
  for (const auto& named : throughput::kLoadOpNames) {
    if (named.value == LoadOp::kCommit) continue;
    EXPECT_GT(r->by_op[std::string(named.name)].ok, 0u) << named.name;
  }
}

TEST_F(LoadTest, MaxOpsBoundsTheLoad) {
  throughput::ResolvedJob job = Small(tp::JobKind::kRandRead4k);
  job.def.max_ops = 25;
  job.duration = std::chrono::milliseconds(5000);
  Result<LoadReport> r = Run(job);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->ops, 25u);
  EXPECT_LT(r->seconds, 4.0);
}

TEST_F(LoadTest, AMissingWorkingSetFailsTheSetup) {
  auto executor = testutil::ValueOrNull(SyscallExecutor::Open(dir_.path()));
  ASSERT_NE(executor, nullptr);
  Redial never = [] { return static_cast<Executor*>(nullptr); };
  Result<LoadReport> r =
      RunLoad(throughput::RequestFor(Small(tp::JobKind::kSeqRead), 0, 1, kShort, false),
              executor.get(), never);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("load setup: lookup tput/c0"), std::string::npos)
      << r.status().message();
}

TEST_F(LoadTest, SyscallProbes) {
  ASSERT_TRUE(testutil::MakeTree(dir_.path()).ok());
  auto e = testutil::ValueOrNull(SyscallExecutor::Open(dir_.path()));
  ASSERT_NE(e, nullptr);
  VarTable vars;
  ops::Op lookup = testutil::MakeOp(ops::Kind::kLookup, testutil::Path(""), "d");
  lookup.save = "D";
  ASSERT_EQ(e->Execute(lookup, vars).outcome, Outcome::kOk);
  EXPECT_EQ(e->RunProbe(Executor::Probe::kAccess, testutil::Path("a"), vars).outcome, Outcome::kOk);
  EXPECT_EQ(e->RunProbe(Executor::Probe::kFsstat, testutil::Var("D"), vars).outcome, Outcome::kOk);
  ops::Result page = e->RunProbe(Executor::Probe::kReaddir, testutil::Var("D"), vars);
  ASSERT_EQ(page.outcome, Outcome::kOk) << page.error;
  ASSERT_EQ(page.entries.size(), 1u);
  EXPECT_EQ(page.entries[0].name, "x");
  EXPECT_TRUE(page.eof);
  EXPECT_EQ(e->RunProbe(Executor::Probe::kReaddir, testutil::Path("a"), vars).error, "NOTDIR");
  EXPECT_EQ(e->RunProbe(Executor::Probe::kAccess, testutil::Var("nope"), vars).error, kErrNoVar);
}

// Answers every op with success (handles are "h") except while `down`: then every op is cut off.
class ScriptedExecutor : public Executor {
 public:
  explicit ScriptedExecutor(std::atomic<bool>* down) : down_(down) {}
  ops::Result RunProbe(Probe, const ops::Target&, const VarTable&) override { return Answer(); }

 protected:
  Outcome Run(const ops::Op& op, const VarTable&) override {
    ops::Result r = Answer();
    if (op.kind == ops::Kind::kRead) r.data.assign(op.count, 'x');
    return {r, "h"};
  }

 private:
  ops::Result Answer() const { return *down_ ? UnknownResult("connection reset") : ops::Result{}; }
  std::atomic<bool>* down_;
};

TEST(LoadRedialTest, ACutOffLoadRedialsAndGoesOn) {
  std::atomic<bool> down{false};
  ScriptedExecutor first(&down), second(&down);
  LoadRequest request = throughput::RequestFor(Small(tp::JobKind::kRandRead4k), 0, 1,
                                               std::chrono::milliseconds(20), true);
  request.duration = std::chrono::milliseconds(600);
  int dials = 0;
  // The server is back 50 ms after the cut; dials before that fail. Timed from the cut itself,
  // not from the start: on a loaded host the cutting thread may wake late.
  std::atomic<int64_t> cut_at_ns{0};
  auto now_ns = [] {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  };
  Redial redial = [&]() -> Executor* {
    ++dials;
    if (now_ns() - cut_at_ns.load() < 50'000'000) return nullptr;
    down = false;
    return &second;
  };
  // Cut every op off from 50 ms on, until a redial succeeds.
  std::thread cut([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    cut_at_ns = now_ns();
    down = true;
  });
  Result<LoadReport> r = RunLoad(request, &first, redial);
  cut.join();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GE(r->errors, 1u);
  EXPECT_EQ(r->reconnects, 1u);
  EXPECT_GT(dials, 1);
  EXPECT_EQ(r->first_error, "read: connection reset");
  // A gap of about 50 ms without a successful op while the server was down.
  uint64_t longest_gap = 0;
  for (size_t i = 1; i < r->ok_runs.size(); ++i) {
    const throughput::OkRun& prev = r->ok_runs[i - 1];
    longest_gap = std::max(longest_gap, r->ok_runs[i].first_ms - (prev.first_ms + prev.length));
  }
  EXPECT_GE(longest_gap, 40u);
  EXPECT_GT(r->ops, 100u);
}

TEST_F(LoadTest, AgentLoadRequest) {
  ASSERT_TRUE(backend::Materialize(throughput::WorkingSet(Small(tp::JobKind::kCreateStatUnlink), 1),
                                   {dir_.path()})
                  .ok());
  Agent agent;
  json load = throughput::ToJson(
      throughput::RequestFor(Small(tp::JobKind::kCreateStatUnlink), 0, 1, kShort, false));
  json before = testutil::AgentRequest(agent, load.dump());
  EXPECT_EQ(before["ok"], false);
  EXPECT_NE(before["error"].get<std::string>().find("before a successful connect"),
            std::string::npos);
  json connect = {{"cmd", "connect"}, {"mode", "syscalls"}, {"root", dir_.path()}};
  ASSERT_EQ(testutil::AgentRequest(agent, connect.dump())["ok"], true);
  json r = testutil::AgentRequest(agent, load.dump());
  ASSERT_EQ(r["ok"], true) << r.dump();
  Result<LoadReport> report = throughput::LoadReportFromJson(r["load"]);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_GT(report->by_op["create"].ok, 0u);
  EXPECT_GE(report->request_seconds, report->seconds);

  // Held: set up now, the timed part on "start", once.
  const json start = {{"cmd", "start"}};
  EXPECT_EQ(testutil::AgentRequest(agent, start.dump())["ok"], false);
  load["hold"] = true;
  EXPECT_EQ(testutil::AgentRequest(agent, load.dump()), (json{{"ok", true}, {"ready", true}}));
  json held = testutil::AgentRequest(agent, start.dump());
  ASSERT_EQ(held["ok"], true) << held.dump();
  EXPECT_GT(held["load"]["ops"].get<uint64_t>(), 0u);
  EXPECT_EQ(testutil::AgentRequest(agent, start.dump())["ok"], false);
  // A connect drops a held load.
  ASSERT_EQ(testutil::AgentRequest(agent, load.dump())["ok"], true);
  ASSERT_EQ(testutil::AgentRequest(agent, connect.dump())["ok"], true);
  EXPECT_EQ(testutil::AgentRequest(agent, start.dump())["ok"], false);

  load["job"]["pattern"] = "diagonal";
  EXPECT_EQ(testutil::AgentRequest(agent, load.dump())["ok"], false);
}

}  // namespace
}  // namespace ovl::agent
