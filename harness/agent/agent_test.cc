// The agent's request handling in process, on the syscalls path (no server needed).
#include "agent/agent.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "agent/executor_test_util.h"
#include "support/scratch_dir.h"

namespace ovl::agent {
namespace {

using nlohmann::json;
using ops::Kind;
using testutil::MakeOp;
using testutil::Path;
using testutil::Var;

class AgentTest : public testutil::TreeDirTest {
 protected:
  AgentTest() : TreeDirTest("agent-test") {}

  json Send(const std::string& line) { return testutil::AgentRequest(agent_, line); }
  json SendJson(const json& request) { return Send(request.dump()); }
  json Connect() {
    return SendJson({{"cmd", "connect"}, {"mode", "syscalls"}, {"root", dir_.path()}});
  }
  json Op(const ops::Op& op) { return SendJson({{"cmd", "op"}, {"op", op}}); }

  Agent agent_;
};

const json kOk = {{"ok", true}};

TEST_F(AgentTest, OpBeforeConnectIsUnknown) {
  json r = Op(MakeOp(Kind::kGetAttr, Path("")));
  EXPECT_EQ(r["result"]["outcome"], "unknown");
  EXPECT_EQ(r["result"]["error"], "not connected");
}

TEST_F(AgentTest, OpResultCarriesSeqAndData) {
  ASSERT_EQ(Connect(), kOk);
  ops::Op read = MakeOp(Kind::kRead, Path("a"));
  read.count = 100;
  json r = Op(read);
  EXPECT_EQ(r["seq"], read.seq);
  Result<ops::Result> result = ops::ResultFromJson(r["result"]);
  ASSERT_TRUE(result.ok()) << r.dump();
  EXPECT_EQ(result->data, testutil::kFileA);  // whole, not only a digest
}

TEST_F(AgentTest, ReconnectKeepsVariablesConnectAndForgetDropThem) {
  ASSERT_EQ(Connect(), kOk);
  ops::Op lookup = MakeOp(Kind::kLookup, Path(""), "a");
  lookup.save = "A";
  ASSERT_EQ(Op(lookup)["result"]["outcome"], "ok");
  ASSERT_EQ(agent_.vars().count("A"), 1u);

  ASSERT_EQ(Send(R"({"cmd":"reconnect"})"), kOk);
  EXPECT_EQ(Op(MakeOp(Kind::kGetAttr, Var("A")))["result"]["outcome"], "ok");
  ASSERT_EQ(Send(R"({"cmd":"reconnect","root":")" + dir_.path() + "/d\"}"), kOk);
  EXPECT_EQ(agent_.vars().count("A"), 1u);

  // Malformed connects and reconnects change nothing.
  EXPECT_EQ(Send(R"({"cmd":"connect","mode":"syscalls"})")["ok"], false);
  EXPECT_EQ(Send(R"({"cmd":"reconnect","bogus":1})")["ok"], false);
  EXPECT_EQ(agent_.vars().count("A"), 1u);
  EXPECT_EQ(Op(MakeOp(Kind::kGetAttr, Path("x")))["result"]["outcome"], "ok");

  ASSERT_EQ(Send(R"({"cmd":"forget"})"), kOk);
  EXPECT_TRUE(agent_.vars().empty());
  EXPECT_EQ(Op(MakeOp(Kind::kGetAttr, Var("A")))["result"]["error"], kErrNoVar);

