#include "backend/offline_disk.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "base/temp_dir_for_test.h"

namespace ovl::backend {
namespace {

using Kind = ops::OfflineEdit::Kind;

bool Exists(const std::string& path) {
  return std::filesystem::exists(std::filesystem::symlink_status(path));
}

class OfflineDiskTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* d : {"/l0", "/l0/d", "/l1", "/l1/d", "/l1/f", "/l1/f/g", "/u", "/u/d", "/w"}) {
      ASSERT_EQ(::mkdir((dir_.path() + d).c_str(), 0755), 0) << d;
    }
    for (const char* f : {"/l0/d/a", "/l1/d/b", "/l1/f/c", "/u/d/a"}) {
      std::ofstream(dir_.path() + f) << "x";
    }
  }
  EditableLayers Dirs() const {
    return {{dir_.path() + "/l0", dir_.path() + "/l1"},
            dir_.path() + "/u",
            dir_.path() + "/w",
            "offline_disk_test"};
  }
  std::string P(const std::string& rel) const { return dir_.path() + "/" + rel; }

  TempDir dir_;
};

TEST_F(OfflineDiskTest, RemoveUpperUnlinksOnlyTheUpperFile) {
  ASSERT_TRUE(ApplyOfflineEdit({Kind::kRemoveUpper, "d/a", "", false}, Dirs()).ok());
  EXPECT_FALSE(Exists(P("u/d/a")));
  EXPECT_TRUE(Exists(P("l0/d/a")));
  EXPECT_EQ(ApplyOfflineEdit({Kind::kRemoveUpper, "d/a", "", false}, Dirs()).code(), ENOENT);
  EXPECT_EQ(ApplyOfflineEdit({Kind::kRemoveUpper, "d", "", false}, Dirs()).code(), EINVAL);
}

TEST_F(OfflineDiskTest, RenameAndRemoveLowerActOnEveryLayerHoldingThePath) {
  ASSERT_TRUE(ApplyOfflineEdit({Kind::kRenameLower, "d", "e", true}, Dirs()).ok());
  EXPECT_TRUE(Exists(P("l0/e/a")) && Exists(P("l1/e/b")));
  EXPECT_FALSE(Exists(P("l0/d")) || Exists(P("l1/d")));
  EXPECT_TRUE(Exists(P("u/d/a")));  // the upper layer is left alone
  EXPECT_EQ(ApplyOfflineEdit({Kind::kRenameLower, "e", "f", true}, Dirs()).code(), EEXIST);
  ASSERT_TRUE(ApplyOfflineEdit({Kind::kRemoveLower, "e", "", true}, Dirs()).ok());
  EXPECT_FALSE(Exists(P("l0/e")) || Exists(P("l1/e")));
  EXPECT_EQ(ApplyOfflineEdit({Kind::kRemoveLower, "e", "", true}, Dirs()).code(), ENOENT);
}

TEST_F(OfflineDiskTest, LinkLowerLinksInTheTopMostLayerHoldingTheFile) {
  ASSERT_TRUE(ApplyOfflineEdit({Kind::kLinkLower, "d/b", "d/b2", false}, Dirs()).ok());
  struct stat a, b;
  ASSERT_EQ(::stat(P("l1/d/b").c_str(), &a), 0);
  ASSERT_EQ(::stat(P("l1/d/b2").c_str(), &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);
  EXPECT_EQ(a.st_nlink, 2u);
  EXPECT_FALSE(Exists(P("l0/d/b2")));
  EXPECT_EQ(ApplyOfflineEdit({Kind::kCopyLayers, "", "", false}, Dirs()).code(), kErrNotSupp);
}

// A real overlay mount (root): the dir and its ancestors are in the upper layer afterwards, with
// the lower dir's mode, and the overlay left no index behind.
TEST_F(OfflineDiskTest, CopyUpUnindexedLeavesMergeDirsWithoutIndex) {
  ASSERT_EQ(::chmod(P("l1/f/g").c_str(), 0710), 0);
  Status st = ApplyOfflineEdit({Kind::kCopyUpUnindexed, "f/g", "", false}, Dirs());
  if (st.code() == EPERM) GTEST_SKIP() << "mount(2) needs root: " << st.ToString();
  ASSERT_TRUE(st.ok()) << st.ToString();
  struct stat g;
  ASSERT_EQ(::stat(P("u/f/g").c_str(), &g), 0);
  EXPECT_TRUE(S_ISDIR(g.st_mode));
  EXPECT_EQ(g.st_mode & 07777, 0710u);
  EXPECT_FALSE(Exists(P("w/index")));
  EXPECT_TRUE(Exists(P("l1/f/g")));  // the lower layers are left alone
  EXPECT_EQ(ApplyOfflineEdit({Kind::kCopyUpUnindexed, "nowhere", "", false}, Dirs()).code(),
            ENOENT);
  EXPECT_EQ(ApplyOfflineEdit({Kind::kCopyUpUnindexed, "f/c", "", false}, Dirs()).code(), EINVAL);
  EditableLayers lower_only = Dirs();
  lower_only.upper.clear();
  EXPECT_EQ(ApplyOfflineEdit({Kind::kCopyUpUnindexed, "f", "", false}, lower_only).code(),
            kErrNotSupp);
}

// The kernel says why it refuses an overlay only in its log: the error carries its lines.
TEST_F(OfflineDiskTest, ARefusedCopyUpUnindexedMountSaysTheKernelsReason) {
  EditableLayers broken = Dirs();
  broken.work = dir_.path() + "/no-such-work";
  Status st = ApplyOfflineEdit({Kind::kCopyUpUnindexed, "f/g", "", false}, broken);
  if (st.code() == EPERM) GTEST_SKIP() << "mount(2) needs root: " << st.ToString();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("overlayfs:"), std::string::npos) << st.ToString();
}

}  // namespace
}  // namespace ovl::backend
