// Test-only helpers for the program tests: a UnionFs on fresh temporary layers (lower/, upper/,
// work/ under one TempDir), calls with a chosen credential and peer, and reply parsing.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <optional>
#include <string>

#include "base/temp_dir_for_test.h"
#include "nfs/export_policy.h"
#include "nfs/nfs3_xdr.h"
#include "rpc/program.h"
#include "union/union_fs.h"

namespace ovl::nfs {

inline constexpr uint32_t kLoopback = 0x7f000001;

// An AUTH_SYS call from 127.0.0.1 as uid/gid.
inline rpc::CallContext SysCtx(uint32_t uid = 0, uint32_t gid = 0) {
  rpc::CallContext ctx;
  ctx.auth_flavor = rpc::kAuthSys;
  ctx.uid = uid;
  ctx.gid = gid;
  ctx.peer_ipv4 = kLoopback;
  ctx.peer_port = 700;
  return ctx;
}

struct TestReply {
  rpc::AcceptStat stat = rpc::AcceptStat::kSystemErr;
  std::string body;
};

// Calls `program` procedure `proc` with encoded `args`.
inline TestReply CallProgram(rpc::Program& program, uint32_t proc, const std::string& args,
                             rpc::CallContext ctx) {
  ctx.proc = proc;
  ctx.prog = program.number();
  ctx.vers = program.max_version();
  xdr::Decoder in(args);
  xdr::Encoder out;
  TestReply r;
  r.stat = program.Call(ctx, in, out);
  r.body = out.Take();
  return r;
}

// The fattr3 fields tests look at.
struct Fattr {
  uint32_t type = 0, mode = 0, nlink = 0, uid = 0, gid = 0;
  uint64_t size = 0, fileid = 0;
  uint32_t mtime_sec = 0, mtime_nsec = 0, ctime_sec = 0, ctime_nsec = 0;
};

inline Fattr ReadFattr(xdr::Decoder& in) {
  Fattr f;
  uint32_t skip32;
  uint64_t skip64;
  in.U32(&f.type);
  in.U32(&f.mode);
  in.U32(&f.nlink);
  in.U32(&f.uid);
  in.U32(&f.gid);
  in.U64(&f.size);
  in.U64(&skip64);  // used
  in.U32(&skip32);  // rdev
  in.U32(&skip32);
  in.U64(&skip64);  // fsid
  in.U64(&f.fileid);
  in.U32(&skip32);  // atime
  in.U32(&skip32);
  in.U32(&f.mtime_sec);
  in.U32(&f.mtime_nsec);
  in.U32(&f.ctime_sec);
  in.U32(&f.ctime_nsec);
  return f;
}

inline std::optional<Fattr> ReadPostOpAttr(xdr::Decoder& in) {
  bool follows = false;
  if (!in.Bool(&follows) || !follows) return std::nullopt;
  return ReadFattr(in);
}

// pre_op_attr: the size, or nothing.
inline std::optional<uint64_t> ReadPreOpSize(xdr::Decoder& in) {
  bool follows = false;
  if (!in.Bool(&follows) || !follows) return std::nullopt;
  uint64_t size = 0;
  uint32_t t;
  in.U64(&size);
  for (int i = 0; i < 4; ++i) in.U32(&t);
  return size;
}

inline uint32_t ReadStatus(xdr::Decoder& in) {
  uint32_t s = 0xffffffff;
  in.U32(&s);
  return s;
}

inline uint32_t Stat(Nfsstat3 s) {
  return static_cast<uint32_t>(s);
}

// A UnionFs over lower/ (holding "hello" = "hello world" and an empty dir "sub"), upper/ and
// work/ in a fresh TempDir.
class UnionFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    // Like ovlnfsd: modes sent by clients are applied as given.
    umask(0);
    lower_ = tmp_.path() + "/lower";
    const std::string upper = tmp_.path() + "/upper", work = tmp_.path() + "/work";
    for (const std::string& d : {lower_, upper, work}) ASSERT_EQ(mkdir(d.c_str(), 0755), 0);
    ASSERT_EQ(mkdir((lower_ + "/sub").c_str(), 0755), 0);
    std::ofstream(lower_ + "/hello") << "hello world";
    ASSERT_EQ(chmod((lower_ + "/hello").c_str(), 0644), 0);
    UnionOptions options;
    options.lower_dirs = {lower_};
    options.upper_dir = upper;
    options.work_dir = work;
    Result<std::unique_ptr<UnionFs>> fs = UnionFs::Open(options);
    ASSERT_TRUE(fs.ok()) << fs.status().ToString();
    fs_ = std::move(fs).value();
  }

  // Reads a lower-layer file directly.
  std::string LowerContents(const std::string& name) {
    std::ifstream in(lower_ + "/" + name);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  TempDir tmp_;
  std::string lower_;
  std::unique_ptr<UnionFs> fs_;
};

}  // namespace ovl::nfs
