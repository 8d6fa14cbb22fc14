// Directory handles (docs/design.md, "Scenario catalogue", dir-handles): a handle of a directory
// that exists in the lower layers (here merged from two of them) stays valid through copy-up of a
// child and renames of the directory, its parent or grandparent and a move to another parent, after
// eviction, restart and crash; it shows the merged contents; it is STALE after RMDIR.
#include <string>

#include "integration/overlay_fixture.h"

namespace ovl::integration {
namespace {

using nfsclient::kNfs3ErrStale;
using nfsclient::kNfs3Ok;

enum class DirMutation {
  kCopyUpChild,
  kRenameSelf,
  kMoveToOtherParent,
  kRenameParent,
  kRenameGrandparent,
};

const char* DirMutationName(DirMutation m) {
  switch (m) {
    case DirMutation::kCopyUpChild:
      return "CopyUpChild";
    case DirMutation::kRenameSelf:
      return "RenameSelf";
    case DirMutation::kMoveToOtherParent:
      return "MoveToOtherParent";
    case DirMutation::kRenameParent:
      return "RenameParent";
    case DirMutation::kRenameGrandparent:
      return "RenameGrandparent";
  }
  return "?";
}

class DirHandleTest : public OverlayTest, public ::testing::WithParamInterface<DirMutation> {
 protected:
  void SetUp() override {
    testsupport::ServerOptions options = BaseOptions();
    options.lower_count = 2;
    ASSERT_NO_FATAL_FAILURE(CreateServer(options));
    // a/b/d exists in both lower layers: a merged directory.
    for (const std::string& layer : server_->lower_dirs()) {
      for (const char* dir : {"/a", "/a/b", "/a/b/d"}) MakeLocalDir(layer + dir);
    }
    WriteLocalFile(Lower("a/b/d/child"), "top child");
    WriteLocalFile(server_->lower_dirs()[1] + "/a/b/d/bottom", "bottom child");
    ASSERT_NO_FATAL_FAILURE(MkdirLower("other"));
    ASSERT_NO_FATAL_FAILURE(WriteLower("keep", "keep"));
    ASSERT_NO_FATAL_FAILURE(StartAndMount());
    held_ = LookupPath(path_);
    fileid_ = Getattr(held_).fileid;
    probe_ = Lookup(root_, "keep");
    ASSERT_FALSE(HasFailure());
  }

  void Rename(const std::string& from_dir, const std::string& from, const std::string& to_dir,
              const std::string& to) {
    auto res = client_.Rename(LookupPath(from_dir), from, LookupPath(to_dir), to);
    ASSERT_TRUE(res.ok()) << res.status().ToString();
    ASSERT_NFS(res->status, kNfs3Ok) << "RENAME " << from << " -> " << to;
  }

  void Apply(DirMutation m) {
    switch (m) {
      case DirMutation::kCopyUpChild:
        Write(Lookup(held_, "child"), 0, "TOP");
        child_data_ = "TOP child";
        break;
      case DirMutation::kRenameSelf:
        Rename("a/b", "d", "a/b", "d2");
        path_ = "a/b/d2";
        break;
      case DirMutation::kMoveToOtherParent:
        Rename("a/b", "d", "other", "moved");
        path_ = "other/moved";
        break;
      case DirMutation::kRenameParent:
        Rename("a", "b", "a", "b2");
        path_ = "a/b2/d";
        break;
      case DirMutation::kRenameGrandparent:
        Rename("", "a", "", "a2");
        path_ = "a2/b/d";
        break;
    }
  }

  void Check() {
    Fattr attrs = Getattr(held_);
    EXPECT_EQ(attrs.type, nfsclient::kTypeDir);
    EXPECT_EQ(attrs.fileid, fileid_);
    EXPECT_EQ(LookupPath(path_), held_) << "LOOKUP " << path_;
    EXPECT_EQ(ReadAll(Lookup(held_, "child")), child_data_);
    EXPECT_EQ(ReadAll(Lookup(held_, "bottom")), "bottom child") << "the merged view was lost";
    ASSERT_RESULT(dotdot, client_.Lookup(held_, ".."));
    EXPECT_NFS(dotdot->status, kNfs3Ok);
    EXPECT_EQ(dotdot->handle, LookupPath(path_.substr(0, path_.rfind('/'))));
  }

  std::string path_ = "a/b/d";
  std::string child_data_ = "top child";
  std::string held_;
  uint64_t fileid_ = 0;
  std::string probe_;
};

TEST_P(DirHandleTest, HeldDirHandleSurvivesMutationAndFaults) {
  ASSERT_NO_FATAL_FAILURE(Apply(GetParam()));
  Check();
  ASSERT_FALSE(HasFailure());
  for (Fault fault : kAllFaults) {
    SCOPED_TRACE(FaultName(fault));
    ASSERT_NO_FATAL_FAILURE(Inject(fault, probe_));
    // The eviction probe is a file; decode the directory cold too.
    if (fault == Fault::kEvict) ASSERT_OK(server_->DropCaches());
    Check();
    ASSERT_FALSE(HasFailure());
  }
}

TEST_P(DirHandleTest, HeldDirHandleIsStaleAfterRmdir) {
  ASSERT_NO_FATAL_FAILURE(Apply(GetParam()));
  for (const char* child : {"child", "bottom"}) {
    auto res = client_.Remove(held_, child);
    ASSERT_TRUE(res.ok()) << res.status().ToString();
    ASSERT_NFS(res->status, kNfs3Ok) << "REMOVE " << child;
  }
  const std::string parent = path_.substr(0, path_.rfind('/'));
  auto rmdir = client_.Rmdir(LookupPath(parent), path_.substr(path_.rfind('/') + 1));
  ASSERT_TRUE(rmdir.ok()) << rmdir.status().ToString();
  ASSERT_NFS(rmdir->status, kNfs3Ok);
  EXPECT_NFS(GetattrStatus(held_), kNfs3ErrStale);
  for (Fault fault : kAllFaults) {
    SCOPED_TRACE(FaultName(fault));
    ASSERT_NO_FATAL_FAILURE(Inject(fault, probe_));
    EXPECT_NFS(GetattrStatus(held_), kNfs3ErrStale);
    // A new directory at the same path is a different object.
    if (fault == Fault::kCrash) {
      const std::string fresh = Mkdir(LookupPath(parent), path_.substr(path_.rfind('/') + 1));
      EXPECT_NE(fresh, held_);
      EXPECT_NFS(GetattrStatus(held_), kNfs3ErrStale);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Mutations, DirHandleTest,
                         ::testing::Values(DirMutation::kCopyUpChild, DirMutation::kRenameSelf,
                                           DirMutation::kMoveToOtherParent,
                                           DirMutation::kRenameParent,
                                           DirMutation::kRenameGrandparent),
                         [](const auto& info) { return DirMutationName(info.param); });

}  // namespace
}  // namespace ovl::integration
