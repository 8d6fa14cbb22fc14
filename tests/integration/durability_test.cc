// Requirement 5 of ovlnfsd (issue 2) and exclusive CREATE: data written FILE_SYNC, or UNSTABLE
// and then COMMITted, is there after kill -9; the write verifier differs on every start; an
// exclusive CREATE replayed after a restart with the same verifier succeeds with the same handle.
//
// A local SIGKILL leaves the host page cache intact, so these tests prove that acknowledged data is
// not lost in the server process (no userspace buffering, correct replies), not that it reached the
// disk; power-cut durability needs the VM backend (docs/design.md, "Faults the harness injects").
#include <iterator>
#include <set>
#include <string>

#include "integration/overlay_fixture.h"

namespace ovl::integration {
namespace {

using nfsclient::kNfs3ErrExist;
using nfsclient::kNfs3Ok;

constexpr size_t kChunk = 32 * 1024;
constexpr int kChunks = 6;

// Chunk `i` of a test file: distinct bytes per chunk, so a lost or misplaced one shows.
std::string Chunk(int i) {
  std::string data(kChunk, '\0');
  for (size_t k = 0; k < kChunk; ++k) data[k] = static_cast<char>('a' + (i * 7 + k) % 26);
  return data;
}

class DurabilityTest : public OverlayTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(CreateServer());
    ASSERT_NO_FATAL_FAILURE(WriteLower("lowerfile", "lower bytes that a write will copy up"));
    ASSERT_NO_FATAL_FAILURE(WriteLower("lower2", "second lower file"));
    ASSERT_NO_FATAL_FAILURE(StartAndMount());
  }
};

TEST_F(DurabilityTest, FileSyncWritesSurviveKill) {
  std::string created = CreateFile(root_, "synced");
  std::string lower = Lookup(root_, "lowerfile");
  std::string want;
  for (int i = 0; i < kChunks; ++i) {
    Write(created, i * kChunk, Chunk(i), nfsclient::kFileSync);
    want += Chunk(i);
  }
  // The copy-up itself must be durable too.
  Write(lower, 0, "LOWER", nfsclient::kFileSync);
  ASSERT_FALSE(HasFailure());
  ASSERT_NO_FATAL_FAILURE(Inject(Fault::kCrash, created));
  EXPECT_EQ(ReadAll(created), want);
  EXPECT_EQ(ReadAll(lower), "LOWER bytes that a write will copy up");
}

TEST_F(DurabilityTest, UnstableWritesCommittedSurviveKill) {
  std::string fh = CreateFile(root_, "unstable");
  std::string lower = Lookup(root_, "lowerfile");
  std::string want;
  std::set<uint64_t> verifiers;
  // Written out of order, so the file only comes out right if every chunk is kept.
  for (int i = kChunks - 1; i >= 0; --i) {
    auto res = client_.Write(fh, i * kChunk, Chunk(i), nfsclient::kUnstable);
    ASSERT_TRUE(res.ok()) << res.status().ToString();
    ASSERT_NFS(res->status, kNfs3Ok);
    ASSERT_EQ(res->count, kChunk);
    verifiers.insert(res->verifier);
  }
  for (int i = 0; i < kChunks; ++i) want += Chunk(i);
  auto lower_write = client_.Write(lower, 0, "LOWER", nfsclient::kUnstable);
  ASSERT_TRUE(lower_write.ok());
  ASSERT_NFS(lower_write->status, kNfs3Ok);
  verifiers.insert(lower_write->verifier);
  for (const std::string& committed : {fh, lower}) {
    auto commit = client_.Commit(committed, 0, 0);
    ASSERT_TRUE(commit.ok()) << commit.status().ToString();
    ASSERT_NFS(commit->status, kNfs3Ok);
    verifiers.insert(commit->verifier);
  }
  EXPECT_EQ(verifiers.size(), 1u) << "WRITE and COMMIT verifiers differ within one start";
  ASSERT_NO_FATAL_FAILURE(Inject(Fault::kCrash, fh));
  EXPECT_EQ(ReadAll(fh), want);
  EXPECT_EQ(ReadAll(lower), "LOWER bytes that a write will copy up");
}

