#include "ops/offline.h"

#include <gtest/gtest.h>

namespace ovl::ops {
namespace {

TEST(OfflineEditTest, JsonRoundTrip) {
  for (const OfflineEdit& e : {OfflineEdit{OfflineEdit::Kind::kRenameLower, "d", "e", true},
                               OfflineEdit{OfflineEdit::Kind::kCopyLayers, "", "", false}}) {
    ovl::Result<OfflineEdit> back = OfflineEditFromJson(OfflineEditToJson(e));
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, e);
  }
}

TEST(OfflineEditTest, RejectsBadJson) {
  EXPECT_FALSE(OfflineEditFromJson({{"edit", "melt-lower"}, {"stop", "crash"}}).ok());
  EXPECT_FALSE(
      OfflineEditFromJson({{"edit", "rename-lower"}, {"path", "d"}, {"stop", "crash"}}).ok());
  EXPECT_FALSE(OfflineEditFromJson({{"edit", "remove-upper"}, {"path", "d"}, {"stop", "x"}}).ok());
  EXPECT_TRUE(
      OfflineEditFromJson({{"edit", "remove-upper"}, {"path", "d"}, {"stop", "clean"}}).ok());
}

TEST(OfflineEditTest, Names) {
  EXPECT_EQ(OfflineKindFromName("link-lower"), OfflineEdit::Kind::kLinkLower);
  EXPECT_FALSE(OfflineKindFromName("link"));
  EXPECT_EQ(DescribeOfflineEdit({OfflineEdit::Kind::kRenameLower, "d", "e", true}),
            "rename-lower d -> e (crash)");
}

}  // namespace
}  // namespace ovl::ops
