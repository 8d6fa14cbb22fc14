#include "model/verdict.h"

#include <gtest/gtest.h>

namespace ovl::model {
namespace {

TEST(VerdictTest, NamesRoundTripInSeverityOrder) {
  for (int i = 0; i < kVerdictCount; ++i) {
    const Verdict v = kVerdictsBySeverity[i];
    EXPECT_EQ(VerdictFromName(VerdictName(v)), v) << VerdictName(v);
    EXPECT_EQ(VerdictSeverity(v), i) << VerdictName(v);
  }
  EXPECT_EQ(VerdictName(kVerdictsBySeverity[0]), "FAIL");
  EXPECT_EQ(VerdictName(Verdict::kUnsupported), "UNSUPPORTED");
  EXPECT_FALSE(VerdictFromName("pass"));
  EXPECT_FALSE(VerdictFromName(""));
}

}  // namespace
}  // namespace ovl::model
