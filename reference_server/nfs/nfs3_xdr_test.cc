#include "nfs/nfs3_xdr.h"

#include <gtest/gtest.h>

namespace ovl::nfs {
namespace {

Attr SampleAttr() {
  Attr a;
  a.type = FileType::kChr;
  a.mode = S_ISUID | 0754;
  a.nlink = 3;
  a.uid = 1000;
  a.gid = 100;
  a.size = 0x100000001;
  a.used = 4096;
  a.rdev_major = 8;
  a.rdev_minor = 1;
  a.fsid = 42;
  a.fileid = 0xabcdef0123;
  a.atime = {1, 2};
  a.mtime = {3, 4};
  a.ctime = {5, 6};
  return a;
}

TEST(Nfs3XdrTest, Fattr3HasTheRfcLayout) {
  xdr::Encoder out;
  EncodeFattr3(out, SampleAttr());
  ASSERT_EQ(out.size(), kFattr3Size);
  xdr::Decoder in(out.bytes());
  uint32_t type, mode, nlink, uid, gid, major, minor;
  uint64_t size, used, fsid, fileid;
  ASSERT_TRUE(in.U32(&type) && in.U32(&mode) && in.U32(&nlink) && in.U32(&uid) && in.U32(&gid));
  ASSERT_TRUE(in.U64(&size) && in.U64(&used) && in.U32(&major) && in.U32(&minor));
  ASSERT_TRUE(in.U64(&fsid) && in.U64(&fileid));
  EXPECT_EQ(type, 4u);  // NF3CHR
  EXPECT_EQ(mode, static_cast<uint32_t>(S_ISUID | 0754));
  EXPECT_EQ(nlink, 3u);
  EXPECT_EQ(uid, 1000u);
  EXPECT_EQ(gid, 100u);
  EXPECT_EQ(size, 0x100000001u);
  EXPECT_EQ(used, 4096u);
  EXPECT_EQ(major, 8u);
  EXPECT_EQ(minor, 1u);
  EXPECT_EQ(fsid, 42u);
  EXPECT_EQ(fileid, 0xabcdef0123u);
  for (uint32_t want = 1; want <= 6; ++want) {
    uint32_t v;
    ASSERT_TRUE(in.U32(&v));
    EXPECT_EQ(v, want);
  }
  EXPECT_TRUE(AtEnd(in));
}

TEST(Nfs3XdrTest, PostOpAttrAndPreOpAttr) {
  xdr::Encoder absent;
  EncodePostOpAttr(absent, std::nullopt);
  EncodePreOpAttr(absent, std::nullopt);
  EXPECT_EQ(absent.bytes(), std::string(8, '\0'));

  xdr::Encoder present;
  EncodePostOpAttr(present, SampleAttr());
  EXPECT_EQ(present.size(), kPostOpAttrSize);

  xdr::Encoder pre;
  EncodePreOpAttr(pre, SampleAttr());
  xdr::Decoder in(pre.bytes());
  bool follows;
  uint64_t size;
  uint32_t t[4];
  ASSERT_TRUE(in.Bool(&follows) && in.U64(&size));
  for (uint32_t& v : t) ASSERT_TRUE(in.U32(&v));
  EXPECT_TRUE(follows);
  EXPECT_EQ(size, 0x100000001u);
  EXPECT_EQ(t[0], 3u);  // mtime
  EXPECT_EQ(t[2], 5u);  // ctime
  EXPECT_TRUE(AtEnd(in));
}

TEST(Nfs3XdrTest, WccDataIsPreThenPost) {
  xdr::Encoder out;
  EncodeWccData(out, std::nullopt, SampleAttr());
  EXPECT_EQ(out.size(), 4 + kPostOpAttrSize);
  xdr::Decoder in(out.bytes());
  bool pre, post;
  ASSERT_TRUE(in.Bool(&pre) && in.Bool(&post));
  EXPECT_FALSE(pre);
  EXPECT_TRUE(post);
}

TEST(Nfs3XdrTest, HandlesUpTo64BytesDecode) {
  xdr::Encoder out;
  EncodeFh3(out, std::string(64, 'h'));
  xdr::Decoder in(out.bytes());
  Handle h;
  EXPECT_TRUE(DecodeFh3(in, &h));
  EXPECT_EQ(h, std::string(64, 'h'));

  xdr::Encoder long_fh;
  EncodeFh3(long_fh, std::string(65, 'h'));
  xdr::Decoder bad(long_fh.bytes());
  EXPECT_FALSE(DecodeFh3(bad, &h));

  xdr::Encoder empty;
  EncodeFh3(empty, "");
  xdr::Decoder zero(empty.bytes());
  EXPECT_TRUE(DecodeFh3(zero, &h));  // undecodable is the union's call (BADHANDLE)
  EXPECT_TRUE(h.empty());
}

TEST(Nfs3XdrTest, PostOpFh3) {
  xdr::Encoder out;
  EncodePostOpFh3(out, Handle("abc"));
  EncodePostOpFh3(out, std::nullopt);
  EXPECT_EQ(out.bytes(), std::string("\0\0\0\1\0\0\0\3abc\0\0\0\0\0", 16));
}

TEST(Nfs3XdrTest, DirOpArgs3) {
  xdr::Encoder out;
  EncodeFh3(out, "dir");
  out.String("name");
  xdr::Decoder in(out.bytes());
  DirOpArgs3 args;
  ASSERT_TRUE(DecodeDirOpArgs3(in, &args));
  EXPECT_EQ(args.dir, "dir");
  EXPECT_EQ(args.name, "name");
  EXPECT_TRUE(AtEnd(in));
}

TEST(Nfs3XdrTest, Sattr3AllSet) {
  xdr::Encoder out;
  out.Bool(true);
  out.U32(S_IFREG | 04755);
  out.Bool(true);
  out.U32(7);
  out.Bool(true);
  out.U32(8);
  out.Bool(true);
  out.U64(1234);
  out.U32(2);  // SET_TO_CLIENT_TIME
  out.U32(100);
  out.U32(200);
  out.U32(1);  // SET_TO_SERVER_TIME
  xdr::Decoder in(out.bytes());
  SetAttrRequest req;
  ASSERT_TRUE(DecodeSattr3(in, &req));
  EXPECT_TRUE(AtEnd(in));
  EXPECT_EQ(req.mode, 04755u);  // type bits dropped
  EXPECT_EQ(req.uid, 7u);
  EXPECT_EQ(req.gid, 8u);
  EXPECT_EQ(req.size, 1234u);
  EXPECT_EQ(req.atime_how, SetAttrRequest::Time::kClient);
  EXPECT_EQ(req.atime.tv_sec, 100);
  EXPECT_EQ(req.atime.tv_nsec, 200);
  EXPECT_EQ(req.mtime_how, SetAttrRequest::Time::kServerNow);
}

TEST(Nfs3XdrTest, Sattr3NoneSet) {
  xdr::Encoder out;
  for (int i = 0; i < 6; ++i) out.U32(0);
  xdr::Decoder in(out.bytes());
  SetAttrRequest req;
  ASSERT_TRUE(DecodeSattr3(in, &req));
  EXPECT_FALSE(req.mode || req.uid || req.gid || req.size);
  EXPECT_EQ(req.atime_how, SetAttrRequest::Time::kDontChange);
  EXPECT_EQ(req.mtime_how, SetAttrRequest::Time::kDontChange);
}

TEST(Nfs3XdrTest, Sattr3RejectsBadTimeHowAndTruncation) {
  xdr::Encoder bad_how;
  for (int i = 0; i < 4; ++i) bad_how.U32(0);
  bad_how.U32(3);
  bad_how.U32(0);
  xdr::Decoder in(bad_how.bytes());
  SetAttrRequest req;
  EXPECT_FALSE(DecodeSattr3(in, &req));

  xdr::Encoder truncated;
  truncated.Bool(true);  // mode follows, but nothing else
  xdr::Decoder short_in(truncated.bytes());
  EXPECT_FALSE(DecodeSattr3(short_in, &req));
}

TEST(Nfs3XdrTest, AtEndRejectsTrailingBytes) {
  xdr::Encoder out;
  out.U32(1);
  out.U32(2);
  xdr::Decoder in(out.bytes());
  uint32_t v;
  ASSERT_TRUE(in.U32(&v));
  EXPECT_FALSE(AtEnd(in));
  ASSERT_TRUE(in.U32(&v));
  EXPECT_TRUE(AtEnd(in));
}

TEST(Nfs3XdrTest, NamesAndVerifiers) {
  xdr::Encoder out;
  out.String(std::string(300, 'n'));
  const std::array<uint8_t, 8> verf = {1, 2, 3, 4, 5, 6, 7, 8};
  out.FixedOpaque(verf.data(), verf.size());
  xdr::Decoder in(out.bytes());
  std::string name;
  std::array<uint8_t, 8> got{};
  ASSERT_TRUE(DecodeName(in, &name));  // length limits are the procedure's business
  EXPECT_EQ(name.size(), 300u);
  ASSERT_TRUE(DecodeVerf(in, &got));
  EXPECT_EQ(got, verf);
  EXPECT_EQ(XdrOpaqueSize(0), 4u);
  EXPECT_EQ(XdrOpaqueSize(1), 8u);
  EXPECT_EQ(XdrOpaqueSize(4), 8u);
  EXPECT_EQ(XdrOpaqueSize(5), 12u);
}

}  // namespace
}  // namespace ovl::nfs
