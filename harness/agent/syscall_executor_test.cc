// SyscallExecutor on a plain temp dir and on a kernel overlayfs mount made by the test
// (index=on,nfs_export=on; skipped with the reason where the kernel refuses the mount).
#include "agent/syscall_executor.h"

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "agent/agent.h"
#include "agent/executor_test_util.h"
#include "support/scratch_dir.h"

namespace ovl::agent {
namespace {

using nlohmann::json;
using ops::Kind;
using testutil::AgentOp;
using testutil::AgentRequest;
using testutil::MakeOp;
using testutil::Path;
using testutil::Var;
using Outcome = ops::Result::Outcome;

std::unique_ptr<SyscallExecutor> OpenExecutor(const std::string& root) {
  return testutil::ValueOrNull(SyscallExecutor::Open(root));
}

// A kernel overlayfs of one lower dir (holding the MakeTree tree) at `merged`.
class OverlayMount {
 public:
  // The mount, or the reason the kernel refused it.
  static Result<std::unique_ptr<OverlayMount>> Create() {
    OVL_ASSIGN_OR_RETURN(testsupport::ScratchDir dir,
                         testsupport::ScratchDir::Create("agent-overlay"));
    std::unique_ptr<OverlayMount> m(new OverlayMount(std::move(dir)));
    for (const char* sub : {"lower", "upper", "work", "merged"}) {
      if (mkdir((m->dir_.path() + "/" + sub).c_str(), 0755) != 0) {
        return Status::FromErrno(std::string("mkdir ") + sub);
      }
    }
    OVL_RETURN_IF_ERROR(testutil::MakeTree(m->dir_.path() + "/lower"));
    OVL_RETURN_IF_ERROR(m->Mount());
    return m;
  }

  ~OverlayMount() {
    if (mounted_) umount2(merged().c_str(), MNT_DETACH);
  }

  std::string merged() const { return dir_.path() + "/merged"; }

  // A plain umount: EBUSY while anything holds an fd in the mount.
  Status Unmount() {
    if (umount2(merged().c_str(), 0) != 0) return Status::FromErrno("umount");
    mounted_ = false;
    return Status::Ok();
  }

  Status Remount() {
    OVL_RETURN_IF_ERROR(Unmount());
    return Mount();
  }

  Status Mount() {
    const std::string& d = dir_.path();
    std::string options = "lowerdir=" + d + "/lower,upperdir=" + d + "/upper,workdir=" + d +
                          "/work,index=on,nfs_export=on";
    if (mount("overlay", merged().c_str(), "overlay", 0, options.c_str()) != 0) {
      return Status::FromErrno("mount -t overlay -o " + options);
    }
    mounted_ = true;
    return Status::Ok();
  }

 private:
  explicit OverlayMount(testsupport::ScratchDir dir) : dir_(std::move(dir)) {}

  testsupport::ScratchDir dir_;
  bool mounted_ = false;
};

class SyscallPlainDirTest : public testutil::TreeDirTest {
 protected:
  SyscallPlainDirTest() : TreeDirTest("agent-plain") {}
};

class SyscallOverlayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<OverlayMount>> m = OverlayMount::Create();
    if (!m.ok()) GTEST_SKIP() << "no kernel overlayfs here: " << m.status().ToString();
    mount_ = std::move(m).value();
  }

  std::unique_ptr<OverlayMount> mount_;
};

TEST(SyscallErrnoNameTest, NfsNamesAndOthers) {
  EXPECT_EQ(ErrnoName(ESTALE), "STALE");
  EXPECT_EQ(ErrnoName(ENOENT), "NOENT");
  EXPECT_EQ(ErrnoName(ENOTEMPTY), "NOTEMPTY");
  EXPECT_EQ(ErrnoName(EXDEV), "XDEV");
  EXPECT_EQ(ErrnoName(ENAMETOOLONG), "NAMETOOLONG");
  EXPECT_EQ(ErrnoName(kErrBadHandle), "BADHANDLE");
  EXPECT_EQ(ErrnoName(kErrBadCookie), "BAD_COOKIE");
  EXPECT_EQ(ErrnoName(ELOOP), "ELOOP");
}

TEST_F(SyscallPlainDirTest, OpenFailsOnMissingRoot) {
  EXPECT_FALSE(SyscallExecutor::Open(dir_.path() + "/missing").ok());
}

TEST_F(SyscallPlainDirTest, EveryKind) {
  std::unique_ptr<SyscallExecutor> e = OpenExecutor(dir_.path());
  ASSERT_NE(e, nullptr);
  testutil::ExpectEveryKind(*e);
}

