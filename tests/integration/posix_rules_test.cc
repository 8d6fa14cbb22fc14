// POSIX ownership and set-id rules over the wire (issue 10, item 6), with non-root AUTH_SYS
// credentials, for every file type and every layer position (lower, copied up, upper):
// - SETATTR of uid or gid by a caller that is not the owner is refused with NFS3ERR_PERM even
//   when the values equal the current ones; the owner may keep its uid and move the file to a
//   group it belongs to; root may do anything.
// - A WRITE or a size change by a caller other than root clears S_ISUID, and S_ISGID as Linux
//   does (see reference_server/nfs/access.h); root keeps both.
// The lower layer is never modified: every change lands in a copy.
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "integration/overlay_fixture.h"

namespace ovl::integration {
namespace {

using nfsclient::kNfs3ErrPerm;
using nfsclient::kNfs3Ok;
using nfsclient::SetAttrs;

// The objects' owner and group, a supplementary group of the owner, a group it is not in.
constexpr uint32_t kOwnerUid = 1000;
constexpr uint32_t kFileGid = 100;
constexpr uint32_t kOwnersOtherGid = 101;
constexpr uint32_t kForeignGid = 300;

struct Caller {
  const char* name;
  uint32_t uid;
  uint32_t gid;
  std::vector<uint32_t> groups;
};
const Caller kRoot{"root", 0, 0, {}};
const Caller kOwner{"owner", kOwnerUid, kFileGid, {kOwnersOtherGid}};
const Caller kMember{"member", 2000, 200, {kFileGid}};  // not the owner, in the file's group
const Caller kStranger{"stranger", 2000, 200, {}};      // neither owner nor in the group

enum class Position { kLower, kCopiedUp, kUpper };
constexpr std::array<Position, 3> kPositions = {Position::kLower, Position::kCopiedUp,
                                                Position::kUpper};
const char* PositionName(Position p) {
  switch (p) {
    case Position::kLower:
      return "lower";
    case Position::kCopiedUp:
      return "copied";
    case Position::kUpper:
      return "upper";
  }
  return "?";
}

struct Kind {
  const char* name;
  uint32_t nfs_type;
  mode_t local_type;
};
constexpr std::array<Kind, 7> kKinds = {{
    {"reg", nfsclient::kTypeReg, S_IFREG},
    {"dir", nfsclient::kTypeDir, S_IFDIR},
    {"fifo", nfsclient::kTypeFifo, S_IFIFO},
    {"chr", nfsclient::kTypeChr, S_IFCHR},
    {"blk", nfsclient::kTypeBlk, S_IFBLK},
    {"sock", nfsclient::kTypeSock, S_IFSOCK},
    {"lnk", nfsclient::kTypeLnk, S_IFLNK},
}};
constexpr Kind kRegular = kKinds[0];

// Device numbers of the test nodes (the null device's, never opened).
constexpr uint32_t kMajor = 1;
constexpr uint32_t kMinor = 3;

// One object under t/.
struct Object {
  Position position;
  Kind kind;
  std::string name;
  uint32_t mode;
};

SetAttrs Owners(std::optional<uint32_t> uid, std::optional<uint32_t> gid) {
  SetAttrs a;
  a.uid = uid;
  a.gid = gid;
  return a;
}

class PosixRulesTest : public OverlayTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(CreateServer());
    MakeLocalDir(Lower("t"), 0777);
  }

  // Makes the lower-layer objects (call before the server starts).
  void MakeInLower(const Object& o) {
    if (o.position == Position::kUpper) return;
    const std::string path = Lower("t/" + o.name);
    switch (o.kind.local_type) {
      case S_IFREG:
        WriteLocalFile(path, "lower data");
        break;
      case S_IFDIR:
        MakeLocalDir(path);
        break;
      case S_IFLNK:
        ASSERT_EQ(symlink("target", path.c_str()), 0) << path;
        break;
      default:
        ASSERT_EQ(mknod(path.c_str(), o.kind.local_type | 0600, makedev(kMajor, kMinor)), 0)
            << path;
    }
    ASSERT_EQ(lchown(path.c_str(), kOwnerUid, kFileGid), 0) << path;
    if (o.kind.local_type != S_IFLNK) {
      ASSERT_EQ(chmod(path.c_str(), o.mode), 0) << path;
    }
  }

