#include "nfs/nfs3_program.h"

#include <gtest/gtest.h>

#include <set>

#include "nfs/nfs_test_util.h"

namespace ovl::nfs {
namespace {

constexpr std::array<uint8_t, 8> kVerf = {1, 2, 3, 4, 5, 6, 7, 8};
constexpr rpc::AcceptStat kSuccess = rpc::AcceptStat::kSuccess;
constexpr rpc::AcceptStat kGarbage = rpc::AcceptStat::kGarbageArgs;

// Argument builders.
std::string Fh(const Handle& h) {
  xdr::Encoder e;
  EncodeFh3(e, h);
  return e.Take();
}

std::string DirOp(const Handle& dir, const std::string& name) {
  xdr::Encoder e;
  EncodeFh3(e, dir);
  e.String(name);
  return e.Take();
}

// sattr3 setting only the mode, or nothing.
std::string Sattr(std::optional<uint32_t> mode = std::nullopt) {
  xdr::Encoder e;
  e.Bool(mode.has_value());
  if (mode) e.U32(*mode);
  for (int i = 0; i < 5; ++i) e.U32(0);
  return e.Take();
}

std::string U32(uint32_t v) {
  xdr::Encoder e;
  e.U32(v);
  return e.Take();
}

std::string U64(uint64_t v) {
  xdr::Encoder e;
  e.U64(v);
  return e.Take();
}

std::string Str(const std::string& s) {
  xdr::Encoder e;
  e.String(s);
  return e.Take();
}

struct Made {
  uint32_t status = 0;
  Handle fh;
};

class Nfs3ProgramTest : public UnionFixture {
 protected:
  void SetUp() override {
    UnionFixture::SetUp();
    options_.squash = Squash::kNone;
    Rebuild();
    root_ = fs_->Root()->handle;
  }

  void Rebuild() {
    policy_ = std::make_unique<ExportPolicy>(options_);
    nfs_ = std::make_unique<Nfs3Program>(fs_.get(), policy_.get(), kVerf);
  }

  TestReply Call(Nfs3Proc proc, const std::string& args, rpc::CallContext ctx = SysCtx()) {
    return CallProgram(*nfs_, static_cast<uint32_t>(proc), args, ctx);
  }

  // The status word of a successful RPC.
  uint32_t StatusOf(Nfs3Proc proc, const std::string& args, rpc::CallContext ctx = SysCtx()) {
    TestReply r = Call(proc, args, ctx);
    EXPECT_EQ(r.stat, kSuccess);
    xdr::Decoder in(r.body);
    return ReadStatus(in);
  }

  Made Lookup(const Handle& dir, const std::string& name, rpc::CallContext ctx = SysCtx()) {
    TestReply r = Call(Nfs3Proc::kLookup, DirOp(dir, name), ctx);
    EXPECT_EQ(r.stat, kSuccess);
    xdr::Decoder in(r.body);
    Made m{ReadStatus(in), {}};
    if (m.status == 0) {
      EXPECT_TRUE(DecodeFh3(in, &m.fh));
      EXPECT_TRUE(ReadPostOpAttr(in).has_value());
    }
    EXPECT_TRUE(ReadPostOpAttr(in).has_value());  // dir attributes, in both arms
    EXPECT_TRUE(AtEnd(in));
    return m;
  }

  // Parses a diropres3 (CREATE, MKDIR, SYMLINK, MKNOD).
  static Made ParseDirOpRes(const TestReply& r) {
    EXPECT_EQ(r.stat, kSuccess);
    xdr::Decoder in(r.body);
    Made m{ReadStatus(in), {}};
    if (m.status == 0) {
      bool follows = false;
      EXPECT_TRUE(in.Bool(&follows) && follows && DecodeFh3(in, &m.fh));
      EXPECT_TRUE(ReadPostOpAttr(in).has_value());
    }
    ReadPreOpSize(in);
    ReadPostOpAttr(in);
    EXPECT_TRUE(AtEnd(in));
    return m;
  }

