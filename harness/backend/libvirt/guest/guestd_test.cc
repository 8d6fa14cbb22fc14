#include "backend/libvirt/guest/guestd.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "backend/libvirt/vm_nodes.h"

namespace ovl::guest {
namespace {

using json = nlohmann::json;
using std::chrono::milliseconds;

TEST(GuestdExec, CollectsOutputAndExitCode) {
  ExecOutcome out = Exec({"sh", "-c", "echo hello; echo oops >&2; exit 3"}, milliseconds(5000));
  EXPECT_FALSE(out.timed_out);
  EXPECT_EQ(out.rc, 3);
  EXPECT_NE(out.output.find("hello"), std::string::npos);
  EXPECT_NE(out.output.find("oops"), std::string::npos);
}

TEST(GuestdExec, KillsAtTimeout) {
  const auto start = std::chrono::steady_clock::now();
  ExecOutcome out = Exec({"sh", "-c", "sleep 30 & sleep 30"}, milliseconds(300));
  EXPECT_TRUE(out.timed_out);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(GuestdExec, DoesNotWaitForDaemonsItStarted) {
  const auto start = std::chrono::steady_clock::now();
  // The background sleep keeps the output pipe open; the reply must not wait for it.
  ExecOutcome out = Exec({"sh", "-c", "sleep 3 & echo started"}, milliseconds(10000));
  EXPECT_FALSE(out.timed_out);
  EXPECT_EQ(out.rc, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(2500));
}

TEST(GuestdExec, MissingProgram) {
  ExecOutcome out = Exec({"/nonexistent/program"}, milliseconds(5000));
  EXPECT_EQ(out.rc, 127);
}

TEST(GuestdRequest, PingEchoesIdAndBootId) {
  json r = HandleRequest(R"({"id":7,"cmd":"ping"})");
  EXPECT_EQ(r["id"], 7);
  EXPECT_TRUE(r["ok"].get<bool>());
  EXPECT_FALSE(r["boot_id"].get<std::string>().empty());
}

TEST(GuestdRequest, ExecReplies) {
  json r =
      HandleRequest(R"({"id":"x","cmd":"exec","argv":["sh","-c","printf hi"],"timeout_ms":5000})");
  EXPECT_EQ(r["id"], "x");
  EXPECT_TRUE(r["ok"].get<bool>());
  EXPECT_EQ(r["rc"], 0);
  EXPECT_EQ(r["output"], "hi");
}

TEST(GuestdRequest, BadRequests) {
  EXPECT_FALSE(HandleRequest("not json")["ok"].get<bool>());
  json r = HandleRequest(R"({"id":1,"cmd":"fly"})");
  EXPECT_EQ(r["id"], 1);
  EXPECT_FALSE(r["ok"].get<bool>());
  EXPECT_FALSE(HandleRequest(R"({"id":2,"cmd":"exec"})")["ok"].get<bool>());
}

TEST(GuestdRequest, MaterializeAndHandleCheck) {
  char tmpl[] = "/tmp/guestd_test.XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  std::filesystem::create_directories(dir + "/lower0");
  json fixture = {
      {"layers", 1}, {"seed", 3}, {"entries", json::array({{{"file", "d/a"}, {"size", 10}}})}};
  json r = HandleRequest(
      json{{"id", 1}, {"cmd", "materialize"}, {"fixture", fixture}, {"lowers", {dir + "/lower0"}}}
          .dump());
  EXPECT_TRUE(r["ok"].get<bool>()) << r.dump();
  EXPECT_EQ(std::filesystem::file_size(dir + "/lower0/d/a"), 10u);
  r = HandleRequest(json{{"id", 2}, {"cmd", "handle-check"}, {"path", dir + "/lower0/d/a"}}.dump());
  EXPECT_TRUE(r["ok"].get<bool>()) << r.dump();
  r = HandleRequest(json{{"id", 3}, {"cmd", "handle-check"}, {"path", dir + "/missing"}}.dump());
  EXPECT_FALSE(r["ok"].get<bool>());
  EXPECT_EQ(r["errno"], ENOENT);
  json verify = {
      {"id", 4}, {"cmd", "verify-lowers"}, {"fixture", fixture}, {"lowers", {dir + "/lower0"}}};
  EXPECT_TRUE(HandleRequest(verify.dump())["ok"].get<bool>());
  std::ofstream(dir + "/lower0/d/a") << "changed";
  r = HandleRequest(verify.dump());
  EXPECT_FALSE(r["ok"].get<bool>());
  EXPECT_NE(r["error"].get<std::string>().find("d/a"), std::string::npos) << r.dump();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ovl::guest

namespace ovl::guest {
namespace {

// The host's offline-edit request (backend/libvirt/vm_nodes.h), as ovl-guestd runs it: on the
// layers it names, with the upper where role.sh keeps it. (Not run in a VM here.)
TEST(GuestdRequest, OfflineEditAppliesTheHostsRequest) {
  char tmpl[] = "/tmp/guestd_offline.XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  std::filesystem::create_directories(dir + "/lower0/d");
  std::ofstream(dir + "/lower0/d/a") << "x";
  json req = backend::libvirt::OfflineEditRequest(
      {ops::OfflineEdit::Kind::kRenameLower, "d", "e", true}, {dir + "/lower0"});
  EXPECT_EQ(req["cmd"], "offline-edit");
  EXPECT_EQ(req["upper"], "/data/layers/upper");
  EXPECT_EQ(req["edit"]["stop"], "crash");
  req["id"] = 3;
  json r = HandleRequest(req.dump());
  EXPECT_EQ(r["id"], 3);
  EXPECT_TRUE(r["ok"].get<bool>()) << r.dump();
  EXPECT_TRUE(std::filesystem::exists(dir + "/lower0/e/a"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/lower0/d"));
  r = HandleRequest(req.dump());  // d is gone now
  EXPECT_FALSE(r["ok"].get<bool>());
  EXPECT_EQ(r["errno"], ENOENT) << r.dump();
  req["edit"]["edit"] = "melt";
  EXPECT_FALSE(HandleRequest(req.dump())["ok"].get<bool>());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ovl::guest
