// Requirement 1 of ovlnfsd (issue 2): a handle given for a lower file decodes to the same object
// after copy-up, rename of the file, its parent or grandparent, a move to a new parent, unlink of
// another hard link, and after each of eviction, clean restart and kill -9; LOOKUP returns the
// byte-identical handle; the lower directory is never modified.
#include <map>
#include <string>

#include "integration/overlay_fixture.h"

namespace ovl::integration {
namespace {

constexpr char kOriginal[] = "original contents of the lower file\n";
constexpr char kUpdate[] = "UPDATED";

enum class Mutation {
  kCopyUp,
  kChmod,     // SETATTR mode: a metadata-only copy-up
  kTruncate,  // SETATTR size
  kRenameFile,
  kRenameParent,
  kRenameGrandparent,
  kMoveToNewParent,
  kRemoveOtherLink,
  kAllInSequence,
};

const char* MutationName(Mutation m) {
  switch (m) {
    case Mutation::kCopyUp:
      return "CopyUp";
    case Mutation::kChmod:
      return "Chmod";
    case Mutation::kTruncate:
      return "Truncate";
    case Mutation::kRenameFile:
      return "RenameFile";
    case Mutation::kRenameParent:
      return "RenameParent";
    case Mutation::kRenameGrandparent:
      return "RenameGrandparent";
    case Mutation::kMoveToNewParent:
      return "MoveToNewParent";
    case Mutation::kRemoveOtherLink:
      return "RemoveOtherLink";
    case Mutation::kAllInSequence:
      return "AllInSequence";
  }
  return "?";
}

// What the held handle must show after the mutations so far.
struct Expected {
  std::string path = "gp/par/file";
  std::string link_path = "gp/aunt/link";  // the other hard link; empty once removed
  std::string data = kOriginal;
  uint32_t nlink = 2;
  uint32_t mode = 0644;
};

class HandlePersistenceTest : public OverlayTest, public ::testing::WithParamInterface<Mutation> {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(CreateServer());
    // lower0: gp/par/{file, sibling}, gp/aunt/link (a hard link of file in another directory)
    for (const char* dir : {"gp", "gp/par", "gp/aunt"}) ASSERT_NO_FATAL_FAILURE(MkdirLower(dir));
    ASSERT_NO_FATAL_FAILURE(WriteLower("gp/par/file", kOriginal));
    ASSERT_EQ(link(Lower("gp/par/file").c_str(), Lower("gp/aunt/link").c_str()), 0);
    ASSERT_NO_FATAL_FAILURE(WriteLower("gp/par/sibling", "sibling\n"));
    lower_before_ = TreeSnapshot(server_->lower_dirs()[0]);
    ASSERT_NO_FATAL_FAILURE(StartAndMount());
    held_ = LookupPath("gp/par/file");
    ASSERT_FALSE(held_.empty());
    fileid_ = Getattr(held_).fileid;
  }

  void Apply(Mutation m) {
    SCOPED_TRACE(MutationName(m));
    switch (m) {
      case Mutation::kCopyUp:
        Write(held_, 0, kUpdate);
        expected_.data = std::string(kUpdate) + (kOriginal + sizeof(kUpdate) - 1);
        break;
      case Mutation::kChmod:
      case Mutation::kTruncate: {
        nfsclient::SetAttrs attrs;
        if (m == Mutation::kChmod) {
          attrs.mode = expected_.mode = 0600;
        } else {
          attrs.size = 8;
          expected_.data.resize(8);
        }
        auto res = client_.Setattr(held_, attrs);
        ASSERT_TRUE(res.ok()) << res.status().ToString();
        EXPECT_NFS(res->status, nfsclient::kNfs3Ok);
        break;
      }
      case Mutation::kRenameFile:
        ExpectRenameOk(ParentOf(expected_.path), "file", ParentOf(expected_.path), "renamed");
        expected_.path = ParentPath(expected_.path) + "/renamed";
        break;
      case Mutation::kRenameParent:
        ExpectRenameOk(LookupPath("gp"), "par", LookupPath("gp"), "par2");
        Replace("gp/par/", "gp/par2/");
        break;
      case Mutation::kRenameGrandparent:
        ExpectRenameOk(root_, "gp", root_, "gp2");
        Replace("gp/", "gp2/");
        break;
      case Mutation::kMoveToNewParent: {
        std::string dir = Mkdir(root_, "newparent");
        const std::string name = expected_.path.substr(expected_.path.rfind('/') + 1);
        ExpectRenameOk(ParentOf(expected_.path), name, dir, name);
        expected_.path = "newparent/" + name;
        break;
      }
      case Mutation::kRemoveOtherLink: {
        auto res = client_.Remove(ParentOf(expected_.link_path), "link");
        ASSERT_TRUE(res.ok()) << res.status().ToString();
        EXPECT_NFS(res->status, nfsclient::kNfs3Ok);
        expected_.link_path.clear();
        expected_.nlink = 1;
        break;
      }
      case Mutation::kAllInSequence:
        for (Mutation each :
             {Mutation::kChmod, Mutation::kCopyUp, Mutation::kRenameFile, Mutation::kRenameParent,
              Mutation::kRenameGrandparent, Mutation::kMoveToNewParent, Mutation::kTruncate,
              Mutation::kRemoveOtherLink}) {
          Apply(each);
          Check(MutationName(each));
        }
        break;
    }
  }

