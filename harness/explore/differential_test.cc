#include "explore/differential.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ovl::explore {
namespace {

class Events {
 public:
  // One op of `case_id`, from scenario step `step`, answered `error` ("" = ok, "-" = none).
  Events& Op(const std::string& case_id, uint32_t step, const std::string& error) {
    ops::Event invoke;
    invoke.type = ops::Event::Type::kInvoke;
    invoke.case_id = case_id;
    ops::Op op;
    op.seq = ++seq_;
    op.client = "A";
    op.kind = ops::Kind::kGetAttr;
    op.target.var = "H";
    op.step = step;
    invoke.op = op;
    events_.push_back(invoke);
    ops::Event done;
    done.type = ops::Event::Type::kComplete;
    done.case_id = case_id;
    done.seq = seq_;
    ops::Result r;
    if (error == "-") {
      r.outcome = ops::Result::Outcome::kUnknown;
    } else if (!error.empty()) {
      r.outcome = ops::Result::Outcome::kError;
      r.error = error;
    }
    done.result = r;
    events_.push_back(done);
    return *this;
  }
  const std::vector<ops::Event>& events() const { return events_; }

 private:
  std::vector<ops::Event> events_;
  uint64_t seq_ = 0;
};

TEST(DifferentialTest, TheStepsWhereServersAnsweredDifferentlyAreListedSideBySide) {
  Events e;
  e.Op("ref/libnfs/gen-1-0", 1, "").Op("ref/libnfs/gen-1-0", 2, "").Op("ref/libnfs/gen-1-0", 2, "");
  e.Op("ko/local-syscalls/gen-1-0", 1, "").Op("ko/local-syscalls/gen-1-0", 2, "");
  e.Op("ko/local-syscalls/gen-1-0", 2, "STALE");
  e.Op("gan/libnfs/gen-1-0", 1, "").Op("gan/libnfs/gen-1-0", 2, "-");
  e.Op("ref/libnfs/gen-1-0-s4", 1, "IO");  // a shrink candidate: not a place
  const std::map<std::string, CasePlace> places = {{"ref/libnfs/gen-1-0", {"gen-1-0", "ref"}},
                                                   {"ko/local-syscalls/gen-1-0", {"gen-1-0", "ko"}},
                                                   {"gan/libnfs/gen-1-0", {"gen-1-0", "gan"}}};
  const std::vector<Disagreement> d = Disagreements(e.events(), places, 10);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].scenario, "gen-1-0");
  EXPECT_EQ(d[0].step, 2u);
  EXPECT_EQ(d[0].answers.at("gan"), "no answer");
  EXPECT_EQ(d[0].answers.at("ko"), "ok");
  EXPECT_EQ(d[0].answers.at("ref"), "ok");
  EXPECT_THAT(d[0].op, ::testing::HasSubstr("getattr"));
  EXPECT_EQ(d[1].answers.at("ko"), "STALE");  // the step's second op, compared in order
  EXPECT_EQ(d[1].answers.at("ref"), "ok");
  EXPECT_EQ(d[1].answers.count("gan"), 0u);  // it never got that far
  EXPECT_EQ(Disagreements(e.events(), places, 1).size(), 1u);
}

}  // namespace
}  // namespace ovl::explore
