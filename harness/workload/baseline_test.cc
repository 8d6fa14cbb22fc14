#include "workload/baseline.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ovl::workload {
namespace {

using ::testing::ElementsAre;

std::vector<std::string> Strings(const topology::Diagnostics& diagnostics) {
  std::vector<std::string> out;
  for (const topology::Diagnostic& d : diagnostics) out.push_back(d.ToString());
  return out;
}

TEST(BaselinesTest, QualifiersAndMatching) {
  auto entries = ParseBaselineFile(
      "# comment\nmixed kernel=6.1. rule=size,nlink sometimes: a window\n"
      "rename-file@crash: always\n",
      "knfsd.txt", "knfsd");
  ASSERT_TRUE(entries.ok()) << topology::FormatDiagnostics(entries.errors());
  Baselines b(std::move(entries).value());
  auto mixed = b.Find("knfsd", "mixed", "random", "6.1.0-57-amd64");
  ASSERT_TRUE(mixed.has_value());
  EXPECT_TRUE(mixed->sometimes);
  EXPECT_EQ(mixed->rules, (std::vector<std::string>{"size", "nlink"}));
  EXPECT_EQ(mixed->line, 2);
  EXPECT_FALSE(b.Find("knfsd", "mixed", "random", "6.12.118").has_value());
  auto rename = b.Find("knfsd", "rename-file", "crash", "6.12.118");
  ASSERT_TRUE(rename.has_value());
  EXPECT_FALSE(rename->sometimes);
  EXPECT_FALSE(b.Find("reference", "rename-file", "crash", "6.12.118").has_value());
}

TEST(BaselinesTest, ServerLimitsAnEntryToTheServersItNames) {
  auto entries = ParseBaselineFile("merged-lower-dirs server=ko-a,ko-b rule=fileid-changed: x\n",
                                   "kernel-overlay.txt", "kernel-overlay");
  ASSERT_TRUE(entries.ok()) << topology::FormatDiagnostics(entries.errors());
  Baselines b(std::move(entries).value());
  EXPECT_TRUE(b.Find("kernel-overlay", "merged-lower-dirs", "crash", "6.18", "ko-b").has_value());
  EXPECT_FALSE(b.Find("kernel-overlay", "merged-lower-dirs", "crash", "6.18", "ko-c").has_value());
  EXPECT_FALSE(b.Find("kernel-overlay", "merged-lower-dirs", "crash", "6.18").has_value());
}

TEST(BaselinesTest, EveryBadLineIsReportedWithItsColumn) {
  auto bad = ParseBaselineFile(
      "mixed sometime: a typo\nno colon here\n  rename-file@crash:\n@crash: no scenario\n",
      "knfsd.txt", "knfsd");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(
      Strings(bad.errors()),
      ElementsAre("knfsd.txt:1:7: unknown qualifier 'sometime'",
                  "knfsd.txt:2:1: expected '<scenario>[@fault] [kernel=X] [server=S] [rule=R] "
                  "[sometimes]: reason'",
                  "knfsd.txt:3:20: a known failure needs a reason",
                  "knfsd.txt:4:1: missing scenario"));
}

}  // namespace
}  // namespace ovl::workload
