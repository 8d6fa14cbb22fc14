// Requirement 2 of ovlnfsd (issue 2): once the last name of a file is removed its handle is
// NFS3ERR_STALE, forever, across eviction, restarts and crashes, and it never reaches a new file,
// even one that reuses the inode number.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "backend/layer_fs.h"
#include "integration/overlay_fixture.h"
#include "support/scratch_dir.h"

namespace ovl::integration {
namespace {

using nfsclient::kNfs3ErrStale;
using nfsclient::kNfs3Ok;

// New files created through the union after the removal.
constexpr int kNewFiles = 200;
// ext4 allocates a file's inode in its parent's group (8192 inodes) when it can, so this many
// local creates in the same directory reach a given freed inode unless another process takes it.
constexpr int kMaxReuseAttempts = 10000;

enum class Origin {
  kLower,          // a lower file never touched before its removal
  kLowerCopiedUp,  // a lower file written (copied up) before its removal
  kLowerTwoLinks,  // a lower file with two names, copied up through one, both removed
  kUpper,          // a file created through the union
  kRenamedOver,    // a lower file whose last name is replaced by RENAME of another file
};

const char* OriginName(Origin o) {
  switch (o) {
    case Origin::kLower:
      return "Lower";
    case Origin::kLowerCopiedUp:
      return "LowerCopiedUp";
    case Origin::kLowerTwoLinks:
      return "LowerTwoLinks";
    case Origin::kUpper:
      return "Upper";
    case Origin::kRenamedOver:
      return "RenamedOver";
  }
  return "?";
}

class HandleStaleTest : public OverlayTest, public ::testing::WithParamInterface<Origin> {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(CreateServer());
    ASSERT_NO_FATAL_FAILURE(MkdirLower("dir"));
    ASSERT_NO_FATAL_FAILURE(WriteLower("dir/victim", "victim data"));
    ASSERT_EQ(link(Lower("dir/victim").c_str(), Lower("dir/twin").c_str()), 0);
    ASSERT_NO_FATAL_FAILURE(WriteLower("keep", "keep"));
    ASSERT_NO_FATAL_FAILURE(StartAndMount());
    dir_ = LookupPath("dir");
    probe_ = LookupPath("keep");
  }

  // Checks that `held` is STALE for every procedure that takes it as the object.
  void ExpectStale(const std::string& held) {
    EXPECT_NFS(GetattrStatus(held), kNfs3ErrStale);
    auto read = client_.Read(held, 0, 4096);
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    EXPECT_NFS(read->status, kNfs3ErrStale);
    EXPECT_EQ(read->data, "");
    auto access = client_.Access(held, nfsclient::kAccessRead);
    ASSERT_TRUE(access.ok()) << access.status().ToString();
    EXPECT_NFS(access->status, kNfs3ErrStale);
    nfsclient::SetAttrs mode;
    mode.mode = 0600;
    auto setattr = client_.Setattr(held, mode);
    ASSERT_TRUE(setattr.ok()) << setattr.status().ToString();
    EXPECT_NFS(setattr->status, kNfs3ErrStale);
  }

  void Remove(const std::string& name) {
    auto res = client_.Remove(dir_, name);
    ASSERT_TRUE(res.ok()) << res.status().ToString();
    ASSERT_NFS(res->status, kNfs3Ok) << "REMOVE " << name;
    removed_.push_back(name);
  }

