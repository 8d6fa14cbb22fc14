#include "nfs/nfs3_status.h"

#include <gtest/gtest.h>

namespace ovl::nfs {
namespace {

Nfsstat3 Map(int code) {
  return ToNfsstat3(Status::Error(code, "test"));
}

TEST(Nfs3StatusTest, OkIsOk) {
  EXPECT_EQ(ToNfsstat3(Status::Ok()), Nfsstat3::kOk);
}

TEST(Nfs3StatusTest, ErrnoValues) {
  EXPECT_EQ(Map(EPERM), Nfsstat3::kPerm);
  EXPECT_EQ(Map(ENOENT), Nfsstat3::kNoEnt);
  EXPECT_EQ(Map(EIO), Nfsstat3::kIo);
  EXPECT_EQ(Map(ENXIO), Nfsstat3::kNxio);
  EXPECT_EQ(Map(EACCES), Nfsstat3::kAcces);
  EXPECT_EQ(Map(EEXIST), Nfsstat3::kExist);
  EXPECT_EQ(Map(EXDEV), Nfsstat3::kXdev);
  EXPECT_EQ(Map(ENODEV), Nfsstat3::kNoDev);
  EXPECT_EQ(Map(ENOTDIR), Nfsstat3::kNotDir);
  EXPECT_EQ(Map(EISDIR), Nfsstat3::kIsDir);
  EXPECT_EQ(Map(EINVAL), Nfsstat3::kInval);
  EXPECT_EQ(Map(EFBIG), Nfsstat3::kFbig);
  EXPECT_EQ(Map(ENOSPC), Nfsstat3::kNoSpc);
  EXPECT_EQ(Map(EROFS), Nfsstat3::kRofs);
  EXPECT_EQ(Map(EMLINK), Nfsstat3::kMlink);
  EXPECT_EQ(Map(ENAMETOOLONG), Nfsstat3::kNameTooLong);
  EXPECT_EQ(Map(ENOTEMPTY), Nfsstat3::kNotEmpty);
  EXPECT_EQ(Map(EDQUOT), Nfsstat3::kDquot);
  EXPECT_EQ(Map(ESTALE), Nfsstat3::kStale);
  EXPECT_EQ(Map(EOPNOTSUPP), Nfsstat3::kNotSupp);
  EXPECT_EQ(Map(ENOTSUP), Nfsstat3::kNotSupp);
}

TEST(Nfs3StatusTest, ProtocolCodesKeepTheirNumbers) {
  EXPECT_EQ(Map(kErrBadHandle), Nfsstat3::kBadHandle);
  EXPECT_EQ(Map(kErrNotSync), Nfsstat3::kNotSync);
  EXPECT_EQ(Map(kErrBadCookie), Nfsstat3::kBadCookie);
  EXPECT_EQ(Map(kErrNotSupp), Nfsstat3::kNotSupp);
  EXPECT_EQ(Map(kErrTooSmall), Nfsstat3::kTooSmall);
  EXPECT_EQ(Map(kErrServerFault), Nfsstat3::kServerFault);
  EXPECT_EQ(Map(kErrBadType), Nfsstat3::kBadType);
  EXPECT_EQ(Map(kErrJukebox), Nfsstat3::kJukebox);
}

TEST(Nfs3StatusTest, EverythingElseIsIo) {
  EXPECT_EQ(Map(ENOMEM), Nfsstat3::kIo);
  EXPECT_EQ(Map(EBADF), Nfsstat3::kIo);
  EXPECT_EQ(Map(ELOOP), Nfsstat3::kIo);
  EXPECT_EQ(Map(10009), Nfsstat3::kIo);
  EXPECT_EQ(Map(-1), Nfsstat3::kIo);
}

}  // namespace
}  // namespace ovl::nfs
