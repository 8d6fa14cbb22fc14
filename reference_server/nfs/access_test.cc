#include "nfs/access.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "nfs/nfs3_xdr.h"

namespace ovl::nfs {
namespace {

constexpr uint32_t kAll = kAccess3Read | kAccess3Lookup | kAccess3Modify | kAccess3Extend |
                          kAccess3Delete | kAccess3Execute;

Attr File(uint32_t mode, uint32_t uid = 1000, uint32_t gid = 100) {
  Attr a;
  a.type = FileType::kReg;
  a.mode = mode;
  a.uid = uid;
  a.gid = gid;
  return a;
}

Attr Dir(uint32_t mode, uint32_t uid = 1000, uint32_t gid = 100) {
  Attr a = File(mode, uid, gid);
  a.type = FileType::kDir;
  return a;
}

const Cred kRoot{0, 0, {}};
const Cred kOwner{1000, 100, {}};
const Cred kMember{2000, 200, {100}};
const Cred kOther{3000, 300, {}};

TEST(MayReadWriteTest, OwnerOverridesModeOthersDoNot) {
  Attr f;
  f.mode = 0444;
  f.uid = 1000;
  f.gid = 1000;
  EXPECT_TRUE(MayReadWrite(f, Cred{1000, 1000, {}}, W_OK));
  EXPECT_FALSE(MayReadWrite(f, Cred{1001, 1000, {}}, W_OK));
  EXPECT_TRUE(MayReadWrite(f, Cred{1001, 1000, {}}, R_OK));
}

TEST(MayAccessTest, PicksTheOneMatchingClass) {
  Attr f = File(0640);
  EXPECT_TRUE(MayAccess(f, kOwner, R_OK | W_OK));
  EXPECT_FALSE(MayAccess(f, kOwner, X_OK));
  EXPECT_TRUE(MayAccess(f, kMember, R_OK));
  EXPECT_FALSE(MayAccess(f, kMember, W_OK));
  EXPECT_FALSE(MayAccess(f, kOther, R_OK));
  // The owner class applies even when it is more restrictive than the others.
  Attr g = File(0077);
  EXPECT_FALSE(MayAccess(g, kOwner, R_OK));
  EXPECT_TRUE(MayAccess(g, kOther, R_OK | W_OK | X_OK));
  // Primary group counts like a supplementary one.
  EXPECT_TRUE(MayAccess(File(0040, 1, 300), kOther, R_OK));
  EXPECT_TRUE(MayAccess(f, kOwner, 0));
}

TEST(MayAccessTest, RootBypassesAllButExecute) {
  EXPECT_TRUE(MayAccess(File(0000), kRoot, R_OK | W_OK));
  EXPECT_FALSE(MayAccess(File(0000), kRoot, X_OK));
  EXPECT_TRUE(MayAccess(File(0001), kRoot, X_OK));
  EXPECT_TRUE(MayAccess(Dir(0000), kRoot, R_OK | W_OK | X_OK));
}

TEST(Access3MaskTest, RegularFile) {
  EXPECT_EQ(Access3Mask(File(0755), kOwner, kAll, false),
            kAccess3Read | kAccess3Modify | kAccess3Extend | kAccess3Execute);
  EXPECT_EQ(Access3Mask(File(0755), kOther, kAll, false), kAccess3Read | kAccess3Execute);
  EXPECT_EQ(Access3Mask(File(0600), kOther, kAll, false), 0u);
  // Only requested bits come back.
  EXPECT_EQ(Access3Mask(File(0755), kOwner, kAccess3Read, false), kAccess3Read);
}

TEST(Access3MaskTest, Directory) {
  EXPECT_EQ(Access3Mask(Dir(0755), kOwner, kAll, false),
            kAccess3Read | kAccess3Lookup | kAccess3Modify | kAccess3Extend | kAccess3Delete);
  EXPECT_EQ(Access3Mask(Dir(0755), kOther, kAll, false), kAccess3Read | kAccess3Lookup);
  // Write without search does not allow changing entries.
  EXPECT_EQ(Access3Mask(Dir(0600), kOwner, kAll, false), kAccess3Read);
}

TEST(Access3MaskTest, ReadOnlyExportGrantsNoModification) {
  EXPECT_EQ(Access3Mask(Dir(0777), kRoot, kAll, true), kAccess3Read | kAccess3Lookup);
  EXPECT_EQ(Access3Mask(File(0777), kOwner, kAll, true), kAccess3Read | kAccess3Execute);
}

TEST(Access3MaskTest, Root) {
  EXPECT_EQ(Access3Mask(File(0000), kRoot, kAll, false),
            kAccess3Read | kAccess3Modify | kAccess3Extend);
  EXPECT_EQ(Access3Mask(File(0100), kRoot, kAll, false),
            kAccess3Read | kAccess3Modify | kAccess3Extend | kAccess3Execute);
}

SetAttrRequest Chmod(uint32_t mode) {
  SetAttrRequest r;
  r.mode = mode;
  return r;
}

TEST(CheckSetAttrTest, ChmodOnlyByOwnerOrRoot) {
  SetAttrRequest r = Chmod(0600);
  EXPECT_TRUE(CheckSetAttr(File(0644), kOwner, r).ok());
  EXPECT_TRUE(CheckSetAttr(File(0644), kRoot, r).ok());
  EXPECT_EQ(CheckSetAttr(File(0666), kOther, r).code(), EPERM);
}

TEST(CheckSetAttrTest, ChmodDropsSetgidForNonMembers) {
  SetAttrRequest r = Chmod(S_ISGID | 0755);
  ASSERT_TRUE(CheckSetAttr(File(0644, 1000, 555), kOwner, r).ok());
  EXPECT_EQ(r.mode, 0755u);
  SetAttrRequest keep = Chmod(S_ISGID | 0755);
  ASSERT_TRUE(CheckSetAttr(File(0644), kOwner, keep).ok());
  EXPECT_EQ(keep.mode, static_cast<uint32_t>(S_ISGID | 0755));
}

TEST(CheckSetAttrTest, ChownOnlyByRoot) {
  SetAttrRequest r;
  r.uid = 5;
  EXPECT_EQ(CheckSetAttr(File(0644), kOwner, r).code(), EPERM);
  EXPECT_TRUE(CheckSetAttr(File(0644), kRoot, r).ok());
  r.uid = 1000;  // unchanged owner is fine
  EXPECT_TRUE(CheckSetAttr(File(0644), kOwner, r).ok());
}

// As chown(2): who is not the owner may not even "change" uid or gid to the values they have.
TEST(CheckSetAttrTest, NonOwnerMayNotSetOwnerOrGroupEvenUnchanged) {
  SetAttrRequest uid;
  uid.uid = 1000;
  SetAttrRequest gid;
  gid.gid = 100;
  for (FileType type : {FileType::kReg, FileType::kDir, FileType::kLnk, FileType::kFifo,
                        FileType::kSock, FileType::kChr, FileType::kBlk}) {
    Attr a = File(0666);
    a.type = type;
    EXPECT_EQ(CheckSetAttr(a, kOther, uid).code(), EPERM);
    EXPECT_EQ(CheckSetAttr(a, kOther, gid).code(), EPERM);
    EXPECT_EQ(CheckSetAttr(a, kMember, gid).code(), EPERM) << "group membership is not enough";
    EXPECT_TRUE(CheckSetAttr(a, kOwner, gid).ok());
    EXPECT_TRUE(CheckSetAttr(a, kRoot, uid).ok());
  }
}

TEST(CheckSetAttrTest, ChgrpByOwnerToOwnGroup) {
  Cred owner{1000, 100, {101}};
  SetAttrRequest r;
  r.gid = 101;
  EXPECT_TRUE(CheckSetAttr(File(0644), owner, r).ok());
  r.gid = 102;
  EXPECT_EQ(CheckSetAttr(File(0644), owner, r).code(), EPERM);
  r.gid = 101;
  EXPECT_EQ(CheckSetAttr(File(0644), Cred{3000, 101, {}}, r).code(), EPERM);
}

TEST(CheckSetAttrTest, TruncateNeedsWrite) {
  SetAttrRequest r;
  r.size = 0;
  EXPECT_TRUE(CheckSetAttr(File(0666), kOther, r).ok());
  EXPECT_EQ(CheckSetAttr(File(0444), kOwner, r).code(), EACCES);
  EXPECT_TRUE(CheckSetAttr(File(0444), kRoot, r).ok());
}

// A size change by a caller other than root clears set-id bits as a write does.
TEST(CheckSetAttrTest, TruncateByNonRootClearsSetIdBits) {
  SetAttrRequest r;
  r.size = 0;
  ASSERT_TRUE(CheckSetAttr(File(06777), kOther, r).ok());
  EXPECT_EQ(r.mode, 0777u);
  SetAttrRequest root;
  root.size = 0;
  ASSERT_TRUE(CheckSetAttr(File(06777), kRoot, root).ok());
  EXPECT_FALSE(root.mode.has_value()) << "root keeps the bits";
  SetAttrRequest plain;
  plain.size = 0;
  ASSERT_TRUE(CheckSetAttr(File(0777), kOther, plain).ok());
  EXPECT_FALSE(plain.mode.has_value()) << "nothing to clear, no mode change";
  SetAttrRequest both;
  both.size = 0;
  both.mode = 04755;
  ASSERT_TRUE(CheckSetAttr(File(04755), kOwner, both).ok());
  EXPECT_EQ(both.mode, 04755u) << "an explicit mode is the owner's chmod";
}

TEST(ModeAfterWriteTest, FollowsLinux) {
  // Set-uid always goes; set-gid with group execute always goes.
  EXPECT_EQ(ModeAfterWrite(File(04777), kOwner), 0777u);
  EXPECT_EQ(ModeAfterWrite(File(02777), kMember), 0777u);
  EXPECT_EQ(ModeAfterWrite(File(06777), kOther), 0777u);
  EXPECT_EQ(ModeAfterWrite(File(06755), kOwner), 0755u);
  // Set-gid without group execute stays for members of the file's group only.
  EXPECT_EQ(ModeAfterWrite(File(02767), kOwner), 02767u);
  EXPECT_EQ(ModeAfterWrite(File(02767), kMember), 02767u);
  EXPECT_EQ(ModeAfterWrite(File(02767), kOther), 0767u);
  EXPECT_EQ(ModeAfterWrite(File(06767), kMember), 02767u);
  // Root (CAP_FSETID) keeps everything; other file types are left alone.
  EXPECT_EQ(ModeAfterWrite(File(06777), kRoot), 06777u);
  EXPECT_EQ(ModeAfterWrite(Dir(02777), kOther), 02777u);
  EXPECT_EQ(ModeAfterWrite(File(01777), kOther), 01777u);
}

TEST(CheckSetAttrTest, Times) {
  SetAttrRequest now;
  now.mtime_how = SetAttrRequest::Time::kServerNow;
  EXPECT_TRUE(CheckSetAttr(File(0444), kOwner, now).ok());
  EXPECT_TRUE(CheckSetAttr(File(0666), kOther, now).ok());
  EXPECT_EQ(CheckSetAttr(File(0644), kOther, now).code(), EACCES);

  SetAttrRequest explicit_time;
  explicit_time.atime_how = SetAttrRequest::Time::kClient;
  EXPECT_TRUE(CheckSetAttr(File(0444), kOwner, explicit_time).ok());
  EXPECT_EQ(CheckSetAttr(File(0666), kOther, explicit_time).code(), EPERM);
  EXPECT_TRUE(CheckSetAttr(File(0000), kRoot, explicit_time).ok());
}

TEST(CheckStickyTest, OnlyOwnersInStickyDirs) {
  Attr sticky = Dir(01777, 0, 0);
  Attr plain = Dir(0777, 0, 0);
  Attr victim = File(0644, 1000);
  EXPECT_TRUE(CheckSticky(sticky, victim, kOwner).ok());
  EXPECT_EQ(CheckSticky(sticky, victim, kOther).code(), EPERM);
  EXPECT_TRUE(CheckSticky(sticky, victim, kRoot).ok());
  EXPECT_TRUE(CheckSticky(plain, victim, kOther).ok());
  EXPECT_TRUE(CheckSticky(Dir(01777, 3000), victim, kOther).ok());  // the dir's owner
}

TEST(InGroupTest, PrimaryAndSupplementary) {
  EXPECT_TRUE(InGroup(kMember, 200));
  EXPECT_TRUE(InGroup(kMember, 100));
  EXPECT_FALSE(InGroup(kMember, 300));
}

}  // namespace
}  // namespace ovl::nfs
