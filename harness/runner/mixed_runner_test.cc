// RunMixed against in-process fakes of a server and its agents: faults that fall close together
// (a crash while a client is still reconnecting after the previous one) must not end the run,
// and a server that never comes back must end it within the reconnect bound.
#include "runner/mixed_runner.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <optional>
#include <thread>
#include <tuple>
#include <variant>

#include "runner/mixed_phase.h"

namespace ovl::runner {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// A server whose crashes take `down_for` each; `broken` keeps it down for good after a crash.
class FakeServer : public backend::ServerNode {
 public:
  std::string Unsupported() override { return ""; }
  Status Setup(const ops::Fixture&, const std::string&) override { return Status::Ok(); }
  Status Crash() override {
    down = true;
    crashes.fetch_add(1);
    std::this_thread::sleep_for(down_for);
    if (!broken) down = false;
    return Status::Ok();
  }
  Status Reboot() override { return Crash(); }
  Status Evict() override { return Status::Ok(); }
  Status Teardown(bool) override { return Status::Ok(); }
  agent::protocol::Connect ConnectRequest() const override { return {}; }
  std::string LogTail() const override { return ""; }

  milliseconds down_for{40};
  std::atomic<bool> broken{false};
  std::atomic<bool> down{false};
  std::atomic<int> crashes{0};
};

// An agent whose connection dies with each crash. With `hold_first_reconnect`, its first
// reconnect is held until the second crash has begun, and then fails as a connect to a server
// that is going down does ("Connection reset by peer"): the two crashes of seed 2 of
// topologies/local.yaml, 0.31 s apart.
class FakeAgent : public backend::AgentNode {
 public:
  explicit FakeAgent(FakeServer* server) : server_(server) {}
  const std::string& name() const override { return name_; }
  Result<agent::protocol::Reply> Request(const agent::protocol::Request& request) override {
    if (const auto* run = std::get_if<agent::protocol::RunOp>(&request)) {
      if (hard_mount_bound) return HardMountOp(run->op.seq);
      ops::Result r;
      if (server_->down || generation_ != server_->crashes) {
        r.outcome = ops::Result::Outcome::kUnknown;
        r.error = "connection lost";
      }
      return agent::protocol::Reply(agent::protocol::OpDone{run->op.seq, r});
    }
    if (std::holds_alternative<agent::protocol::Reconnect>(request) &&
        reconnects.fetch_add(1) == 0 && hold_first_reconnect) {
      const auto until = Clock::now() + std::chrono::seconds(5);
      while (server_->crashes < 2 && Clock::now() < until) {
        std::this_thread::sleep_for(milliseconds(1));
      }
    }
    if (server_->down) {
      return agent::protocol::Reply(
          agent::protocol::Failure{"connect failed: Connection reset by peer", std::nullopt});
    }
    generation_ = server_->crashes;
    return agent::protocol::Reply(agent::protocol::Ack{});
  }
  Status EvictClientCaches() override { return Status::Ok(); }
  std::string LogTail() const override { return ""; }

  bool hold_first_reconnect = false;
  // With a bound, an operation blocks while the server is down, as on a hard mount, and its
  // reply is waited for that long (AgentNode::AwaitReply).
  std::optional<milliseconds> hard_mount_bound;
  std::atomic<int> reconnects{0};

 private:
  Result<agent::protocol::Reply> HardMountOp(uint64_t seq) {
    auto reply = AwaitReply(
        [&](Clock::time_point deadline) -> Result<std::string> {
          while (server_->down && Clock::now() < deadline) {
            std::this_thread::sleep_for(milliseconds(1));
          }
          if (server_->down) return Status::Error(ETIMEDOUT, "no reply");
          return std::string("done");
        },
        *hard_mount_bound);
    if (!reply.ok()) return reply.status();
    generation_ = server_->crashes;  // the mount reconnected by itself
    return agent::protocol::Reply(agent::protocol::OpDone{seq, ops::Result{}});
  }

  FakeServer* server_;
  std::string name_ = "c1";
  int generation_ = 0;
};

plan::FaultEvent CrashAt(milliseconds t) {
  plan::FaultEvent f;
  f.kind = topology::FaultKind::kCrash;
  f.target = "ref";
  f.time = t;
  return f;
}

class MixedRunnerTest : public ::testing::Test {
 protected:
  MixedContext Context() {
    MixedContext ctx;
    ctx.case_id = "ref/mixed";
    ctx.server_name = "ref";
    ctx.seed = 2;
    ctx.ops = 60;
    ctx.duration = milliseconds(600);
    ctx.faults = {CrashAt(milliseconds(100)), CrashAt(milliseconds(250))};
    ctx.server = &server_;
    ctx.agents = {&agent_};
    ctx.history = &history_;
    ctx.clock = &clock_;
    return ctx;
  }