  // The handle of `o` at its position: a lower object is looked up; a copied-up one is looked up
  // and then copied up by root (a SETATTR of mtime); an upper one is made by root and given
  // to the owner. Records a failure unless its type, owner and mode are as wanted.
  std::string Materialize(const std::string& dir, const Object& o) {
    As(kRoot);
    std::string fh;
    if (o.position == Position::kUpper) {
      fh = CreateAsRoot(dir, o);
      SetAttrs give = Owners(kOwnerUid, kFileGid);
      if (o.kind.nfs_type != nfsclient::kTypeLnk) give.mode = o.mode;
      EXPECT_NFS(SetattrStatus(fh, give), kNfs3Ok) << "give " << o.name << " to the owner";
    } else {
      fh = Lookup(dir, o.name);
    }
    if (o.position == Position::kCopiedUp) {
      SetAttrs touch;
      touch.mtime_how = nfsclient::SetTime::kServerTime;
      EXPECT_NFS(SetattrStatus(fh, touch), kNfs3Ok) << "copy-up of " << o.name;
      struct stat st;
      EXPECT_EQ(lstat((server_->upper_dir() + "/t/" + o.name).c_str(), &st), 0)
          << o.name << " was not copied up";
    }
    const Fattr a = Getattr(fh);
    EXPECT_EQ(a.type, o.kind.nfs_type) << o.name;
    EXPECT_EQ(a.uid, kOwnerUid) << o.name;
    EXPECT_EQ(a.gid, kFileGid) << o.name;
    if (o.kind.nfs_type != nfsclient::kTypeLnk) {
      EXPECT_EQ(a.mode, o.mode) << o.name;
    }
    return fh;
  }

  std::string CreateAsRoot(const std::string& dir, const Object& o) {
    SetAttrs mode;
    mode.mode = o.mode & 0777;
    Result<nfsclient::CreateRes> r = Status::Error(EINVAL, "no such kind");
    switch (o.kind.nfs_type) {
      case nfsclient::kTypeReg:
        r = client_.Create(dir, o.name, nfsclient::kGuarded, mode);
        if (r.ok() && r->status == kNfs3Ok && r->handle) Write(*r->handle, 0, "lower data");
        break;
      case nfsclient::kTypeDir:
        r = client_.Mkdir(dir, o.name, mode);
        break;
      case nfsclient::kTypeLnk:
        r = client_.Symlink(dir, o.name, "target");
        break;
      default:
        r = client_.Mknod(dir, o.name, o.kind.nfs_type, mode, kMajor, kMinor);
    }
    if (!r.ok() || r->status != kNfs3Ok || !r->handle) {
      ADD_FAILURE() << "create " << o.name << ": "
                    << (r.ok() ? Nfsstat3Name(r->status) : r.status().ToString());
      return "";
    }
    return *r->handle;
  }

  void As(const Caller& c) { client_.SetCredentials(c.uid, c.gid, c.groups); }

  uint32_t SetattrStatus(const std::string& fh, const SetAttrs& attrs) {
    auto r = client_.Setattr(fh, attrs);
    if (!r.ok()) {
      ADD_FAILURE() << "SETATTR: " << r.status().ToString();
      return ~0u;
    }
    return r->status;
  }