// kOpen keeps a file open in the caller's table: readable through it after its last name went,
// until kClose; without a table there is nothing to keep it in.
TEST_F(SyscallPlainDirTest, AnOpenFileOutlivesItsLastNameUntilClosed) {
  OpenFiles files;
  Result<std::unique_ptr<SyscallExecutor>> e = SyscallExecutor::Open(dir_.path(), &files);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  VarTable vars;
  ops::Op open = MakeOp(Kind::kOpen, Path("a"));
  open.fd = "F";
  ops::Result opened = (*e)->Execute(open, vars);
  ASSERT_EQ(opened.outcome, Outcome::kOk) << opened.error;
  EXPECT_EQ(opened.attrs->nlink, 1u);
  EXPECT_EQ((*e)->Execute(open, vars).error, "EXIST");  // F is taken
  ASSERT_EQ((*e)->Execute(MakeOp(Kind::kRemove, Path(""), "a"), vars).outcome, Outcome::kOk);
  ops::Target through;
  through.fd = "F";
  ops::Op read_op = MakeOp(Kind::kRead, through);
  read_op.count = 100;
  ops::Result read = (*e)->Execute(read_op, vars);
  ASSERT_EQ(read.outcome, Outcome::kOk) << read.error;
  EXPECT_EQ(read.data, testutil::kFileA);
  ops::Result attrs = (*e)->Execute(MakeOp(Kind::kGetAttr, through), vars);
  ASSERT_EQ(attrs.outcome, Outcome::kOk) << attrs.error;
  EXPECT_EQ(attrs.attrs->nlink, 0u);
  ops::Op close = MakeOp(Kind::kClose, ops::Target{});
  close.fd = "F";
  EXPECT_EQ((*e)->Execute(close, vars).outcome, Outcome::kOk);
  EXPECT_TRUE(files.empty());
  EXPECT_EQ((*e)->Execute(close, vars).error, kErrNoVar);
  EXPECT_EQ((*e)->Execute(read_op, vars).error, kErrNoVar);

  std::unique_ptr<SyscallExecutor> without = OpenExecutor(dir_.path());
  open.target = Path("d/x");
  EXPECT_EQ(without->Execute(open, vars).error, "NOTSUPP");
}

TEST_F(SyscallPlainDirTest, HandleRoundTripAndStaleAfterLastUnlink) {
  std::unique_ptr<SyscallExecutor> e = OpenExecutor(dir_.path());
  ASSERT_NE(e, nullptr);
  VarTable vars;
  ops::Op lookup = MakeOp(Kind::kLookup, Path("d"), "x");
  lookup.save = "X";
  ASSERT_EQ(e->Execute(lookup, vars).outcome, Outcome::kOk);
  ASSERT_GT(vars["X"].size(), 4u);  // handle_type + f_handle

  struct stat st {};
  ASSERT_EQ(stat((dir_.path() + "/d/x").c_str(), &st), 0);
  ops::Result got = e->Execute(MakeOp(Kind::kGetAttr, Var("X")), vars);
  ASSERT_EQ(got.outcome, Outcome::kOk);
  EXPECT_EQ(got.attrs->fileid, st.st_ino);
  EXPECT_EQ(got.attrs->type, "reg");

  // A second name keeps the handle valid; removing the last one makes it STALE.
  ASSERT_EQ(link((dir_.path() + "/d/x").c_str(), (dir_.path() + "/y").c_str()), 0);
  ASSERT_EQ(unlink((dir_.path() + "/d/x").c_str()), 0);
  got = e->Execute(MakeOp(Kind::kGetAttr, Var("X")), vars);
  ASSERT_EQ(got.outcome, Outcome::kOk) << got.error;
  EXPECT_EQ(got.attrs->nlink, 1u);
  ASSERT_EQ(unlink((dir_.path() + "/y").c_str()), 0);
  got = e->Execute(MakeOp(Kind::kGetAttr, Var("X")), vars);
  EXPECT_EQ(got.outcome, Outcome::kError);
  EXPECT_EQ(got.error, "STALE");
}

TEST_F(SyscallPlainDirTest, ExclusiveCreateReplaySucceedsWithTheSameVerifier) {
  std::unique_ptr<SyscallExecutor> e = OpenExecutor(dir_.path());
  ASSERT_NE(e, nullptr);
  VarTable vars;
  ops::Op create = MakeOp(Kind::kCreate, Path(""), "excl");
  create.how = ops::CreateHow::kExclusive;
  create.verifier = {1, 2, 3, 4, 5, 6, 7, 8};
  ops::Result first = e->Execute(create, vars);
  ASSERT_EQ(first.outcome, Outcome::kOk) << first.error;
  ops::Result replay = e->Execute(create, vars);
  ASSERT_EQ(replay.outcome, Outcome::kOk) << replay.error;
  EXPECT_EQ(replay.handle, first.handle);
  create.verifier[0] = 9;
  ops::Result other = e->Execute(create, vars);
  EXPECT_EQ(other.outcome, Outcome::kError);
  EXPECT_EQ(other.error, "EXIST");
}

