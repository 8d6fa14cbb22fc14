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

}  // namespace
}  // namespace ovl::backend