  std::string dir_;
  std::string probe_;
  std::vector<std::string> removed_;
};

TEST_P(HandleStaleTest, LastNameRemovedIsStaleForeverAndNeverReachesANewFile) {
  std::string held;
  switch (GetParam()) {
    case Origin::kLower:
      held = Lookup(dir_, "victim");
      Remove("twin");
      Remove("victim");
      break;
    case Origin::kLowerCopiedUp:
      held = Lookup(dir_, "victim");
      Remove("twin");
      Write(held, 0, "changed");
      Remove("victim");
      break;
    case Origin::kLowerTwoLinks:
      held = Lookup(dir_, "victim");
      Write(held, 0, "changed");
      Remove("victim");
      EXPECT_EQ(ReadAll(held), "changeddata") << "one name is left: the handle still decodes";
      Remove("twin");
      break;
    case Origin::kUpper:
      held = CreateFile(dir_, "fresh");
      Write(held, 0, "fresh data");
      Remove("fresh");
      break;
    case Origin::kRenamedOver: {
      held = Lookup(dir_, "victim");
      Remove("twin");
      const std::string replacement = CreateFile(dir_, "replacement");
      Write(replacement, 0, "replacement data");
      auto res = client_.Rename(dir_, "replacement", dir_, "victim");
      ASSERT_TRUE(res.ok()) << res.status().ToString();
      ASSERT_NFS(res->status, kNfs3Ok);
      EXPECT_EQ(ReadAll(Lookup(dir_, "victim")), "replacement data");
      removed_.push_back("replacement");
      break;
    }
  }
  ASSERT_FALSE(HasFailure());
  ExpectStale(held);
  for (Fault fault : kAllFaults) {
    SCOPED_TRACE(FaultName(fault));
    ASSERT_NO_FATAL_FAILURE(Inject(fault, probe_));
    dir_ = LookupPath("dir");
    ExpectStale(held);
  }

  // Reuse: the same names again, then many new files in the same directory. None may get the
  // held handle, and the held handle must not reach any of them.
  std::set<std::string> handles;
  for (const std::string& name : removed_) handles.insert(CreateFile(dir_, name));
  for (int i = 0; i < kNewFiles; ++i) {
    std::string fh = CreateFile(dir_, "new" + std::to_string(i));
    Write(fh, 0, "new file " + std::to_string(i));
    handles.insert(fh);
    if (i % 100 == 0) ExpectStale(held);
    ASSERT_FALSE(HasFailure());
  }
  EXPECT_EQ(handles.count(held), 0u) << "a new file was given the removed file's handle";
  ExpectStale(held);
  for (Fault fault : {Fault::kReboot, Fault::kCrash, Fault::kEvict}) {
    SCOPED_TRACE(std::string("after reuse, ") + FaultName(fault));
    ASSERT_NO_FATAL_FAILURE(Inject(fault, probe_));
    ExpectStale(held);
  }
}

// ext4 hands a freed inode number to a file created next in the same group, but only on a
// filesystem nothing else creates files on: the host's /tmp once kept the number away through
// 10,000 creates, alone and in every run (2026-12-07). So this test's layers live on an ext4
// image of their own, loop-mounted (root).
class InodeReuseTest : public HandleStaleTest {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root for a loop mount";
    auto scratch = testsupport::ScratchDir::Create("ovl-inode-reuse");
    ASSERT_TRUE(scratch.ok()) << scratch.status().ToString();
    scratch_ = std::move(scratch).value();
    auto fs = backend::LayerFsMount::Make(topology::LayerFs::kExt4, scratch_.path(), "layers");
    ASSERT_TRUE(fs.ok()) << fs.status().ToString();
    fs_ = std::move(fs).value();
    // ServerProcess makes its tree under $TMPDIR (tests/support/scratch_dir.h).
    const char* old = getenv("TMPDIR");
    const std::string saved = old != nullptr ? old : "";
    setenv("TMPDIR", fs_->path().c_str(), 1);
    HandleStaleTest::SetUp();
    if (old != nullptr) {
      setenv("TMPDIR", saved.c_str(), 1);
    } else {
      unsetenv("TMPDIR");
    }
  }
  void TearDown() override {
    HandleStaleTest::TearDown();
    server_.reset();  // its tree goes before the filesystem under it
    if (fs_) ASSERT_OK(fs_->Remove());
  }

  testsupport::ScratchDir scratch_;
  std::unique_ptr<backend::LayerFsMount> fs_;
};

// The inode number of a removed upper file is handed to a new file (created in the upper dir
// while the server is down, until the number comes back): the held handle must stay STALE and
// the new file must get a handle of its own.
TEST_F(InodeReuseTest, InodeNumberReusedByNewFileIsNeverReached) {
  std::string held = CreateFile(dir_, "fresh");
  Write(held, 0, "fresh data");
  const uint64_t ino = Getattr(held).fileid;
  Remove("fresh");
  ASSERT_FALSE(HasFailure());
  ASSERT_RESULT(status, server_->Terminate());
  ASSERT_EQ(*status, 0);

  const std::string upper_dir = server_->upper_dir() + "/dir";
  std::string reuser;
  std::vector<std::string> fillers;
  for (int i = 0; i < kMaxReuseAttempts && reuser.empty(); ++i) {
    const std::string path = upper_dir + "/reuse" + std::to_string(i);
    WriteLocalFile(path, "new file with a recycled inode");
    struct stat st;
    ASSERT_EQ(stat(path.c_str(), &st), 0);
    if (st.st_ino == ino) {
      reuser = path;
    } else {
      fillers.push_back(path);
    }
  }
  for (const std::string& path : fillers) ASSERT_EQ(unlink(path.c_str()), 0) << path;
  ASSERT_FALSE(reuser.empty()) << "inode " << ino << " was not handed out again";

  ASSERT_OK(server_->Start());
  ASSERT_NO_FATAL_FAILURE(Mount());
  dir_ = LookupPath("dir");
  ExpectStale(held);
  const std::string fresh = Lookup(dir_, reuser.substr(reuser.rfind('/') + 1));
  EXPECT_NE(fresh, held);
  EXPECT_EQ(Getattr(fresh).fileid, ino) << "the new file does have the old inode number";
  EXPECT_EQ(ReadAll(fresh), "new file with a recycled inode");
  for (Fault fault : kAllFaults) {
    SCOPED_TRACE(FaultName(fault));
    ASSERT_NO_FATAL_FAILURE(Inject(fault, fresh));
    ExpectStale(held);
  }
}

INSTANTIATE_TEST_SUITE_P(Origins, HandleStaleTest,
                         ::testing::Values(Origin::kLower, Origin::kLowerCopiedUp,
                                           Origin::kLowerTwoLinks, Origin::kUpper,
                                           Origin::kRenamedOver),
                         [](const auto& info) { return OriginName(info.param); });

}  // namespace
}  // namespace ovl::integration