TEST_F(DurabilityTest, WriteVerifierDiffersOnEveryStart) {
  std::string fh = CreateFile(root_, "verf");
  std::set<uint64_t> seen;
  const Fault starts[] = {Fault::kReboot, Fault::kCrash, Fault::kReboot, Fault::kCrash};
  for (size_t i = 0; i <= std::size(starts); ++i) {
    const uint64_t write_verf = Write(fh, 0, "x", nfsclient::kUnstable);
    auto commit = client_.Commit(fh, 0, 0);
    ASSERT_TRUE(commit.ok()) << commit.status().ToString();
    ASSERT_NFS(commit->status, kNfs3Ok);
    EXPECT_EQ(commit->verifier, write_verf);
    EXPECT_TRUE(seen.insert(write_verf).second) << "verifier repeated at start " << i;
    if (i < std::size(starts)) {
      ASSERT_NO_FATAL_FAILURE(Inject(starts[i], fh));
    }
  }
}

// namespace-durability (docs/design.md, "Scenario catalogue"): every acknowledged namespace change
// is there after a crash right after the replies.
TEST_F(DurabilityTest, AcknowledgedNamespaceChangesSurviveKill) {
  const std::string created = CreateFile(root_, "created");
  Write(created, 0, "created data");
  const std::string dir = Mkdir(root_, "dir");
  const std::string lower = Lookup(root_, "lowerfile");
  ASSERT_RESULT(moved, client_.Rename(root_, "lowerfile", dir, "moved"));
  ASSERT_NFS(moved->status, kNfs3Ok);
  ASSERT_RESULT(linked, client_.Link(lower, root_, "linked"));
  ASSERT_NFS(linked->status, kNfs3Ok);
  ASSERT_RESULT(removed, client_.Remove(root_, "lower2"));
  ASSERT_NFS(removed->status, kNfs3Ok);
  nfsclient::SetAttrs mode;
  mode.mode = 0600;
  ASSERT_RESULT(chmod, client_.Setattr(created, mode));
  ASSERT_NFS(chmod->status, kNfs3Ok);
  ASSERT_RESULT(symlink, client_.Symlink(dir, "symlink", "moved"));
  ASSERT_NFS(symlink->status, kNfs3Ok);
  ASSERT_FALSE(HasFailure());

  ASSERT_NO_FATAL_FAILURE(Inject(Fault::kCrash, created));
  EXPECT_EQ(LookupPath("created"), created);
  EXPECT_EQ(Getattr(created).mode, 0600u);
  EXPECT_EQ(ReadAll(created), "created data");
  EXPECT_EQ(LookupPath("dir"), dir);
  EXPECT_EQ(LookupPath("dir/moved"), lower);
  EXPECT_EQ(LookupPath("linked"), lower);
  EXPECT_EQ(Getattr(lower).nlink, 2u);
  ASSERT_RESULT(gone, client_.Lookup(root_, "lowerfile"));
  EXPECT_NFS(gone->status, nfsclient::kNfs3ErrNoent);
  ASSERT_RESULT(gone2, client_.Lookup(root_, "lower2"));
  EXPECT_NFS(gone2->status, nfsclient::kNfs3ErrNoent);
  ASSERT_RESULT(target, client_.Readlink(LookupPath("dir/symlink")));
  EXPECT_EQ(target->target, "moved");
}

TEST_F(DurabilityTest, ExclusiveCreateReplayAfterRestartReturnsSameHandle) {
  constexpr uint64_t kVerifier = 0x0123456789abcdefULL;
  auto first = client_.Create(root_, "excl", nfsclient::kExclusive, {}, kVerifier);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_NFS(first->status, kNfs3Ok);
  ASSERT_TRUE(first->handle.has_value());
  const std::string handle = *first->handle;
  for (Fault fault : kAllFaults) {
    SCOPED_TRACE(FaultName(fault));
    ASSERT_NO_FATAL_FAILURE(Inject(fault, handle));
    // The reply to the first CREATE was "lost"; the client retransmits it.
    auto replay = client_.Create(root_, "excl", nfsclient::kExclusive, {}, kVerifier);
    ASSERT_TRUE(replay.ok()) << replay.status().ToString();
    EXPECT_NFS(replay->status, kNfs3Ok);
    ASSERT_TRUE(replay->handle.has_value());
    EXPECT_EQ(*replay->handle, handle);
    // Another client's exclusive create of the same name must not succeed.
    auto other = client_.Create(root_, "excl", nfsclient::kExclusive, {}, kVerifier + 1);
    ASSERT_TRUE(other.ok()) << other.status().ToString();
    EXPECT_NFS(other->status, kNfs3ErrExist);
  }
}

}  // namespace
}  // namespace ovl::integration