  // SETATTR of `attrs` by `c`, expecting `want`; a refused one must leave the owner alone.
  void ExpectChown(const Caller& c, const std::string& fh, const SetAttrs& attrs, uint32_t want,
                   const std::string& what) {
    SCOPED_TRACE(std::string(c.name) + ": " + what);
    As(kRoot);
    const Fattr before = Getattr(fh);
    As(c);
    EXPECT_NFS(SetattrStatus(fh, attrs), want);
    As(kRoot);
    const Fattr after = Getattr(fh);
    if (want != kNfs3Ok) {
      EXPECT_EQ(after.uid, before.uid);
      EXPECT_EQ(after.gid, before.gid);
      return;
    }
    EXPECT_EQ(after.uid, attrs.uid.value_or(before.uid));
    EXPECT_EQ(after.gid, attrs.gid.value_or(before.gid));
  }

  // The whole chown/chgrp matrix on one object owned by kOwner:kFileGid. The refusals come
  // first, so on a lower object they meet the lower object itself.
  void CheckOwnership(const std::string& fh) {
    const std::map<std::string, std::string> upper = TreeSnapshot(server_->upper_dir());
    ExpectChown(kStranger, fh, Owners(kOwnerUid, kFileGid), kNfs3ErrPerm, "same uid and gid");
    ExpectChown(kStranger, fh, Owners(kOwnerUid, {}), kNfs3ErrPerm, "same uid");
    ExpectChown(kStranger, fh, Owners({}, kFileGid), kNfs3ErrPerm, "same gid");
    ExpectChown(kMember, fh, Owners({}, kFileGid), kNfs3ErrPerm, "same gid, in the group");
    ExpectChown(kMember, fh, Owners(kOwnerUid, kFileGid), kNfs3ErrPerm, "same, in the group");
    ExpectChown(kOwner, fh, Owners({}, kForeignGid), kNfs3ErrPerm, "a group it is not in");
    ExpectChown(kOwner, fh, Owners(kMember.uid, {}), kNfs3ErrPerm, "give away");
    EXPECT_EQ(TreeSnapshot(server_->upper_dir()), upper) << "a refused SETATTR changed the upper";

    ExpectChown(kOwner, fh, Owners(kOwnerUid, kFileGid), kNfs3Ok, "same uid and gid");
    ExpectChown(kOwner, fh, Owners({}, kOwnersOtherGid), kNfs3Ok, "its supplementary group");
    ExpectChown(kOwner, fh, Owners({}, kFileGid), kNfs3Ok, "its primary group");
    ExpectChown(kRoot, fh, Owners(kMember.uid, kForeignGid), kNfs3Ok, "anything");
    ExpectChown(kRoot, fh, Owners(kOwnerUid, kFileGid), kNfs3Ok, "back");
  }
};

TEST_F(PosixRulesTest, OnlyTheOwnerMaySetOwnerAndGroupEvenToTheSameValues) {
  std::vector<Object> objects;
  for (Position p : kPositions) {
    for (const Kind& k : kKinds) {
      const uint32_t mode = k.local_type == S_IFDIR ? 0777 : 0666;
      objects.push_back({p, k, std::string(PositionName(p)) + "-" + k.name, mode});
    }
  }
  for (const Object& o : objects) ASSERT_NO_FATAL_FAILURE(MakeInLower(o));
  const std::map<std::string, std::string> lower = TreeSnapshot(server_->lower_dirs()[0]);
  ASSERT_NO_FATAL_FAILURE(StartAndMount());
  const std::string dir = Lookup(root_, "t");
  for (const Object& o : objects) {
    SCOPED_TRACE(o.name);
    const std::string fh = Materialize(dir, o);
    if (fh.empty()) continue;  // the failure is recorded
    CheckOwnership(fh);
  }
  // Through a symlink the client resolves the link and sends the target's handle.
  for (Position p : kPositions) {
    SCOPED_TRACE(std::string("through the symlink ") + PositionName(p) + "-lnk");
    As(kStranger);
    const std::string link = Lookup(dir, std::string(PositionName(p)) + "-lnk");
    ASSERT_RESULT(target, client_.Readlink(link));
    ASSERT_NFS(target->status, kNfs3Ok);
    ASSERT_EQ(target->target, "target");
    SetAttrs a = Owners(kOwnerUid, kFileGid);
    EXPECT_NFS(SetattrStatus(Lookup(dir, std::string(PositionName(p)) + "-reg"), a), kNfs3ErrPerm);
  }
  EXPECT_EQ(TreeSnapshot(server_->lower_dirs()[0]), lower) << "the lower layer changed";
}

