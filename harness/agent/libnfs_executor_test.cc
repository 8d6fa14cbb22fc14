// LibnfsExecutor and the agent's libnfs mode against a real ovlnfsd on 127.0.0.1.
#include "agent/libnfs_executor.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "agent/agent.h"
#include "agent/executor_test_util.h"
#include "support/loopback.h"
#include "support/server_process.h"
#include "throughput/load_spec.h"
#include "throughput/stats.h"

namespace ovl::agent {
namespace {

using nlohmann::json;
using ops::Kind;
using testutil::AgentOp;
using testutil::AgentRequest;
using testutil::MakeOp;
using testutil::Path;
using testutil::Var;
using Outcome = ops::Result::Outcome;

class LibnfsExecutorTest : public ::testing::Test {
 protected:
  void SetUp() override {
#ifndef OVLNFSD_PATH
    GTEST_SKIP() << "ovlnfsd is not built in this tree";
#else
    testsupport::ServerOptions options;
    options.binary = OVLNFSD_PATH;
    options.squash = "none";  // the agent calls as root and must act as root
    Result<std::unique_ptr<testsupport::ServerProcess>> server =
        testsupport::ServerProcess::Create(options);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    ASSERT_TRUE(testutil::MakeTree(server_->lower_dirs()[0]).ok());
    Status started = server_->Start();
    ASSERT_TRUE(started.ok()) << started.ToString();
#endif
  }

  LibnfsConfig Config() const {
    LibnfsConfig c;
    c.nfs_port = server_->port();
    c.timeout = std::chrono::seconds(10);
    return c;
  }

  std::unique_ptr<LibnfsExecutor> Connect() {
    return testutil::ValueOrNull(LibnfsExecutor::Connect(Config()));
  }

  // An agent request line: connect or reconnect to the running server.
  std::string DialLine(const std::string& cmd) const {
    return json{{"cmd", cmd},
                {"mode", "libnfs"},
                {"host", "127.0.0.1"},
                {"nfs_port", server_->port()},
                {"timeout_ms", 5000}}
        .dump();
  }

