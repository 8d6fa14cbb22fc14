#include "nfs/mount_program.h"

#include <gtest/gtest.h>

#include "nfs/nfs_test_util.h"

namespace ovl::nfs {
namespace {

class Mount3ProgramTest : public UnionFixture {
 protected:
  void SetUp() override {
    UnionFixture::SetUp();
    ExportOptions options;
    options.allow = {*Cidr::Parse("127.0.0.0/8"), *Cidr::Parse("10.9.0.0/16")};
    policy_ = std::make_unique<ExportPolicy>(options);
    mount_ = std::make_unique<Mount3Program>(fs_.get(), policy_.get());
  }

  TestReply Call(MountProc proc, const std::string& args, rpc::CallContext ctx = SysCtx()) {
    return CallProgram(*mount_, static_cast<uint32_t>(proc), args, ctx);
  }

  static std::string PathArg(const std::string& path) {
    xdr::Encoder e;
    e.String(path);
    return e.Take();
  }

  // DUMP as "host path" strings.
  std::vector<std::string> Dump() {
    TestReply r = Call(MountProc::kDump, "");
    EXPECT_EQ(r.stat, rpc::AcceptStat::kSuccess);
    xdr::Decoder in(r.body);
    std::vector<std::string> out;
    bool more = false;
    while (in.Bool(&more) && more) {
      std::string host, path;
      in.String(&host, 255);
      in.String(&path, 1024);
      out.push_back(host + " " + path);
    }
    EXPECT_TRUE(AtEnd(in));
    return out;
  }

  std::unique_ptr<ExportPolicy> policy_;
  std::unique_ptr<Mount3Program> mount_;
};

TEST_F(Mount3ProgramTest, MntReturnsTheRootHandleAndFlavors) {
  TestReply r = Call(MountProc::kMnt, PathArg("/export"));
  ASSERT_EQ(r.stat, rpc::AcceptStat::kSuccess);
  xdr::Decoder in(r.body);
  uint32_t status, nflavors, f1, f2;
  std::string fh;
  ASSERT_TRUE(in.U32(&status) && in.Opaque(&fh, 64) && in.U32(&nflavors) && in.U32(&f1) &&
              in.U32(&f2));
  EXPECT_TRUE(AtEnd(in));
  EXPECT_EQ(status, static_cast<uint32_t>(Mountstat3::kOk));
  EXPECT_EQ(fh, fs_->Root()->handle);
  EXPECT_EQ(nflavors, 2u);
  EXPECT_EQ(f1, rpc::kAuthSys);
  EXPECT_EQ(f2, rpc::kAuthNone);
  // A trailing slash names the same export.
  TestReply slash = Call(MountProc::kMnt, PathArg("/export/"));
  xdr::Decoder again(slash.body);
  EXPECT_EQ(ReadStatus(again), static_cast<uint32_t>(Mountstat3::kOk));
}

TEST_F(Mount3ProgramTest, MntOfAnotherPathIsNoEnt) {
  TestReply r = Call(MountProc::kMnt, PathArg("/elsewhere"));
  ASSERT_EQ(r.stat, rpc::AcceptStat::kSuccess);
  EXPECT_EQ(r.body.size(), 4u);
  xdr::Decoder in(r.body);
  EXPECT_EQ(ReadStatus(in), static_cast<uint32_t>(Mountstat3::kNoEnt));
}

TEST_F(Mount3ProgramTest, MntFromOutsideTheAllowListIsAcces) {
  rpc::CallContext ctx = SysCtx();
  ctx.peer_ipv4 = 0x0a0a0001;  // 10.10.0.1
  TestReply refused = Call(MountProc::kMnt, PathArg("/export"), ctx);
  xdr::Decoder in(refused.body);
  EXPECT_EQ(ReadStatus(in), static_cast<uint32_t>(Mountstat3::kAcces));
  ctx.peer_ipv4 = 0x0a090001;  // 10.9.0.1
  TestReply allowed = Call(MountProc::kMnt, PathArg("/export"), ctx);
  xdr::Decoder ok(allowed.body);
  EXPECT_EQ(ReadStatus(ok), static_cast<uint32_t>(Mountstat3::kOk));
}

TEST_F(Mount3ProgramTest, DumpUmntAndUmntAll) {
  EXPECT_TRUE(Dump().empty());
  Call(MountProc::kMnt, PathArg("/export"));
  rpc::CallContext other = SysCtx();
  other.peer_ipv4 = 0x7f000002;
  Call(MountProc::kMnt, PathArg("/export"), other);
  EXPECT_EQ(Dump(), (std::vector<std::string>{"127.0.0.1 /export", "127.0.0.2 /export"}));

  EXPECT_EQ(Call(MountProc::kUmnt, PathArg("/export")).stat, rpc::AcceptStat::kSuccess);
  EXPECT_EQ(Dump(), (std::vector<std::string>{"127.0.0.2 /export"}));

  TestReply all = Call(MountProc::kUmntAll, "", other);
  EXPECT_EQ(all.stat, rpc::AcceptStat::kSuccess);
  EXPECT_TRUE(all.body.empty());
  EXPECT_TRUE(Dump().empty());
}

TEST_F(Mount3ProgramTest, ExportListsPathAndAllowList) {
  TestReply r = Call(MountProc::kExport, "");
  ASSERT_EQ(r.stat, rpc::AcceptStat::kSuccess);
  xdr::Decoder in(r.body);
  bool more = false;
  std::string dir, g1, g2;
  ASSERT_TRUE(in.Bool(&more) && more && in.String(&dir, 1024));
  EXPECT_EQ(dir, "/export");
  ASSERT_TRUE(in.Bool(&more) && more && in.String(&g1, 255));
  ASSERT_TRUE(in.Bool(&more) && more && in.String(&g2, 255));
  EXPECT_EQ(g1, "127.0.0.0/8");
  EXPECT_EQ(g2, "10.9.0.0/16");
  ASSERT_TRUE(in.Bool(&more));
  EXPECT_FALSE(more);  // groups
  ASSERT_TRUE(in.Bool(&more));
  EXPECT_FALSE(more);  // exports
  EXPECT_TRUE(AtEnd(in));
}

TEST_F(Mount3ProgramTest, GarbageAndUnknownProcedures) {
  EXPECT_EQ(Call(MountProc::kMnt, std::string("\0\0", 2)).stat, rpc::AcceptStat::kGarbageArgs);
  EXPECT_EQ(Call(MountProc::kMnt, PathArg(std::string(1025, 'x'))).stat,
            rpc::AcceptStat::kGarbageArgs);
  EXPECT_EQ(Call(MountProc::kNull, "x").stat, rpc::AcceptStat::kGarbageArgs);
  EXPECT_EQ(Call(MountProc::kNull, "").stat, rpc::AcceptStat::kSuccess);
  EXPECT_EQ(Call(static_cast<MountProc>(6), "").stat, rpc::AcceptStat::kProcUnavail);
}

}  // namespace
}  // namespace ovl::nfs