  Made Create(const Handle& dir, const std::string& name, CreateHow3 how = CreateHow3::kUnchecked,
              rpc::CallContext ctx = SysCtx(), uint32_t mode = 0644) {
    std::string args = DirOp(dir, name) + U32(static_cast<uint32_t>(how));
    if (how == CreateHow3::kExclusive) {
      args += std::string("verifier", 8);
    } else {
      args += Sattr(mode);
    }
    return ParseDirOpRes(Call(Nfs3Proc::kCreate, args, ctx));
  }

  Made MkDir(const Handle& dir, const std::string& name, uint32_t mode = 0755,
             rpc::CallContext ctx = SysCtx()) {
    return ParseDirOpRes(Call(Nfs3Proc::kMkDir, DirOp(dir, name) + Sattr(mode), ctx));
  }

  uint32_t Write(const Handle& fh, uint64_t offset, const std::string& data,
                 rpc::CallContext ctx = SysCtx()) {
    TestReply r = Call(Nfs3Proc::kWrite,
                       Fh(fh) + U64(offset) + U32(data.size()) +
                           U32(static_cast<uint32_t>(StableHow::kFileSync)) + Str(data),
                       ctx);
    EXPECT_EQ(r.stat, kSuccess);
    xdr::Decoder in(r.body);
    uint32_t status = ReadStatus(in);
    ReadPreOpSize(in);
    ReadPostOpAttr(in);
    if (status == 0) {
      uint32_t count, committed;
      std::array<uint8_t, 8> verf{};
      EXPECT_TRUE(in.U32(&count) && in.U32(&committed) && DecodeVerf(in, &verf));
      EXPECT_EQ(count, data.size());
      EXPECT_EQ(verf, kVerf);
    }
    EXPECT_TRUE(AtEnd(in));
    return status;
  }

  // READ of the whole range; the data, or the error status as text.
  std::string Read(const Handle& fh, uint64_t offset, uint32_t count,
                   rpc::CallContext ctx = SysCtx()) {
    TestReply r = Call(Nfs3Proc::kRead, Fh(fh) + U64(offset) + U32(count), ctx);
    EXPECT_EQ(r.stat, kSuccess);
    xdr::Decoder in(r.body);
    uint32_t status = ReadStatus(in);
    ReadPostOpAttr(in);
    if (status != 0) return "error " + std::to_string(status);
    uint32_t n;
    bool eof;
    std::string data;
    EXPECT_TRUE(in.U32(&n) && in.Bool(&eof) && in.Opaque(&data, kMaxIoSize));
    EXPECT_EQ(n, data.size());
    EXPECT_TRUE(AtEnd(in));
    return data;
  }

  Fattr GetAttr(const Handle& fh) {
    TestReply r = Call(Nfs3Proc::kGetAttr, Fh(fh));
    xdr::Decoder in(r.body);
    EXPECT_EQ(ReadStatus(in), 0u);
    Fattr f = ReadFattr(in);
    EXPECT_TRUE(AtEnd(in));
    return f;
  }