  std::unique_ptr<testsupport::ServerProcess> server_;
};

TEST_F(LibnfsExecutorTest, EveryKind) {
  std::unique_ptr<LibnfsExecutor> e = Connect();
  ASSERT_NE(e, nullptr);
  EXPECT_FALSE(e->root_handle().empty());
  testutil::ExpectEveryKind(*e);
}

TEST_F(LibnfsExecutorTest, MountOfUnknownExportFails) {
  LibnfsConfig c = Config();
  c.export_path = "/no-such-export";
  EXPECT_FALSE(LibnfsExecutor::Connect(c).ok());
}

TEST_F(LibnfsExecutorTest, ConnectRefusedIsAnError) {
  LibnfsConfig c = Config();
  ASSERT_TRUE(server_->Kill().ok());
  EXPECT_FALSE(LibnfsExecutor::Connect(c).ok());
}

TEST_F(LibnfsExecutorTest, OversizeAndTruncatedHandlesAreRejected) {
  std::unique_ptr<LibnfsExecutor> e = Connect();
  ASSERT_NE(e, nullptr);
  VarTable vars;
  ops::Op lookup = MakeOp(Kind::kLookup, Path(""), "a");
  lookup.save = "A";
  ASSERT_EQ(e->Execute(lookup, vars).outcome, Outcome::kOk);
  ops::Target extended = Var("A");
  extended.mutate = "extend";  // 65 bytes: more than NFSv3 allows
  ops::Result r = e->Execute(MakeOp(Kind::kGetAttr, extended), vars);
  EXPECT_EQ(r.outcome, Outcome::kError);
  EXPECT_EQ(r.error, "RPC_GARBAGE_ARGS");
  ops::Target truncated = Var("A");
  truncated.mutate = "truncate";
  r = e->Execute(MakeOp(Kind::kGetAttr, truncated), vars);
  EXPECT_EQ(r.outcome, Outcome::kError);
  EXPECT_TRUE(r.error == "BADHANDLE" || r.error == "STALE") << r.error;
  // The connection is intact after both.
  EXPECT_EQ(e->Execute(MakeOp(Kind::kGetAttr, Var("A")), vars).outcome, Outcome::kOk);
}

TEST_F(LibnfsExecutorTest, HeldHandleSurvivesRestartThroughReconnect) {
  Agent agent;
  ASSERT_EQ(AgentRequest(agent, DialLine("connect")), json({{"ok", true}}));
  ops::Op lookup = MakeOp(Kind::kLookup, Path(""), "a");
  lookup.save = "A";
  ops::Result before = AgentOp(agent, lookup);
  ASSERT_EQ(before.outcome, Outcome::kOk);
  ops::Op write = MakeOp(Kind::kWrite, Var("A"));
  write.data = "HELLO";
  ASSERT_EQ(AgentOp(agent, write).outcome, Outcome::kOk);  // copied up before the restart

  ASSERT_TRUE(server_->Restart(testsupport::ServerProcess::PortChoice::kNew).ok());
  // The old connection died with the old server.
  EXPECT_EQ(AgentOp(agent, MakeOp(Kind::kGetAttr, Var("A"))).outcome, Outcome::kUnknown);
  json reconnect = {
      {"cmd", "reconnect"}, {"nfs_port", server_->port()}, {"mount_port", server_->port()}};
  ASSERT_EQ(AgentRequest(agent, reconnect.dump()), json({{"ok", true}}));

  ops::Result after = AgentOp(agent, MakeOp(Kind::kGetAttr, Var("A")));
  ASSERT_EQ(after.outcome, Outcome::kOk) << after.error;
  EXPECT_EQ(after.attrs->fileid, before.attrs->fileid);
  ops::Op read = MakeOp(Kind::kRead, Var("A"));
  read.count = 16;
  EXPECT_EQ(AgentOp(agent, read).data, "HELLO");
  EXPECT_EQ(AgentOp(agent, MakeOp(Kind::kLookup, Path(""), "a")).handle, before.handle);
}

TEST_F(LibnfsExecutorTest, TransportFailureIsUnknownUntilReconnect) {
  Agent agent;
  ASSERT_EQ(AgentRequest(agent, DialLine("connect")), json({{"ok", true}}));
  ops::Op lookup = MakeOp(Kind::kLookup, Path(""), "a");
  lookup.save = "A";
  ASSERT_EQ(AgentOp(agent, lookup).outcome, Outcome::kOk);

  ASSERT_TRUE(server_->Kill().ok());
  ops::Result cut = AgentOp(agent, MakeOp(Kind::kGetAttr, Var("A")));
  EXPECT_EQ(cut.outcome, Outcome::kUnknown);
  EXPECT_FALSE(cut.error.empty());
  // Later ops fail fast without dialling, even path ops that start with a LOOKUP.
  auto start = std::chrono::steady_clock::now();
  ops::Result fast = AgentOp(agent, MakeOp(Kind::kGetAttr, Path("a")));
  EXPECT_EQ(fast.outcome, Outcome::kUnknown);
  EXPECT_NE(fast.error.find("earlier"), std::string::npos) << fast.error;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));

  // A reconnect while the server is down fails and leaves no connection.
  EXPECT_EQ(AgentRequest(agent, R"({"cmd":"reconnect"})").value("ok", true), false);
  EXPECT_EQ(AgentOp(agent, MakeOp(Kind::kGetAttr, Var("A"))).outcome, Outcome::kUnknown);

  ASSERT_TRUE(server_->Start().ok());
  json reconnect = {
      {"cmd", "reconnect"}, {"nfs_port", server_->port()}, {"mount_port", server_->port()}};
  ASSERT_EQ(AgentRequest(agent, reconnect.dump()), json({{"ok", true}}));
  EXPECT_EQ(AgentOp(agent, MakeOp(Kind::kGetAttr, Var("A"))).outcome, Outcome::kOk);
}