TEST_F(SyscallPlainDirTest, ReaddirCookiesAreIndexesInTheSortedListing) {
  std::unique_ptr<SyscallExecutor> e = OpenExecutor(dir_.path());
  ASSERT_NE(e, nullptr);
  VarTable vars;
  ops::Op readdir = MakeOp(Kind::kReaddir, Path(""));
  ops::Result all = e->Execute(readdir, vars);
  ASSERT_EQ(all.outcome, Outcome::kOk);
  ASSERT_EQ(all.entries.size(), 2u);
  EXPECT_EQ(all.entries[0].name, "a");
  EXPECT_EQ(all.entries[1].name, "d");
  EXPECT_EQ(all.entries[1].cookie, 2u);
  EXPECT_TRUE(all.eof);
  readdir.cookie = 1;
  ops::Result rest = e->Execute(readdir, vars);
  ASSERT_EQ(rest.entries.size(), 1u);
  EXPECT_EQ(rest.entries[0].name, "d");
  readdir.cookie = 3;
  ops::Result past = e->Execute(readdir, vars);
  EXPECT_EQ(past.outcome, Outcome::kError);
  EXPECT_EQ(past.error, "BAD_COOKIE");
  readdir.resume = "unset";
  EXPECT_EQ(e->Execute(readdir, vars).error, kErrNoVar);
}

TEST_F(SyscallPlainDirTest, PathWalkFollowsNoSymlink) {
  ASSERT_EQ(symlink("d", (dir_.path() + "/ld").c_str()), 0);
  std::unique_ptr<SyscallExecutor> e = OpenExecutor(dir_.path());
  ASSERT_NE(e, nullptr);
  VarTable vars;
  EXPECT_EQ(e->Execute(MakeOp(Kind::kGetAttr, Path("ld/x")), vars).error, "NOTDIR");
  ops::Result link = e->Execute(MakeOp(Kind::kGetAttr, Path("ld")), vars);
  ASSERT_EQ(link.outcome, Outcome::kOk);
  EXPECT_EQ(link.attrs->type, "lnk");
  EXPECT_EQ(e->Execute(MakeOp(Kind::kReadlink, Path("ld")), vars).link_target, "d");
}

TEST_F(SyscallOverlayTest, EveryKind) {
  std::unique_ptr<SyscallExecutor> e = OpenExecutor(mount_->merged());
  ASSERT_NE(e, nullptr);
  testutil::ExpectEveryKind(*e);
}

TEST_F(SyscallOverlayTest, HeldHandleSurvivesRemountThroughReconnect) {
  Agent agent;
  json connect = {{"cmd", "connect"}, {"mode", "syscalls"}, {"root", mount_->merged()}};
  ASSERT_EQ(AgentRequest(agent, connect.dump()), json({{"ok", true}}));
  ops::Op lookup = MakeOp(Kind::kLookup, Path(""), "a");
  lookup.save = "A";
  ASSERT_EQ(AgentOp(agent, lookup).outcome, Outcome::kOk);
  ops::Op write = MakeOp(Kind::kWrite, Var("A"));
  write.data = "HELLO";
  ASSERT_EQ(AgentOp(agent, write).outcome, Outcome::kOk);  // a copy-up of the lower file
  ops::Result before = AgentOp(agent, MakeOp(Kind::kGetAttr, Var("A")));
  ASSERT_EQ(before.outcome, Outcome::kOk);

  ASSERT_TRUE(mount_->Remount().ok());
  ASSERT_EQ(AgentRequest(agent, R"({"cmd":"reconnect"})"), json({{"ok", true}}));
  ops::Result after = AgentOp(agent, MakeOp(Kind::kGetAttr, Var("A")));
  ASSERT_EQ(after.outcome, Outcome::kOk) << after.error;
  EXPECT_EQ(after.attrs->fileid, before.attrs->fileid);
  ops::Op read = MakeOp(Kind::kRead, Var("A"));
  read.count = 16;
  EXPECT_EQ(AgentOp(agent, read).data, "HELLO");
  EXPECT_EQ(AgentOp(agent, MakeOp(Kind::kLookup, Path(""), "a")).handle, agent.vars().at("A"));

  // The last name gone: STALE after the next remount too (the index keeps a tombstone).
  ASSERT_EQ(AgentOp(agent, MakeOp(Kind::kRemove, Path(""), "a")).outcome, Outcome::kOk);
  ASSERT_TRUE(mount_->Remount().ok());
  ASSERT_EQ(AgentRequest(agent, R"({"cmd":"reconnect"})"), json({{"ok", true}}));
  EXPECT_EQ(AgentOp(agent, MakeOp(Kind::kGetAttr, Var("A"))).error, "STALE");
}

TEST_F(SyscallOverlayTest, OpWhileUnmountedIsUnknownAndPinsNothing) {
  std::unique_ptr<SyscallExecutor> e = OpenExecutor(mount_->merged());
  ASSERT_NE(e, nullptr);
  VarTable vars;
  ops::Op lookup = MakeOp(Kind::kLookup, Path(""), "a");
  lookup.save = "A";
  ASSERT_EQ(e->Execute(lookup, vars).outcome, Outcome::kOk);
  // No fd of the executor keeps the mount busy between ops.
  ASSERT_TRUE(mount_->Unmount().ok());
  // The bare mount point is another file system: no false STALE from it.
  EXPECT_EQ(e->Execute(MakeOp(Kind::kGetAttr, Var("A")), vars).outcome, Outcome::kUnknown);
  ASSERT_TRUE(mount_->Mount().ok());
  EXPECT_EQ(e->Execute(MakeOp(Kind::kGetAttr, Var("A")), vars).outcome, Outcome::kOk);
}

}  // namespace
}  // namespace ovl::agent
