// fattr4 (RFC 8881 section 5): the attributes this server reports, encoded from a union Attr,
// and the settable ones decoded into a SetAttrRequest. Pure: no I/O.
#pragma once

#include <sys/statvfs.h>

#include <cstdint>
#include <optional>
#include <string>

#include "nfs4/nfs4_xdr.h"
#include "union/union_fs.h"

namespace ovl::nfs4 {

// Attribute numbers (RFC 5662) of the attributes this server knows.
namespace fattr {
inline constexpr uint32_t kSupportedAttrs = 0, kType = 1, kFhExpireType = 2, kChange = 3, kSize = 4,
                          kLinkSupport = 5, kSymlinkSupport = 6, kNamedAttr = 7, kFsid = 8,
                          kUniqueHandles = 9, kLeaseTime = 10, kRdattrError = 11, kAcl = 12,
                          kCanSetTime = 15, kCaseInsensitive = 16, kCasePreserving = 17,
                          kChownRestricted = 18, kFilehandle = 19, kFileid = 20, kFilesAvail = 21,
                          kFilesFree = 22, kFilesTotal = 23, kHomogeneous = 26, kMaxFileSize = 27,
                          kMaxLink = 28, kMaxName = 29, kMaxRead = 30, kMaxWrite = 31, kMode = 33,
                          kNoTrunc = 34, kNumLinks = 35, kOwner = 36, kOwnerGroup = 37,
                          kRawDev = 41, kSpaceAvail = 42, kSpaceFree = 43, kSpaceTotal = 44,
                          kSpaceUsed = 45, kTimeAccess = 47, kTimeAccessSet = 48, kTimeDelta = 51,
                          kTimeMetadata = 52, kTimeModify = 53, kTimeModifySet = 54,
                          kMountedOnFileid = 55, kSuppattrExclcreat = 75;
}  // namespace fattr

// Everything an fattr4 of one object is made of.
struct AttrSource {
  Attr attr;
  Handle fh;
  // The fileid of the directory this object is mounted on; the object's own fileid if none.
  uint64_t mounted_on_fileid = 0;
  // Filled by the caller when NeedsStatFs says so; the space_* and files_* attributes are left
  // out of the reply without it.
  std::optional<struct statvfs> vfs;
  uint32_t lease_time_s = 0;
  uint32_t max_io = 0;  // maxread and maxwrite
};

// The attributes GETATTR can return (supported_attrs).
Bitmap4 SupportedAttrs();
// The attributes OPEN EXCLUSIVE4_1 may set (suppattr_exclcreat).
Bitmap4 ExclCreatAttrs();
// True when `requested` asks for an attribute that needs the filesystem's statistics.
bool NeedsStatFs(const Bitmap4& requested);
// The change attribute: the ctime in nanoseconds, which every change of data, metadata or
// (for a directory) entries moves forward.
uint64_t ChangeOf(const Attr& attr);

// Encodes fattr4: the bitmap of the requested attributes this server has, then their values in
// attribute order. Requested bits it does not support are left out of the returned bitmap
// (RFC 8881 section 18.7.3).
void EncodeFattr4(xdr::Encoder& out, const Bitmap4& requested, const AttrSource& src);

// The settable attributes of a SETATTR, CREATE or OPEN fattr4: size, mode, owner, owner_group
// (numeric strings, as Linux sends them with idmapping off), time_access_set and
// time_modify_set. `set` is the bitmap of what the request carries.
struct SetAttrs {
  SetAttrRequest req;
  Bitmap4 set;
};
// kOk, or kBadXdr (malformed), kAttrNotSupp (an attribute this server cannot set), kInval (a
// read-only attribute), kBadOwner (an owner that is not a number).
[[nodiscard]] Nfsstat4 DecodeFattr4Set(xdr::Decoder& in, SetAttrs* out);

}  // namespace ovl::nfs4