  FakeServer server_;
  FakeAgent agent_{&server_};
  ops::HistoryWriter history_{"/dev/null"};
  RunClock clock_;
};

TEST_F(MixedRunnerTest, ACrashDuringAReconnectIsRetriedAfterIt) {
  agent_.hold_first_reconnect = true;
  MixedRun r = RunMixed(Context());
  EXPECT_EQ(r.run.status, CaseRun::Status::kDone) << r.run.reason;
  EXPECT_EQ(r.faults_injected, 2u);
  EXPECT_GE(agent_.reconnects, 2) << "the reconnect that met the second crash was not retried";
  EXPECT_EQ(r.run.ops, 60u) << "the run did not go on to the end";
}

// The CI failure of VmSmokeTest at bf857bb: a reboot took 75 s, and the operation a kernel
// client had in flight across it was given up after the 120 s bound counted from its send.
TEST_F(MixedRunnerTest, AnOperationBlockedByARestartLongerThanItsBoundIsWaitedFor) {
  agent_.hard_mount_bound = milliseconds(100);
  server_.down_for = milliseconds(400);
  MixedContext ctx = Context();
  ctx.faults = {CrashAt(milliseconds(100))};
  MixedRun r = RunMixed(ctx);
  EXPECT_EQ(r.run.status, CaseRun::Status::kDone) << r.run.reason;
  EXPECT_EQ(r.run.ops, 60u);
}

TEST_F(MixedRunnerTest, AServerThatNeverComesBackEndsTheRunWithinTheBound) {
  server_.broken = true;
  MixedContext ctx = Context();
  ctx.faults = {CrashAt(milliseconds(100))};
  ctx.reconnect_grace = milliseconds(500);
  const auto start = Clock::now();
  MixedRun r = RunMixed(ctx);
  EXPECT_EQ(r.run.status, CaseRun::Status::kUnresolved);
  EXPECT_NE(r.run.reason.find("Connection reset by peer"), std::string::npos) << r.run.reason;
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(5));
}

TEST_F(MixedRunnerTest, AHistoryThatCannotBeWrittenStopsTheRun) {
  ops::HistoryWriter full("/dev/full");
  MixedContext ctx = Context();
  ctx.history = &full;
  MixedRun r = RunMixed(ctx);
  EXPECT_EQ(r.run.status, CaseRun::Status::kUnresolved);
  EXPECT_NE(r.run.reason.find("/dev/full"), std::string::npos) << r.run.reason;
  EXPECT_LT(r.run.ops, 60u) << "the run went on without its history";
}

// A client-evict fault names a topology client: it reaches the mixed run of every server an
// instance of that client works on, and no other (it reached none before: faults were matched
// against server names only).
TEST(MixedFaultsTest, AClientEvictReachesTheServersOfThatClientsInstances) {
  plan::Plan p;
  for (const char* s : {"s1", "s2", "s3"}) p.servers.emplace_back().name = s;
  for (const auto& [name, client, server] :
       {std::tuple{"k-1@s1", "k", "s1"}, {"k-2@s2", "k", "s2"}, {"kk", "kk", "s3"}}) {
    plan::ClientInstance& ci = p.clients.emplace_back();
    ci.name = name;
    ci.client = client;
    ci.servers = {server};
    p.mixed.clients.push_back(name);
  }
  plan::FaultEvent crash, evict;
  crash.target = "s1";
  evict.kind = topology::FaultKind::kClientEvict;
  evict.target = "k";
  p.mixed.schedule = {crash, evict};
  auto targets = [](const std::vector<plan::FaultEvent>& v) {
    std::vector<std::string> out;
    for (const auto& f : v) out.push_back(f.target);
    return out;
  };
  EXPECT_EQ(targets(MixedFaults(p, "s1")), (std::vector<std::string>{"s1", "k"}));
  EXPECT_EQ(targets(MixedFaults(p, "s2")), (std::vector<std::string>{"k"}));
  EXPECT_TRUE(MixedFaults(p, "s3").empty()) << "client kk is not k, though its name starts so";
}

}  // namespace
}  // namespace ovl::runner