  ExportOptions options_;
  std::unique_ptr<ExportPolicy> policy_;
  std::unique_ptr<Nfs3Program> nfs_;
  Handle root_;
};

TEST_F(Nfs3ProgramTest, NullAndUnknownProcedure) {
  EXPECT_EQ(Call(Nfs3Proc::kNull, "").stat, kSuccess);
  EXPECT_EQ(Call(Nfs3Proc::kNull, U32(0)).stat, kGarbage);
  EXPECT_EQ(Call(static_cast<Nfs3Proc>(22), "").stat, rpc::AcceptStat::kProcUnavail);
}

TEST_F(Nfs3ProgramTest, GetAttrOfTheRoot) {
  Fattr f = GetAttr(root_);
  EXPECT_EQ(f.type, 2u);  // NF3DIR
}

TEST_F(Nfs3ProgramTest, BadHandles) {
  EXPECT_EQ(StatusOf(Nfs3Proc::kGetAttr, Fh("abc")), Stat(Nfsstat3::kBadHandle));
  EXPECT_EQ(StatusOf(Nfs3Proc::kGetAttr, Fh("")), Stat(Nfsstat3::kBadHandle));
  // Longer than NFS3_FHSIZE cannot be an nfs_fh3 at all.
  EXPECT_EQ(Call(Nfs3Proc::kGetAttr, Fh(std::string(65, 'x'))).stat, kGarbage);
}

TEST_F(Nfs3ProgramTest, GarbageArguments) {
  std::string lookup = DirOp(root_, "hello");
  EXPECT_EQ(Call(Nfs3Proc::kLookup, lookup.substr(0, lookup.size() - 4)).stat, kGarbage);
  EXPECT_EQ(Call(Nfs3Proc::kLookup, lookup + U32(0)).stat, kGarbage);
  EXPECT_EQ(Call(Nfs3Proc::kGetAttr, "").stat, kGarbage);
  // WRITE whose count disagrees with its data, and an unknown stable_how.
  EXPECT_EQ(Call(Nfs3Proc::kWrite, Fh(root_) + U64(0) + U32(5) + U32(2) + Str("abc")).stat,
            kGarbage);
  EXPECT_EQ(Call(Nfs3Proc::kWrite, Fh(root_) + U64(0) + U32(3) + U32(3) + Str("abc")).stat,
            kGarbage);
  // CREATE with an unknown createmode3.
  EXPECT_EQ(Call(Nfs3Proc::kCreate, DirOp(root_, "x") + U32(3) + Sattr()).stat, kGarbage);
}

TEST_F(Nfs3ProgramTest, LookupAndReadALowerFile) {
  Made hello = Lookup(root_, "hello");
  ASSERT_EQ(hello.status, 0u);
  EXPECT_EQ(GetAttr(hello.fh).size, 11u);
  EXPECT_EQ(Read(hello.fh, 0, 100), "hello world");
  EXPECT_EQ(Read(hello.fh, 6, 3), "wor");
  EXPECT_EQ(Lookup(root_, "missing").status, Stat(Nfsstat3::kNoEnt));
  EXPECT_EQ(Lookup(root_, "").status, Stat(Nfsstat3::kNoEnt));
  EXPECT_EQ(Lookup(hello.fh, "x").status, Stat(Nfsstat3::kNotDir));
  EXPECT_EQ(Read(root_, 0, 10), "error " + std::to_string(Stat(Nfsstat3::kIsDir)));
}

TEST_F(Nfs3ProgramTest, CreateWriteRead) {
  Made f = Create(root_, "new");
  ASSERT_EQ(f.status, 0u);
  EXPECT_EQ(Write(f.fh, 0, "abc"), 0u);
  EXPECT_EQ(Write(f.fh, 3, "def"), 0u);
  EXPECT_EQ(Read(f.fh, 0, 100), "abcdef");
  Fattr attr = GetAttr(f.fh);
  EXPECT_EQ(attr.size, 6u);
  EXPECT_EQ(attr.mode, 0644u);
  EXPECT_EQ(Lookup(root_, "new").fh, f.fh);
}

TEST_F(Nfs3ProgramTest, WriteReturnsWccData) {
  Made f = Create(root_, "wcc");
  ASSERT_EQ(f.status, 0u);
  ASSERT_EQ(Write(f.fh, 0, "12345"), 0u);
  TestReply r = Call(Nfs3Proc::kWrite, Fh(f.fh) + U64(5) + U32(2) + U32(0) + Str("67"));
  xdr::Decoder in(r.body);
  EXPECT_EQ(ReadStatus(in), 0u);
  EXPECT_EQ(ReadPreOpSize(in), 5u);
  std::optional<Fattr> post = ReadPostOpAttr(in);
  ASSERT_TRUE(post.has_value());
  EXPECT_EQ(post->size, 7u);
}

TEST_F(Nfs3ProgramTest, WriteToALowerFileCopiesUp) {
  Made hello = Lookup(root_, "hello");
  ASSERT_EQ(Write(hello.fh, 0, "HELLO"), 0u);
  EXPECT_EQ(Read(hello.fh, 0, 100), "HELLO world");
  EXPECT_EQ(Lookup(root_, "hello").fh, hello.fh);
  EXPECT_EQ(LowerContents("hello"), "hello world");
}

TEST_F(Nfs3ProgramTest, CreateModes) {
  ASSERT_EQ(Create(root_, "g", CreateHow3::kGuarded).status, 0u);
  EXPECT_EQ(Create(root_, "g", CreateHow3::kGuarded).status, Stat(Nfsstat3::kExist));
  EXPECT_EQ(Create(root_, "g", CreateHow3::kUnchecked).status, 0u);
  Made first = Create(root_, "x", CreateHow3::kExclusive);
  ASSERT_EQ(first.status, 0u);
  Made replay = Create(root_, "x", CreateHow3::kExclusive);
  ASSERT_EQ(replay.status, 0u);
  EXPECT_EQ(replay.fh, first.fh);
}

TEST_F(Nfs3ProgramTest, NameRules) {
  EXPECT_EQ(Create(root_, "a/b").status, Stat(Nfsstat3::kAcces));
  EXPECT_EQ(Create(root_, std::string("a\0b", 3)).status, Stat(Nfsstat3::kAcces));
  EXPECT_EQ(Create(root_, "").status, Stat(Nfsstat3::kInval));
  EXPECT_EQ(Create(root_, ".").status, Stat(Nfsstat3::kInval));
  EXPECT_EQ(MkDir(root_, "..").status, Stat(Nfsstat3::kInval));
  EXPECT_EQ(Create(root_, std::string(256, 'n')).status, Stat(Nfsstat3::kNameTooLong));
  EXPECT_EQ(Create(root_, std::string(255, 'n')).status, 0u);
  EXPECT_EQ(StatusOf(Nfs3Proc::kRemove, DirOp(root_, "..")), Stat(Nfsstat3::kInval));
}

TEST_F(Nfs3ProgramTest, DirectoryOperations) {
  Made d = MkDir(root_, "d");
  ASSERT_EQ(d.status, 0u);
  ASSERT_EQ(Create(d.fh, "f").status, 0u);
  EXPECT_EQ(StatusOf(Nfs3Proc::kRmDir, DirOp(root_, "d")), Stat(Nfsstat3::kNotEmpty));
  EXPECT_EQ(StatusOf(Nfs3Proc::kRename, DirOp(d.fh, "f") + DirOp(root_, "moved")), 0u);
  EXPECT_EQ(Lookup(d.fh, "f").status, Stat(Nfsstat3::kNoEnt));
  Made moved = Lookup(root_, "moved");
  ASSERT_EQ(moved.status, 0u);
  EXPECT_EQ(StatusOf(Nfs3Proc::kLink, Fh(moved.fh) + DirOp(d.fh, "again")), 0u);
  EXPECT_EQ(GetAttr(moved.fh).nlink, 2u);
  EXPECT_EQ(StatusOf(Nfs3Proc::kRemove, DirOp(root_, "moved")), 0u);
  EXPECT_EQ(StatusOf(Nfs3Proc::kRemove, DirOp(d.fh, "again")), 0u);
  EXPECT_EQ(StatusOf(Nfs3Proc::kGetAttr, Fh(moved.fh)), Stat(Nfsstat3::kStale));
  EXPECT_EQ(StatusOf(Nfs3Proc::kRemove, DirOp(root_, "d")), Stat(Nfsstat3::kIsDir));
  EXPECT_EQ(StatusOf(Nfs3Proc::kRmDir, DirOp(root_, "d")), 0u);
  EXPECT_EQ(StatusOf(Nfs3Proc::kRmDir, DirOp(root_, "d")), Stat(Nfsstat3::kNoEnt));
}

TEST_F(Nfs3ProgramTest, SymlinkAndReadLink) {
  Made l =
      ParseDirOpRes(Call(Nfs3Proc::kSymlink, DirOp(root_, "link") + Sattr() + Str("target/path")));
  ASSERT_EQ(l.status, 0u);
  TestReply r = Call(Nfs3Proc::kReadLink, Fh(l.fh));
  xdr::Decoder in(r.body);
  EXPECT_EQ(ReadStatus(in), 0u);
  ReadPostOpAttr(in);
  std::string target;
  ASSERT_TRUE(in.String(&target, 4096));
  EXPECT_EQ(target, "target/path");
  EXPECT_EQ(ParseDirOpRes(Call(Nfs3Proc::kSymlink, DirOp(root_, "e") + Sattr() + Str(""))).status,
            Stat(Nfsstat3::kInval));
  Made hello = Lookup(root_, "hello");
  EXPECT_EQ(StatusOf(Nfs3Proc::kReadLink, Fh(hello.fh)), Stat(Nfsstat3::kInval));
}

TEST_F(Nfs3ProgramTest, MkNod) {
  Made fifo = ParseDirOpRes(Call(Nfs3Proc::kMkNod, DirOp(root_, "p") + U32(7) + Sattr(0600)));
  ASSERT_EQ(fifo.status, 0u);
  EXPECT_EQ(GetAttr(fifo.fh).type, 7u);
  EXPECT_EQ(ParseDirOpRes(Call(Nfs3Proc::kMkNod, DirOp(root_, "r") + U32(1))).status,
            Stat(Nfsstat3::kBadType));
  EXPECT_EQ(Call(Nfs3Proc::kMkNod, DirOp(root_, "r") + U32(9)).stat, kGarbage);
  EXPECT_EQ(ParseDirOpRes(Call(Nfs3Proc::kMkNod,
                               DirOp(root_, "c") + U32(4) + Sattr(0600) + U32(1) + U32(3),
                               SysCtx(1000, 1000)))
                .status,
            Stat(Nfsstat3::kAcces));  // no write permission on the root for uid 1000
}

TEST_F(Nfs3ProgramTest, SetAttrGuardAndTruncate) {
  Made f = Create(root_, "s");
  ASSERT_EQ(Write(f.fh, 0, "0123456789"), 0u);
  Fattr attr = GetAttr(f.fh);
  std::string size_to_4 = Fh(f.fh);
  {
    xdr::Encoder e;
    for (int i = 0; i < 3; ++i) e.Bool(false);
    e.Bool(true);
    e.U64(4);
    e.U32(0);
    e.U32(0);
    size_to_4 += e.Take();
  }
  EXPECT_EQ(StatusOf(Nfs3Proc::kSetAttr, size_to_4 + U32(1) + U32(1) + U32(1)),
            Stat(Nfsstat3::kNotSync));
  EXPECT_EQ(GetAttr(f.fh).size, 10u);
  EXPECT_EQ(
      StatusOf(Nfs3Proc::kSetAttr, size_to_4 + U32(1) + U32(attr.ctime_sec) + U32(attr.ctime_nsec)),
      0u);
  EXPECT_EQ(GetAttr(f.fh).size, 4u);
  EXPECT_EQ(StatusOf(Nfs3Proc::kSetAttr, Fh(f.fh) + Sattr(0600) + U32(0)), 0u);
  EXPECT_EQ(GetAttr(f.fh).mode, 0600u);
}

TEST_F(Nfs3ProgramTest, PermissionsAreChecked) {
  // Only root can write the root directory (0755, owned by root).
  EXPECT_EQ(Create(root_, "u", CreateHow3::kUnchecked, SysCtx(1000, 1000)).status,
            Stat(Nfsstat3::kAcces));
  Made shared = MkDir(root_, "shared", 01777);
  ASSERT_EQ(shared.status, 0u);
  Made mine = Create(shared.fh, "mine", CreateHow3::kUnchecked, SysCtx(1000, 1000), 0600);
  ASSERT_EQ(mine.status, 0u);
  EXPECT_EQ(GetAttr(mine.fh).uid, 1000u);
  EXPECT_EQ(Write(mine.fh, 0, "secret", SysCtx(1000, 1000)), 0u);
  EXPECT_EQ(Read(mine.fh, 0, 10, SysCtx(2000, 2000)),
            "error " + std::to_string(Stat(Nfsstat3::kAcces)));
  EXPECT_EQ(Write(mine.fh, 0, "x", SysCtx(2000, 2000)), Stat(Nfsstat3::kAcces));
  // Sticky directory: another user may not remove or rename it.
  EXPECT_EQ(StatusOf(Nfs3Proc::kRemove, DirOp(shared.fh, "mine"), SysCtx(2000, 2000)),
            Stat(Nfsstat3::kPerm));
  EXPECT_EQ(StatusOf(Nfs3Proc::kRename, DirOp(shared.fh, "mine") + DirOp(shared.fh, "theirs"),
                     SysCtx(2000, 2000)),
            Stat(Nfsstat3::kPerm));
  // chmod by a non-owner.
  EXPECT_EQ(StatusOf(Nfs3Proc::kSetAttr, Fh(mine.fh) + Sattr(0666) + U32(0), SysCtx(2000, 2000)),
            Stat(Nfsstat3::kPerm));
  EXPECT_EQ(StatusOf(Nfs3Proc::kRemove, DirOp(shared.fh, "mine"), SysCtx(1000, 1000)), 0u);
}

TEST_F(Nfs3ProgramTest, RootSquash) {
  options_.squash = Squash::kRoot;
  Rebuild();
  EXPECT_EQ(Create(root_, "r").status, Stat(Nfsstat3::kAcces));
}

TEST_F(Nfs3ProgramTest, AccessMask) {
  Made hello = Lookup(root_, "hello");
  TestReply r = Call(Nfs3Proc::kAccess, Fh(hello.fh) + U32(0x3f), SysCtx(1000, 1000));
  xdr::Decoder in(r.body);
  EXPECT_EQ(ReadStatus(in), 0u);
  ASSERT_TRUE(ReadPostOpAttr(in).has_value());
  uint32_t mask = 0;
  ASSERT_TRUE(in.U32(&mask));
  EXPECT_EQ(mask, kAccess3Read);  // 0644 root-owned file
  EXPECT_TRUE(AtEnd(in));
}

TEST_F(Nfs3ProgramTest, PeersOutsideTheAllowListAreRefused) {
  rpc::CallContext outside = SysCtx();
  outside.peer_ipv4 = 0x0a000001;
  EXPECT_EQ(Call(Nfs3Proc::kNull, "", outside).stat, kSuccess);
  TestReply r = Call(Nfs3Proc::kGetAttr, Fh(root_), outside);
  EXPECT_EQ(r.body, U32(Stat(Nfsstat3::kAcces)));
  TestReply rename = Call(Nfs3Proc::kRename, "", outside);
  EXPECT_EQ(rename.stat, kSuccess);
  EXPECT_EQ(rename.body.size(), 4u + 16u);  // status + two empty wcc_data
}

TEST_F(Nfs3ProgramTest, ReadOnlyExport) {
  options_.read_only = true;
  Rebuild();
  Made hello = Lookup(root_, "hello");
  EXPECT_EQ(Write(hello.fh, 0, "x"), Stat(Nfsstat3::kRofs));
  EXPECT_EQ(Create(root_, "n").status, Stat(Nfsstat3::kRofs));
  EXPECT_EQ(Read(hello.fh, 0, 5), "hello");
}

TEST_F(Nfs3ProgramTest, FsInfoPathConfFsStatCommit) {
  TestReply info = Call(Nfs3Proc::kFsInfo, Fh(root_));
  xdr::Decoder in(info.body);
  EXPECT_EQ(ReadStatus(in), 0u);
  ReadPostOpAttr(in);
  uint32_t v[7];
  for (uint32_t& x : v) ASSERT_TRUE(in.U32(&x));
  EXPECT_EQ(v[0], kMaxIoSize);
  EXPECT_EQ(v[2], kIoMultiple);
  EXPECT_EQ(v[6], kDirPref);
  uint64_t maxfilesize;
  uint32_t sec, nsec, props;
  ASSERT_TRUE(in.U64(&maxfilesize) && in.U32(&sec) && in.U32(&nsec) && in.U32(&props));
  EXPECT_EQ(maxfilesize, 0x7fffffffffffffffu);
  EXPECT_EQ(nsec, 1u);
  EXPECT_EQ(props, 0x1bu);
  EXPECT_TRUE(AtEnd(in));

  TestReply pc = Call(Nfs3Proc::kPathConf, Fh(root_));
  xdr::Decoder pin(pc.body);
  EXPECT_EQ(ReadStatus(pin), 0u);
  ReadPostOpAttr(pin);
  uint32_t linkmax, name_max;
  ASSERT_TRUE(pin.U32(&linkmax) && pin.U32(&name_max));
  EXPECT_EQ(name_max, 255u);

  TestReply st = Call(Nfs3Proc::kFsStat, Fh(root_));
  xdr::Decoder sin(st.body);
  EXPECT_EQ(ReadStatus(sin), 0u);
  ReadPostOpAttr(sin);
  uint64_t tbytes;
  ASSERT_TRUE(sin.U64(&tbytes));
  EXPECT_GT(tbytes, 0u);

  Made f = Create(root_, "c");
  TestReply c = Call(Nfs3Proc::kCommit, Fh(f.fh) + U64(0) + U32(0));
  xdr::Decoder cin(c.body);
  EXPECT_EQ(ReadStatus(cin), 0u);
  ReadPreOpSize(cin);
  ReadPostOpAttr(cin);
  std::array<uint8_t, 8> verf{};
  ASSERT_TRUE(DecodeVerf(cin, &verf));
  EXPECT_EQ(verf, kVerf);
}

// READDIRPLUS of the root in pages of `maxcount` bytes; the names, or nothing on an error.
struct DirListing {
  uint32_t status = 0;
  std::vector<std::string> names;
  std::vector<uint64_t> cookies;
  bool eof = false;
};

DirListing ParseReadDir(const TestReply& r, bool plus) {
  EXPECT_EQ(r.stat, kSuccess);
  xdr::Decoder in(r.body);
  DirListing l;
  l.status = ReadStatus(in);
  ReadPostOpAttr(in);
  if (l.status != 0) return l;
  std::array<uint8_t, 8> verf{};
  EXPECT_TRUE(DecodeVerf(in, &verf));
  bool more = false;
  while (in.Bool(&more) && more) {
    uint64_t fileid, cookie;
    std::string name;
    EXPECT_TRUE(in.U64(&fileid) && in.String(&name, 255) && in.U64(&cookie));
    if (plus) {
      EXPECT_TRUE(ReadPostOpAttr(in).has_value());
      bool has_fh = false;
      Handle fh;
      EXPECT_TRUE(in.Bool(&has_fh) && has_fh && DecodeFh3(in, &fh));
    }
    l.names.push_back(name);
    l.cookies.push_back(cookie);
  }
  EXPECT_TRUE(in.Bool(&l.eof));
  EXPECT_TRUE(AtEnd(in));
  return l;
}

TEST_F(Nfs3ProgramTest, ReadDirPlusRespectsItsBudget) {
  for (int i = 0; i < 40; ++i) ASSERT_EQ(Create(root_, "file" + std::to_string(i)).status, 0u);
  auto readdirplus = [&](uint64_t cookie, uint32_t dircount, uint32_t maxcount) {
    TestReply r = Call(Nfs3Proc::kReadDirPlus, Fh(root_) + U64(cookie) + std::string(8, '\0') +
                                                   U32(dircount) + U32(maxcount));
    EXPECT_LE(r.body.size(), 4 + maxcount);
    return ParseReadDir(r, true);
  };
  DirListing all = readdirplus(0, 65536, 1 << 20);
  ASSERT_EQ(all.status, 0u);
  EXPECT_TRUE(all.eof);
  ASSERT_GE(all.names.size(), 2u);
  EXPECT_EQ(all.names[0], ".");
  EXPECT_EQ(all.cookies[0], 1u);
  EXPECT_EQ(all.names[1], "..");
  EXPECT_EQ(all.cookies[1], 2u);
  std::set<std::string> want(all.names.begin(), all.names.end());
  EXPECT_EQ(want.size(), all.names.size());
  EXPECT_EQ(want.size(), 40u + 4);  // the files, hello, sub, "." and ".."
  EXPECT_TRUE(want.count("hello") && want.count("sub") && want.count("file39"));

  // Small pages: every name exactly once, eof only on the last page.
  std::multiset<std::string> seen;
  uint64_t cookie = 0;
  int pages = 0;
  for (bool eof = false; !eof; ++pages) {
    DirListing page = readdirplus(cookie, 4096, 1000);
    ASSERT_EQ(page.status, 0u);
    ASSERT_FALSE(page.names.empty());
    seen.insert(page.names.begin(), page.names.end());
    cookie = page.cookies.back();
    eof = page.eof;
    ASSERT_LT(pages, 100);
  }
  EXPECT_GT(pages, 1);
  EXPECT_EQ(seen, std::multiset<std::string>(all.names.begin(), all.names.end()));

  // dircount limits too, and a budget too small for one entry is TOOSMALL.
  DirListing by_dircount = readdirplus(0, 100, 1 << 20);
  EXPECT_FALSE(by_dircount.eof);
  EXPECT_LE(by_dircount.names.size(), 100u / 24);
  EXPECT_EQ(readdirplus(0, 65536, 150).status, Stat(Nfsstat3::kTooSmall));
}

TEST_F(Nfs3ProgramTest, DotDotOfASubdirectoryIsItsParent) {
  Made sub = Lookup(root_, "sub");
  ASSERT_EQ(sub.status, 0u);
  TestReply r = Call(Nfs3Proc::kReadDirPlus,
                     Fh(sub.fh) + U64(0) + std::string(8, '\0') + U32(4096) + U32(65536));
  xdr::Decoder in(r.body);
  ASSERT_EQ(ReadStatus(in), 0u);
  ReadPostOpAttr(in);
  std::array<uint8_t, 8> verf{};
  ASSERT_TRUE(DecodeVerf(in, &verf));
  std::vector<std::pair<std::string, Handle>> entries;
  bool more = false;
  while (in.Bool(&more) && more) {
    uint64_t fileid, cookie;
    std::string name;
    bool has_fh = false;
    Handle fh;
    ASSERT_TRUE(in.U64(&fileid) && in.String(&name, 255) && in.U64(&cookie));
    ReadPostOpAttr(in);
    ASSERT_TRUE(in.Bool(&has_fh) && has_fh && DecodeFh3(in, &fh));
    entries.emplace_back(name, fh);
  }
  ASSERT_EQ(entries.size(), 2u);  // "sub" is empty
  EXPECT_EQ(entries[0], std::make_pair(std::string("."), sub.fh));
  EXPECT_EQ(entries[1], std::make_pair(std::string(".."), root_));
}

TEST_F(Nfs3ProgramTest, ReadDirRespectsCount) {
  for (int i = 0; i < 20; ++i) ASSERT_EQ(Create(root_, "f" + std::to_string(i)).status, 0u);
  auto readdir = [&](uint64_t cookie, uint32_t count) {
    TestReply r =
        Call(Nfs3Proc::kReadDir, Fh(root_) + U64(cookie) + std::string(8, '\0') + U32(count));
    EXPECT_LE(r.body.size(), 4 + count);
    return ParseReadDir(r, false);
  };
  DirListing all = readdir(0, 65536);
  ASSERT_EQ(all.status, 0u);
  EXPECT_TRUE(all.eof);
  std::set<std::string> names(all.names.begin(), all.names.end());
  EXPECT_EQ(names.size(), all.names.size());
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(names.count("f" + std::to_string(i)));
  EXPECT_TRUE(names.count("hello") && names.count("sub") && names.count(".") && names.count(".."));
  EXPECT_EQ(names.size(), 20u + 4);
  // Resuming after "." lists ".." next.
  DirListing after_dot = readdir(1, 65536);
  ASSERT_FALSE(after_dot.names.empty());
  EXPECT_EQ(after_dot.names[0], "..");
  EXPECT_EQ(after_dot.names.size(), all.names.size() - 1);
  DirListing some = readdir(0, 300);
  ASSERT_EQ(some.status, 0u);
  EXPECT_FALSE(some.eof);
  EXPECT_FALSE(some.names.empty());
  EXPECT_LT(some.names.size(), all.names.size());
  EXPECT_EQ(readdir(0, 100).status, Stat(Nfsstat3::kTooSmall));
  Made hello = Lookup(root_, "hello");
  EXPECT_EQ(
      ParseReadDir(
          Call(Nfs3Proc::kReadDir, Fh(hello.fh) + U64(0) + std::string(8, '\0') + U32(4096)), false)
          .status,
      Stat(Nfsstat3::kNotDir));
}

}  // namespace
}  // namespace ovl::nfs
