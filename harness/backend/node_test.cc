// AgentNode::AwaitReply: how long a reply is waited for, with and without WaitThroughOutages.
#include "backend/node.h"

#include <gtest/gtest.h>

#include <vector>

namespace ovl::backend {
namespace {

using std::chrono::milliseconds;
using Clock = AgentNode::Clock;

class Waiter : public AgentNode {
 public:
  const std::string& name() const override { return name_; }
  Result<agent::protocol::Reply> Request(const agent::protocol::Request&) override {
    return Status::Error(ENOSYS, "not used");
  }
  Status EvictClientCaches() override { return Status::Ok(); }
  std::string LogTail() const override { return ""; }

  // AwaitReply with a read that never has a line: the deadlines it was given.
  std::vector<Clock::time_point> DeadlinesUntilGivenUp(int code = ETIMEDOUT) {
    std::vector<Clock::time_point> deadlines;
    Result<std::string> r = AwaitReply(
        [&](Clock::time_point deadline) -> Result<std::string> {
          deadlines.push_back(deadline);
          return Status::Error(code, "no line");
        },
        kBound);
    EXPECT_EQ(r.status().code(), code);
    return deadlines;
  }

  static constexpr milliseconds kBound{1000};

 private:
  std::string name_ = "a";
};

TEST(AgentNodeTest, WithoutOutagesTheBoundCountsFromTheStart) {
  Waiter w;
  const Clock::time_point before = Clock::now();
  auto d = w.DeadlinesUntilGivenUp();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_GE(d[0], before + Waiter::kBound);
  EXPECT_LE(d[0], Clock::now() + Waiter::kBound);
}

TEST(AgentNodeTest, AnOutageEndingAfterTheStartMovesTheDeadlineOnce) {
  Waiter w;
  const Clock::time_point end = Clock::now() + std::chrono::hours(1);
  w.WaitThroughOutages([end] { return end; });
  auto d = w.DeadlinesUntilGivenUp();
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[1], end + Waiter::kBound);
}

TEST(AgentNodeTest, AnOutageOverBeforeTheStartChangesNothing) {
  Waiter w;
  w.WaitThroughOutages([] { return Clock::now() - std::chrono::hours(1); });
  EXPECT_EQ(w.DeadlinesUntilGivenUp().size(), 1u);
}

TEST(AgentNodeTest, OnlyATimeoutIsWaitedThrough) {
  Waiter w;
  w.WaitThroughOutages([] { return Clock::now() + std::chrono::hours(1); });
  EXPECT_EQ(w.DeadlinesUntilGivenUp(EPIPE).size(), 1u);
}

TEST(AgentNodeTest, TurnedOffItWaitsOnce) {
  Waiter w;
  w.WaitThroughOutages([] { return Clock::now() + std::chrono::hours(1); });
  w.WaitThroughOutages(nullptr);
  EXPECT_EQ(w.DeadlinesUntilGivenUp().size(), 1u);
}

// A case's NFS version reaches a client VM through the root of its connect.
TEST(MountRootTest, ForNfsVersionNamesTheVersionInTheRoot) {
  using agent::protocol::Connect;
  using agent::protocol::SyscallsAccess;
  const Connect vm{SyscallsAccess{"/mnt/knfsd"}};
  const Connect v42 = ForNfsVersion(vm, "4.2");
  EXPECT_EQ(std::get<SyscallsAccess>(v42.access).root, "/mnt/knfsd@v4.2");
  EXPECT_EQ(ForNfsVersion(vm, ""), vm);
  // Not a mount root (a local server's directory), or libnfs: unchanged.
  const Connect local{SyscallsAccess{"/tmp/run/ovl"}};
  EXPECT_EQ(ForNfsVersion(local, "4.2"), local);
  const Connect libnfs{agent::protocol::LibnfsAccess{}};
  EXPECT_EQ(ForNfsVersion(libnfs, "4.2"), libnfs);

  std::optional<MountRoot> m = ParseMountRoot("/mnt/knfsd@v4.2");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->server, "knfsd");
  EXPECT_EQ(m->nfs_version, "4.2");
  EXPECT_EQ(m->dir, "knfsd@v4.2");
  m = ParseMountRoot("/mnt/knfsd");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->server, "knfsd");
  EXPECT_EQ(m->nfs_version, "");
  EXPECT_FALSE(ParseMountRoot("/mnt/"));
  EXPECT_FALSE(ParseMountRoot("/mnt/a/b"));
  EXPECT_FALSE(ParseMountRoot("/tmp/x"));
}

}  // namespace
}  // namespace ovl::backend