  // The reconnect moved the root to "d", which has no "a".
  EXPECT_EQ(Op(lookup)["result"]["error"], "NOENT");
  ASSERT_EQ(Connect(), kOk);
  ASSERT_EQ(Op(lookup)["result"]["outcome"], "ok");
  ASSERT_EQ(Connect(), kOk);
  EXPECT_TRUE(agent_.vars().empty());
}

TEST_F(AgentTest, ReconnectRules) {
  EXPECT_EQ(Send(R"({"cmd":"reconnect"})")["ok"], false);  // nothing to reconnect to
  ASSERT_EQ(Connect(), kOk);
  json changed = Send(R"({"cmd":"reconnect","mode":"libnfs"})");
  EXPECT_EQ(changed["ok"], false);
  EXPECT_NE(changed["error"].get<std::string>().find("mode"), std::string::npos);
  // A failed reconnect leaves no connection; ops are unknown until one succeeds.
  EXPECT_EQ(Send(R"({"cmd":"reconnect","root":"/no/such/dir"})")["ok"], false);
  EXPECT_EQ(Op(MakeOp(Kind::kGetAttr, Path("")))["result"]["outcome"], "unknown");
  ASSERT_EQ(SendJson({{"cmd", "reconnect"}, {"root", dir_.path()}}), kOk);
  EXPECT_EQ(Op(MakeOp(Kind::kGetAttr, Path("")))["result"]["outcome"], "ok");
}

TEST_F(AgentTest, MalformedRequestsGetErrors) {
  for (const std::string line :
       {"",
        "not json",
        "[1,2]",
        "{}",
        R"({"cmd":5})",
        R"({"cmd":"bogus"})",
        R"({"cmd":"op"})",
        R"({"cmd":"op","op":5})",
        R"({"cmd":"op","op":{"kind":"getattr"}})",
        R"({"cmd":"op","op":{"seq":1,"kind":"getattr"},"extra":1})",
        R"({"cmd":"forget","x":1})",
        R"({"cmd":"connect"})",
        R"({"cmd":"connect","mode":7})",
        R"({"cmd":"connect","mode":"tcp"})",
        R"({"cmd":"connect","mode":"libnfs"})",
        R"({"cmd":"connect","mode":"libnfs","nfs_port":"2049"})",
        R"({"cmd":"connect","mode":"libnfs","nfs_port":70000})",
        R"({"cmd":"connect","mode":"libnfs","nfs_port":-1})",
        R"({"cmd":"connect","mode":"libnfs","nfs_port":2049,"timeout_ms":0})",
        R"({"cmd":"connect","mode":"libnfs","nfs_port":2049,"bogus":1})",
        R"({"cmd":"connect","mode":"syscalls"})",
        R"({"cmd":"connect","mode":"syscalls","root":""})"}) {
    json r = Send(line);
    EXPECT_EQ(r["ok"], false) << line << " -> " << r.dump();
    EXPECT_TRUE(r["error"].is_string()) << line;
  }
  json bad_kind = Send(R"({"cmd":"op","op":{"seq":42,"kind":"nope"}})");
  EXPECT_EQ(bad_kind["ok"], false);
  EXPECT_EQ(bad_kind["seq"], 42);
}

TEST_F(AgentTest, ServeAnswersEveryLineAndSkipsOverlongOnes) {
  std::string input = std::string(R"({"cmd":"forget"})") + "\n" +
                      std::string(kMaxLineBytes + 10, 'x') + "\n" + "garbage\n" +
                      R"({"cmd":"forget"})";  // the last line without its newline
  std::istringstream in(input);
  std::ostringstream out;
  agent_.Serve(in, out);
  std::istringstream lines(out.str());
  std::string line;
  std::vector<json> responses;
  while (std::getline(lines, line)) responses.push_back(json::parse(line));
  ASSERT_EQ(responses.size(), 4u) << out.str().substr(0, 500);
  EXPECT_EQ(responses[0], kOk);
  EXPECT_EQ(responses[1]["ok"], false);
  EXPECT_NE(responses[1]["error"].get<std::string>().find("longer"), std::string::npos);
  EXPECT_EQ(responses[2]["ok"], false);
  EXPECT_EQ(responses[3], kOk);
}

TEST_F(AgentTest, ServeStopsAtQuit) {
  std::istringstream in("{\"cmd\":\"quit\"}\n{\"cmd\":\"forget\"}\n");
  std::ostringstream out;
  agent_.Serve(in, out);
  EXPECT_EQ(out.str(), "{\"ok\":true}\n");
}

}  // namespace
}  // namespace ovl::agent