// How a WRITE or a size change by each caller leaves a set-id mode.
struct SetIdCase {
  uint32_t mode;
  uint32_t root, owner, member, stranger;  // the mode after the change
};
constexpr std::array<SetIdCase, 4> kSetIdCases = {{
    {04777, 04777, 0777, 0777, 0777},
    {02777, 02777, 0777, 0777, 0777},
    {06777, 06777, 0777, 0777, 0777},
    // Set-gid without group execute: kept for callers in the file's group.
    {02767, 02767, 02767, 02767, 0767},
}};

uint32_t ModeAfter(const SetIdCase& c, const Caller& who) {
  if (&who == &kRoot) return c.root;
  if (&who == &kOwner) return c.owner;
  if (&who == &kMember) return c.member;
  return c.stranger;
}

constexpr std::array<const Caller*, 4> kCallers = {&kRoot, &kOwner, &kMember, &kStranger};

std::string ModeName(uint32_t mode) {
  char buf[16];
  snprintf(buf, sizeof buf, "%05o", mode);
  return buf;
}

TEST_F(PosixRulesTest, WriteAndTruncateByNonRootClearSetIdBits) {
  struct Case {
    Object object;
    const SetIdCase* modes;
    const Caller* who;
    bool truncate;
  };
  std::vector<Case> cases;
  for (Position p : kPositions) {
    for (const SetIdCase& m : kSetIdCases) {
      for (const Caller* who : kCallers) {
        for (bool truncate : {false, true}) {
          const std::string name = std::string(PositionName(p)) + "-" + ModeName(m.mode) + "-" +
                                   who->name + (truncate ? "-truncate" : "-write");
          cases.push_back({{p, kRegular, name, m.mode}, &m, who, truncate});
        }
      }
    }
  }
  for (const Case& c : cases) ASSERT_NO_FATAL_FAILURE(MakeInLower(c.object));
  const std::map<std::string, std::string> lower = TreeSnapshot(server_->lower_dirs()[0]);
  ASSERT_NO_FATAL_FAILURE(StartAndMount());
  const std::string dir = Lookup(root_, "t");
  for (const Case& c : cases) {
    SCOPED_TRACE(c.object.name);
    const std::string fh = Materialize(dir, c.object);
    if (fh.empty()) continue;  // the failure is recorded
    const uint32_t want = ModeAfter(*c.modes, *c.who);
    As(*c.who);
    if (c.truncate) {
      SetAttrs size;
      size.size = 3;
      ASSERT_RESULT(r, client_.Setattr(fh, size));
      EXPECT_NFS(r->status, kNfs3Ok);
      ASSERT_TRUE(r->wcc.after.has_value());
      EXPECT_EQ(r->wcc.after->mode, want) << "SETATTR's post-op mode";
    } else {
      ASSERT_RESULT(r, client_.Write(fh, 0, "x", nfsclient::kFileSync));
      EXPECT_NFS(r->status, kNfs3Ok);
      ASSERT_TRUE(r->wcc.after.has_value());
      EXPECT_EQ(r->wcc.after->mode, want) << "WRITE's post-op mode";
    }
    As(kRoot);
    const Fattr a = Getattr(fh);
    EXPECT_EQ(a.mode, want) << ModeName(a.mode) << " != " << ModeName(want);
    EXPECT_EQ(ReadAll(fh), c.truncate ? "low" : "xower data");
  }
  EXPECT_EQ(TreeSnapshot(server_->lower_dirs()[0]), lower) << "the lower layer changed";
}

}  // namespace
}  // namespace ovl::integration