TEST_F(LibnfsExecutorTest, Probes) {
  std::unique_ptr<LibnfsExecutor> e = Connect();
  ASSERT_NE(e, nullptr);
  VarTable vars;
  EXPECT_EQ(e->RunProbe(Executor::Probe::kAccess, Path("a"), vars).outcome, Outcome::kOk);
  EXPECT_EQ(e->RunProbe(Executor::Probe::kFsstat, Path(""), vars).outcome, Outcome::kOk);
  ops::Result page = e->RunProbe(Executor::Probe::kReaddir, Path("d"), vars);
  ASSERT_EQ(page.outcome, Outcome::kOk) << page.error;
  std::vector<std::string> names;
  for (const ops::DirEntry& entry : page.entries) names.push_back(entry.name);
  EXPECT_NE(std::find(names.begin(), names.end(), "x"), names.end());
  EXPECT_TRUE(page.eof);
  EXPECT_EQ(e->RunProbe(Executor::Probe::kReaddir, Path("a"), vars).error, "NOTDIR");
  EXPECT_EQ(e->RunProbe(Executor::Probe::kFsstat, Path("nope"), vars).error, "NOENT");
}

// A load through the agent while the server crashes and comes back on its port: the load
// redials by itself and goes on with the handles it holds.
TEST_F(LibnfsExecutorTest, LoadRidesThroughACrash) {
  throughput::LoadRequest request;
  throughput::LoadSpec& job = request.job;
  job.name = "rand-read";
  job.pattern = throughput::Pattern::kRandom;
  job.dir = "d";
  job.file = "x";
  job.size = 2;
  job.request_size = 1;
  job.max_ops = 1'000'000;
  job.mix = {{throughput::LoadOp::kRead, 1}};
  request.duration = std::chrono::milliseconds(1500);
  request.timeline = std::chrono::milliseconds(100);
  request.ok_runs = true;
  Agent agent;
  ASSERT_EQ(AgentRequest(agent, DialLine("connect")), json({{"ok", true}}));
  int64_t crash_ns = 0;
  std::thread crash([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const uint16_t port = server_->port();
    crash_ns = std::chrono::steady_clock::now().time_since_epoch().count();
    EXPECT_TRUE(server_->Kill().ok());
    Status st = server_->Start(port);
    EXPECT_TRUE(st.ok()) << st.ToString();
  });
  json reply = AgentRequest(agent, throughput::ToJson(request).dump());
  crash.join();
  ASSERT_EQ(reply.value("ok", false), true) << reply.dump();
  Result<throughput::LoadReport> r = throughput::LoadReportFromJson(reply["load"]);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GE(r->errors, 1u);
  EXPECT_EQ(r->reconnects, 1u) << reply.dump();
  EXPECT_GT(r->bytes, 0u);
  std::optional<double> recovered = throughput::SecondsToFirstOk({*r}, crash_ns, INT64_MAX);
  ASSERT_TRUE(recovered);
  EXPECT_GT(*recovered, 0);
  EXPECT_LT(*recovered, 1.2);
}

TEST(LibnfsExecutorTimeoutTest, SilentServerTimesOut) {
  // A listener that never answers: the kernel completes the TCP handshake, nobody replies.
  Result<testsupport::SilentListener> listener = testsupport::ListenSilentlyOnLoopback();
  ASSERT_TRUE(listener.ok()) << listener.status().ToString();

  LibnfsConfig c;
  c.nfs_port = listener->port;
  c.timeout = std::chrono::milliseconds(300);
  auto start = std::chrono::steady_clock::now();
  Result<std::unique_ptr<LibnfsExecutor>> e = LibnfsExecutor::Connect(c);
  EXPECT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), ETIMEDOUT) << e.status().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

}  // namespace
}  // namespace ovl::agent
