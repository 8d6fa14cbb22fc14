#include "model/verdict.h"

#include <gtest/gtest.h>

namespace ovl::model {
namespace {

TEST(VerdictTest, MatrixLinesKeepNfsVersionsApart) {
  EXPECT_EQ(MatrixLine("crash", ""), "crash");
  EXPECT_EQ(MatrixLine("crash", "3"), "crash");
  EXPECT_EQ(MatrixLine("crash", "4.2"), "crash v4.2");
  EXPECT_EQ(MatrixLine("", "4.1"), "v4.1");
  EXPECT_EQ(MatrixLine("", ""), "");
}

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