  // The held handle decodes to the same file with the expected data, and LOOKUP of its current
  // name (and of its other hard link) returns the byte-identical handle.
  void Check(const std::string& when) {
    SCOPED_TRACE("check " + when);
    Fattr attrs = Getattr(held_);
    EXPECT_EQ(attrs.type, nfsclient::kTypeReg);
    EXPECT_EQ(attrs.fileid, fileid_);
    EXPECT_EQ(attrs.nlink, expected_.nlink);
    EXPECT_EQ(attrs.mode, expected_.mode);
    EXPECT_EQ(attrs.size, expected_.data.size());
    EXPECT_EQ(ReadAll(held_), expected_.data);
    EXPECT_EQ(LookupPath(expected_.path), held_) << "LOOKUP " << expected_.path;
    if (!expected_.link_path.empty()) {
      // Both names are one lower inode, so one origin and one handle, before and after copy-up.
      std::string link = LookupPath(expected_.link_path);
      EXPECT_EQ(link, held_) << "LOOKUP " << expected_.link_path;
      EXPECT_EQ(Getattr(link).fileid, fileid_);
    }
  }

  void ExpectRenameOk(const std::string& from_dir, const std::string& from,
                      const std::string& to_dir, const std::string& to) {
    auto res = client_.Rename(from_dir, from, to_dir, to);
    ASSERT_TRUE(res.ok()) << res.status().ToString();
    EXPECT_NFS(res->status, nfsclient::kNfs3Ok) << "RENAME " << from << " -> " << to;
  }

  static std::string ParentPath(const std::string& path) { return path.substr(0, path.rfind('/')); }
  std::string ParentOf(const std::string& path) { return LookupPath(ParentPath(path)); }

  // Rewrites the expected paths after a directory rename.
  void Replace(const std::string& from, const std::string& to) {
    for (std::string* p : {&expected_.path, &expected_.link_path}) {
      if (p->rfind(from, 0) == 0) *p = to + p->substr(from.size());
    }
  }

  std::map<std::string, std::string> lower_before_;
  std::string held_;
  uint64_t fileid_ = 0;
  Expected expected_;
};

TEST_P(HandlePersistenceTest, HeldHandleSurvivesMutationAndFaults) {
  ASSERT_NO_FATAL_FAILURE(Apply(GetParam()));
  ASSERT_NO_FATAL_FAILURE(Check("after the mutation"));
  ASSERT_FALSE(HasFailure());
  for (Fault fault : kAllFaults) {
    ASSERT_NO_FATAL_FAILURE(Inject(fault, held_));
    Check(std::string("after ") + FaultName(fault));
    ASSERT_FALSE(HasFailure());
  }
  EXPECT_EQ(TreeSnapshot(server_->lower_dirs()[0]), lower_before_)
      << "the lower directory was modified";
}

INSTANTIATE_TEST_SUITE_P(Mutations, HandlePersistenceTest,
                         ::testing::Values(Mutation::kCopyUp, Mutation::kChmod, Mutation::kTruncate,
                                           Mutation::kRenameFile, Mutation::kRenameParent,
                                           Mutation::kRenameGrandparent, Mutation::kMoveToNewParent,
                                           Mutation::kRemoveOtherLink, Mutation::kAllInSequence),
                         [](const auto& info) { return MutationName(info.param); });

// A file created through the union (upper only, no lower origin) keeps its handle too.
TEST_F(OverlayTest, UpperOnlyFileHandleSurvivesFaults) {
  ASSERT_NO_FATAL_FAILURE(CreateServer());
  ASSERT_NO_FATAL_FAILURE(StartAndMount());
  std::string dir = Mkdir(root_, "made");
  std::string fh = CreateFile(dir, "new");
  Write(fh, 0, "upper data");
  ASSERT_FALSE(HasFailure());
  const uint64_t fileid = Getattr(fh).fileid;
  for (Fault fault : kAllFaults) {
    SCOPED_TRACE(FaultName(fault));
    ASSERT_NO_FATAL_FAILURE(Inject(fault, fh));
    EXPECT_EQ(Getattr(fh).fileid, fileid);
    EXPECT_EQ(ReadAll(fh), "upper data");
    EXPECT_EQ(LookupPath("made/new"), fh);
  }
}

}  // namespace
}  // namespace ovl::integration
