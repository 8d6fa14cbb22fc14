#include "nfs4/fattr4.h"

#include <gtest/gtest.h>

namespace ovl::nfs4 {
namespace {

using namespace fattr;  // NOLINT: attribute numbers

Bitmap4 Bits(std::initializer_list<uint32_t> bits) {
  Bitmap4 b;
  for (uint32_t bit : bits) b.Set(bit);
  return b;
}

AttrSource Source() {
  AttrSource s;
  s.attr.type = FileType::kReg;
  s.attr.mode = 0100644 & 07777;
  s.attr.nlink = 2;
  s.attr.uid = 1000;
  s.attr.gid = 100;
  s.attr.size = 12345;
  s.attr.used = 16384;
  s.attr.fsid = 0x1122334455667788ull;
  s.attr.fileid = 42;
  s.attr.mtime = {1700000000, 5};
  s.attr.ctime = {1700000001, 7};
  s.fh = "handle-bytes";
  s.mounted_on_fileid = 42;
  s.lease_time_s = 10;
  s.max_io = 1 << 20;
  return s;
}

TEST(Fattr4Test, EncodesRequestedAttributesInOrder) {
  xdr::Encoder out;
  EncodeFattr4(out, Bits({kType, kSize, kFsid, kFileid, kMode, kOwner, kTimeModify}), Source());
  xdr::Decoder in(out.bytes());
  Bitmap4 returned;
  ASSERT_TRUE(DecodeBitmap4(in, &returned));
  EXPECT_EQ(returned, Bits({kType, kSize, kFsid, kFileid, kMode, kOwner, kTimeModify}));
  std::string values;
  ASSERT_TRUE(in.Opaque(&values, 4096));
  EXPECT_EQ(in.remaining(), 0u);
  xdr::Decoder v(values);
  uint32_t type = 0, mode = 0, nsec = 0;
  uint64_t size = 0, major = 0, minor = 1, fileid = 0, sec = 0;
  std::string owner;
  ASSERT_TRUE(v.U32(&type) && v.U64(&size) && v.U64(&major) && v.U64(&minor) && v.U64(&fileid) &&
              v.U32(&mode) && v.String(&owner, 64) && v.U64(&sec) && v.U32(&nsec));
  EXPECT_EQ(v.remaining(), 0u);
  EXPECT_EQ(type, 1u);
  EXPECT_EQ(size, 12345u);
  EXPECT_EQ(major, 0x1122334455667788ull);
  EXPECT_EQ(minor, 0u);
  EXPECT_EQ(fileid, 42u);
  EXPECT_EQ(mode, 0644u);
  EXPECT_EQ(owner, "1000");
  EXPECT_EQ(sec, 1700000000u);
  EXPECT_EQ(nsec, 5u);
}

// Overlay handles survive restarts and eviction (docs/handle-format.md): the server says so with
// fh_expire_type FH4_PERSISTENT (0), which the Linux client takes as "never re-LOOKUP".
TEST(Fattr4Test, HandlesArePersistent) {
  xdr::Encoder out;
  EncodeFattr4(out, Bits({kFhExpireType}), Source());
  xdr::Decoder in(out.bytes());
  Bitmap4 returned;
  ASSERT_TRUE(DecodeBitmap4(in, &returned));
  EXPECT_EQ(returned, Bits({kFhExpireType}));
  std::string values;
  ASSERT_TRUE(in.Opaque(&values, 4096));
  xdr::Decoder v(values);
  uint32_t expire_type = 99;
  ASSERT_TRUE(v.U32(&expire_type));
  EXPECT_EQ(expire_type, 0u);  // FH4_PERSISTENT, RFC 8881 section 4.2.1
  EXPECT_EQ(v.remaining(), 0u);
}

TEST(Fattr4Test, UnsupportedAndWriteOnlyBitsAreLeftOut) {
  xdr::Encoder out;
  // acl (12), time_access_set (write-only), an unknown bit 90, and space_total without
  // statistics.
  EncodeFattr4(out, Bits({kAcl, kTimeAccessSet, 90, kSpaceTotal, kChange}), Source());
  xdr::Decoder in(out.bytes());
  Bitmap4 returned;
  ASSERT_TRUE(DecodeBitmap4(in, &returned));
  EXPECT_EQ(returned, Bits({kChange}));
  std::string values;
  ASSERT_TRUE(in.Opaque(&values, 4096));
  xdr::Decoder v(values);
  uint64_t change = 0;
  ASSERT_TRUE(v.U64(&change));
  EXPECT_EQ(change, ChangeOf(Source().attr));
  EXPECT_EQ(change, 1700000001ull * 1000000000ull + 7);
}

TEST(Fattr4Test, SupportedAttrsListsWhatTheLinuxClientNeeds) {
  const Bitmap4 s = SupportedAttrs();
  for (uint32_t bit : {kSupportedAttrs,
                       kType,
                       kFhExpireType,
                       kChange,
                       kSize,
                       kFsid,
                       kFileid,
                       kMode,
                       kNumLinks,
                       kOwner,
                       kOwnerGroup,
                       kRawDev,
                       kSpaceUsed,
                       kTimeAccess,
                       kTimeMetadata,
                       kTimeModify,
                       kMountedOnFileid,
                       kLeaseTime,
                       kMaxRead,
                       kMaxWrite,
                       kSuppattrExclcreat}) {
    EXPECT_TRUE(s.Has(bit)) << bit;
  }
  EXPECT_FALSE(s.Has(kAcl));
  EXPECT_TRUE(NeedsStatFs(Bits({kSpaceAvail})));
  EXPECT_FALSE(NeedsStatFs(Bits({kSpaceUsed})));
}

// Encodes an fattr4 for SETATTR from `bits` and the already encoded `values`.
std::string SetAttrArg(const Bitmap4& bits, const std::string& values) {
  xdr::Encoder e;
  EncodeBitmap4(e, bits);
  e.Opaque(values);
  return e.Take();
}

TEST(Fattr4Test, DecodesSettableAttributes) {
  xdr::Encoder v;
  v.U64(0);          // size
  v.U32(04755);      // mode
  v.String("1001");  // owner
  v.String("50");    // owner_group
  v.U32(0);          // time_access_set: server time
  v.U32(1);          // time_modify_set: client time
  v.U64(1234);
  v.U32(99);
  std::string arg = SetAttrArg(
      Bits({kSize, kMode, kOwner, kOwnerGroup, kTimeAccessSet, kTimeModifySet}), v.Take());
  xdr::Decoder in(arg);
  SetAttrs out;
  ASSERT_EQ(DecodeFattr4Set(in, &out), Nfsstat4::kOk);
  EXPECT_EQ(out.req.size, 0u);
  EXPECT_EQ(out.req.mode, 04755u);
  EXPECT_EQ(out.req.uid, 1001u);
  EXPECT_EQ(out.req.gid, 50u);
  EXPECT_EQ(out.req.atime_how, SetAttrRequest::Time::kServerNow);
  EXPECT_EQ(out.req.mtime_how, SetAttrRequest::Time::kClient);
  EXPECT_EQ(out.req.mtime.tv_sec, 1234);
  EXPECT_EQ(out.req.mtime.tv_nsec, 99);
}

TEST(Fattr4Test, RejectsWhatCannotBeSet) {
  auto decode = [](const Bitmap4& bits, const std::string& values) {
    std::string arg = SetAttrArg(bits, values);
    xdr::Decoder in(arg);
    SetAttrs out;
    return DecodeFattr4Set(in, &out);
  };
  xdr::Encoder u32;
  u32.U32(1);
  EXPECT_EQ(decode(Bits({kType}), u32.bytes()), Nfsstat4::kInval);  // read-only
  EXPECT_EQ(decode(Bits({kAcl}), u32.bytes()), Nfsstat4::kAttrNotSupp);
  xdr::Encoder name;
  name.String("alice@example.com");
  EXPECT_EQ(decode(Bits({kOwner}), name.bytes()), Nfsstat4::kBadOwner);
  EXPECT_EQ(decode(Bits({kSize}), u32.bytes()), Nfsstat4::kBadXdr);  // short
  xdr::Encoder extra;
  extra.U32(0644);
  extra.U32(0);
  EXPECT_EQ(decode(Bits({kMode}), extra.bytes()), Nfsstat4::kBadXdr);  // trailing bytes
  std::string garbage = "\xff\xff\xff\xff";
  xdr::Decoder in(garbage);
  SetAttrs out;
  EXPECT_EQ(DecodeFattr4Set(in, &out), Nfsstat4::kBadXdr);
}

}  // namespace
}  // namespace ovl::nfs4
