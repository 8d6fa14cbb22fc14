// NFSv4.1 over the wire: NFS v3 and v4 served by one RpcServer on one port, as ovlnfsd does,
// driven by a small hand-written COMPOUND client. Sessions and the reply cache, the hostile
// cases (each followed by a second client still being served), the operations a Linux client
// uses, handle identity with v3, and state across a restart with grace and reclaim.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <random>

#include "base/temp_dir_for_test.h"
#include "nfs/export_policy.h"
#include "nfs/nfs3_program.h"
#include "nfs4/fattr4.h"
#include "nfs4/nfs4_program.h"
#include "nfs4/nfs4_test_util.h"
#include "rpc/client.h"
#include "rpc/server.h"
#include "rpc/version_mux.h"

namespace ovl::nfs4 {
namespace {

using namespace fattr;  // NOLINT: attribute numbers
using namespace wire;   // NOLINT: the test client

// ovlnfsd's programs in an RpcServer on a fresh overlay: lower/ holds "hello" and "sub/".
// The export path is /srv/ovl, so the pseudo-root is two directories deep.
class Nfs4WireTest : public ::testing::Test {
 protected:
  void SetUp() override {
    umask(0);
    for (const char* d : {"lower", "upper", "work", "lower/sub"}) {
      ASSERT_EQ(mkdir((tmp_.path() + "/" + d).c_str(), 0755), 0);
    }
    std::ofstream(tmp_.path() + "/lower/hello") << "hello world";
    Start();
  }
  void TearDown() override { Stop(); }

  void Start() {
    UnionOptions options;
    options.lower_dirs = {tmp_.path() + "/lower"};
    options.upper_dir = tmp_.path() + "/upper";
    options.work_dir = tmp_.path() + "/work";
    auto fs = UnionFs::Open(options);
    ASSERT_TRUE(fs.ok()) << fs.status().ToString();
    fs_ = std::move(fs).value();
    nfs::ExportOptions export_options;
    export_options.path = "/srv/ovl";
    export_options.squash = nfs::Squash::kNone;
    policy_ = std::make_unique<nfs::ExportPolicy>(export_options);
    v3_ = std::make_unique<nfs::Nfs3Program>(fs_.get(), policy_.get(), Verifier{7});
    Nfs4Options o;
    o.limits = limits_;
    o.work_dir = tmp_.path() + "/work";
    auto v4 = Nfs4Program::Create(fs_.get(), policy_.get(), Verifier{7}, o);
    ASSERT_TRUE(v4.ok()) << v4.status().ToString();
    v4_ = std::move(v4).value();
    mux_ = std::make_unique<rpc::VersionMux>(std::vector<rpc::Program*>{v3_.get(), v4_.get()});
    auto server = rpc::RpcServer::Start(rpc::ServerOptions{}, {mux_.get()});
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
  }
  void Stop() {
    if (server_) server_->Stop();
    server_.reset();
    mux_.reset();
    v4_.reset();
    v3_.reset();
    fs_.reset();
  }
  uint16_t port() const { return server_->port(); }

  // The export root's handle, walked to from PUTROOTFH.
  std::string RootFh(Client& c) {
    Ops ops;
    ops.Simple(Op::kPutRootFh).Name(Op::kLookup, "srv").Name(Op::kLookup, "ovl").Simple(Op::kGetFh);
    Reply r = c.Run(ops);
    EXPECT_EQ(r.status, 0u);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(r.Next(), 0u);
    EXPECT_EQ(r.Next(), 0u);
    return r.Fh();
  }

  // Opens (creating) `name` in the export root for writing and reading.
  nfs4::Stateid OpenNew(Client& c, const std::string& name, std::string* fh = nullptr) {
    Ops ops;
    ops.PutFh(RootFh(c)).Open(name, kShareBoth, /*create=*/true).Simple(Op::kGetFh);
    Reply r = c.Run(ops);
    EXPECT_EQ(r.status, 0u);
    EXPECT_EQ(r.Next(), 0u);
    EXPECT_EQ(r.Next(), 0u);
    nfs4::Stateid sid = r.ReadStateid();
    r.SkipOpenTail();
    EXPECT_EQ(r.Next(), 0u);
    std::string got = r.Fh();
    if (fh) *fh = got;
    return sid;
  }

  // CREATE of `name` (nfs_ftype4 `type`, mode 0700) in `dir`, then GETFH.
  Reply Create(Client& c, const std::string& dir, uint32_t type, const std::string& name,
               const std::string& target = "") {
    Ops ops;
    ops.PutFh(dir).Raw(static_cast<uint32_t>(Op::kCreate));
    ops.enc().U32(type);
    if (type == 5) ops.enc().String(target);
    ops.enc().String(name);
    Bitmap4 mode;
    mode.Set(kMode);
    EncodeBitmap4(ops.enc(), mode);
    xdr::Encoder v;
    v.U32(0700);
    ops.enc().Opaque(v.bytes());
    ops.Simple(Op::kGetFh);
    return c.Run(ops);
  }

  // A second client still gets answers.
  void ExpectServed(Client& other) {
    Ops ops;
    ops.Simple(Op::kPutRootFh).Simple(Op::kGetFh);
    Reply r = other.Run(ops);
    EXPECT_EQ(r.status, 0u);
  }

  Limits limits_;
  TempDir tmp_;
  std::unique_ptr<UnionFs> fs_;
  std::unique_ptr<nfs::ExportPolicy> policy_;
  std::unique_ptr<nfs::Nfs3Program> v3_;
  std::unique_ptr<Nfs4Program> v4_;
  std::unique_ptr<rpc::VersionMux> mux_;
  std::unique_ptr<rpc::RpcServer> server_;
};

TEST_F(Nfs4WireTest, NullOnBothVersions) {
  Client c(port());
  EXPECT_EQ(c.CallRaw("", 4, 0), "");
  EXPECT_EQ(c.CallRaw("", 3, 0), "");
}

TEST_F(Nfs4WireTest, SessionAndPseudoRoot) {
  Client c(port());
  c.Establish("client-a");
  EXPECT_EQ(c.fore_max_ops, 16u);
  EXPECT_EQ(c.fore_slots, 8u);
  Ops ops;
  ops.Simple(Op::kPutRootFh).Simple(Op::kGetFh).GetAttr({kType, kFileid});
  ops.Name(Op::kLookup, "srv").Simple(Op::kGetFh).Name(Op::kLookup, "ovl").Simple(Op::kGetFh);
  ops.GetAttr({kType, kFileid, kMountedOnFileid}).Simple(Op::kLookupP).Simple(Op::kGetFh);
  Reply r = c.Run(ops);
  ASSERT_EQ(r.status, 0u);
  EXPECT_EQ(r.count, 11u);
  EXPECT_EQ(r.Next(), 0u);
  EXPECT_EQ(r.Next(), 0u);
  const std::string root = r.Fh();
  EXPECT_EQ(r.Next(), 0u);
  auto attrs = r.Attrs();
  EXPECT_EQ(attrs[kType], 2u);
  EXPECT_EQ(r.Next(), 0u);
  EXPECT_EQ(r.Next(), 0u);
  const std::string srv = r.Fh();
  EXPECT_EQ(r.Next(), 0u);
  EXPECT_EQ(r.Next(), 0u);
  const std::string export_root = r.Fh();
  EXPECT_EQ(r.Next(), 0u);
  auto root_attrs = r.Attrs();
  EXPECT_EQ(r.Next(), 0u);
  EXPECT_EQ(r.Next(), 0u);
  EXPECT_EQ(r.Fh(), srv);  // LOOKUPP of the export root is the pseudo directory above
  EXPECT_NE(root, srv);
  // The export root's handle is the union's, as v3's MOUNT gives it.
  auto union_root = fs_->Root();
  ASSERT_TRUE(union_root.ok());
  EXPECT_EQ(export_root, union_root->handle);
  EXPECT_EQ(root_attrs[kMountedOnFileid], PseudoFs::FileidOf(1));

  // Pseudo directories hold only the next component and are read-only.
  Ops bad;
  bad.PutFh(srv).Name(Op::kLookup, "other");
  EXPECT_EQ(c.Run(bad).status, St(Nfsstat4::kNoEnt));
  Ops create;
  create.PutFh(srv).Raw(static_cast<uint32_t>(Op::kCreate));
  create.enc().U32(2);  // NF4DIR
  create.enc().String("x");
  create.enc().U32(0);
  create.enc().U32(0);
  EXPECT_EQ(c.Run(create).status, St(Nfsstat4::kRofs));
  Ops list;
  list.PutFh(srv).Raw(static_cast<uint32_t>(Op::kReadDir));
  list.enc().U64(0);
  list.enc().U64(0);
  list.enc().U32(4096);
  list.enc().U32(4096);
  EncodeBitmap4(list.enc(), Bitmap4{});
  Reply l = c.Run(list);
  ASSERT_EQ(l.status, 0u);
  EXPECT_EQ(l.Next(), 0u);
  EXPECT_EQ(l.Next(), 0u);
  uint64_t verf = 0, cookie = 0;
  bool follows = false, eof = false;
  std::string name;
  Bitmap4 b;
  std::string values;
  ASSERT_TRUE(l.in.U64(&verf) && l.in.Bool(&follows) && l.in.U64(&cookie) &&
              l.in.String(&name, 255) && DecodeBitmap4(l.in, &b) && l.in.Opaque(&values, 99));
  EXPECT_TRUE(follows);
  EXPECT_EQ(name, "ovl");
  ASSERT_TRUE(l.in.Bool(&follows) && l.in.Bool(&eof));
  EXPECT_FALSE(follows);
  EXPECT_TRUE(eof);
}

TEST_F(Nfs4WireTest, SlotReplayReturnsTheCachedReplyByteForByte) {
  Client c(port());
  c.Establish("client-a");
  Ops ops;
  ops.Sequence(c.session, 1).Simple(Op::kPutRootFh).Simple(Op::kGetFh);
  const std::string args = Client::CompoundArgs(ops);
  const std::string first = c.CallRaw(args);
  // Something changes in between: a replay must not see it.
  Client other(port());
  other.Establish("client-b");
  OpenNew(other, "unrelated");
  const std::string again = c.CallRaw(args);
  EXPECT_EQ(first, again);
  Reply r = Client::Parse(first);
  EXPECT_EQ(r.status, 0u);
  // A seqid that is neither the last nor the next is misordered; a slot past the table bad.
  Ops skip;
  skip.Sequence(c.session, 3).Simple(Op::kPutRootFh);
  Reply m = c.Compound(skip);
  EXPECT_EQ(m.status, St(Nfsstat4::kSeqMisordered));
  Ops far;
  far.Sequence(c.session, 1, 99).Simple(Op::kPutRootFh);
  EXPECT_EQ(c.Compound(far).status, St(Nfsstat4::kBadSlot));
  c.seqid = 1;
  EXPECT_EQ(c.Run(Ops().Simple(Op::kPutRootFh)).status, 0u);  // seqid 2 is next
}

TEST_F(Nfs4WireTest, HostileCompoundsGetErrorsAndOthersAreServed) {
  Client other(port());
  other.Establish("bystander");
  Client c(port());
  c.Establish("hostile", /*max_ops=*/4, /*max_request=*/4096);
  EXPECT_EQ(c.fore_max_ops, 4u);
  EXPECT_EQ(c.fore_max_request, 4096u);

  // More operations than the session allows.
  Ops many;
  for (int i = 0; i < 5; ++i) many.Simple(Op::kPutRootFh);
  Reply r = c.InSession(many);
  EXPECT_EQ(r.status, St(Nfsstat4::kTooManyOps));
  ExpectServed(other);
  c.seqid--;  // the slot was not used

  // A request over the negotiated size.
  Ops big;
  big.Name(Op::kLookup, std::string(5000, 'x'));
  r = c.InSession(big);
  EXPECT_EQ(r.status, St(Nfsstat4::kReqTooBig));
  c.seqid--;
  ExpectServed(other);

  // Garbage and truncated compounds.
  EXPECT_EQ(Client::Parse(c.CallRaw(std::string("\x00\x00\x10\x00garbage", 11))).status,
            St(Nfsstat4::kBadXdr));
  EXPECT_EQ(Client::Parse(c.CallRaw(std::string(3, '\xff'))).status, St(Nfsstat4::kBadXdr));
  Ops cut;
  cut.Sequence(c.session, ++c.seqid).Simple(Op::kPutRootFh);
  std::string args = Client::CompoundArgs(cut);
  args[4 + 4 + 4 + 3] = 3;  // numops 3, but only two follow
  Reply t = Client::Parse(c.CallRaw(args));
  EXPECT_EQ(t.status, St(Nfsstat4::kBadXdr));
  EXPECT_EQ(t.count, 3u);
  Ops shortargs;
  shortargs.Sequence(c.session, ++c.seqid).Raw(static_cast<uint32_t>(Op::kLookup));
  shortargs.enc().U32(100);  // a name of 100 bytes that is not there
  EXPECT_EQ(c.Compound(shortargs).status, St(Nfsstat4::kBadXdr));
  ExpectServed(other);

  // A tag over the bound, minor version 0, unknown operations.
  EXPECT_EQ(Client::Parse(c.CallRaw(Client::CompoundArgs(Ops(), 1, std::string(5000, 't')))).status,
            St(Nfsstat4::kBadXdr));
  EXPECT_EQ(c.Compound(Ops().Simple(Op::kPutRootFh), 0).status, St(Nfsstat4::kMinorVersMismatch));
  Reply illegal = c.InSession(Ops().Raw(999));
  EXPECT_EQ(illegal.status, St(Nfsstat4::kOpIllegal));
  illegal.SkipSequence();
  uint32_t op = 0;
  EXPECT_EQ(illegal.Next(&op), St(Nfsstat4::kOpIllegal));
  EXPECT_EQ(op, static_cast<uint32_t>(Op::kIllegal));
  // 4.2-only operations: NOTSUPP in minor version 2, illegal in 1.
  EXPECT_EQ(c.InSession(Ops().Simple(Op::kPutRootFh).Raw(69)).status, St(Nfsstat4::kOpIllegal));
  Ops seek;
  seek.Sequence(c.session, ++c.seqid).Simple(Op::kPutRootFh).Raw(69);
  EXPECT_EQ(c.Compound(seek, 2).status, St(Nfsstat4::kNotSupp));
  EXPECT_EQ(c.InSession(Ops().Raw(static_cast<uint32_t>(Op::kLock))).status,
            St(Nfsstat4::kNotSupp));

  // Operations outside a session, SEQUENCE out of place.
  EXPECT_EQ(c.Compound(Ops().Simple(Op::kPutRootFh)).status, St(Nfsstat4::kOpNotInSession));
  EXPECT_EQ(c.InSession(Ops().Sequence(c.session, 1)).status, St(Nfsstat4::kSequencePos));
  SessionId unknown{};
  EXPECT_EQ(c.Compound(Ops().Sequence(unknown, 1).Simple(Op::kPutRootFh)).status,
            St(Nfsstat4::kBadSession));

  // Handles of wrong length or garbage, and operations with no filehandle.
  EXPECT_EQ(c.InSession(Ops().PutFh("short")).status, St(Nfsstat4::kBadHandle));
  EXPECT_EQ(c.InSession(Ops().PutFh(std::string(65, 'x'))).status, St(Nfsstat4::kBadHandle));
  EXPECT_EQ(c.InSession(Ops().PutFh(std::string(200, 'x'))).status, St(Nfsstat4::kBadXdr));
  std::string forged = RootFh(other);  // five operations: over c's limit
  forged[30] ^= 1;
  EXPECT_EQ(c.InSession(Ops().PutFh(forged)).status, St(Nfsstat4::kBadHandle));
  PseudoFs elsewhere("/srv/ovl", std::array<uint8_t, 16>{42}, {});
  EXPECT_EQ(c.InSession(Ops().PutFh(elsewhere.HandleOf(0))).status, St(Nfsstat4::kStale));
  EXPECT_EQ(c.InSession(Ops().Simple(Op::kGetFh)).status, St(Nfsstat4::kNoFileHandle));
  ExpectServed(other);
}

// A peer outside --allow gets NFS4ERR_ACCESS for any COMPOUND, as NFS3ERR_ACCES for v3.
TEST_F(Nfs4WireTest, PeersOutsideTheAllowListAreRefused) {
  rpc::CallContext ctx;
  ctx.prog = 100003;
  ctx.vers = 4;
  ctx.proc = kProcCompound;
  ctx.auth_flavor = rpc::kAuthSys;
  ctx.peer_ipv4 = 0x0a000001;  // 10.0.0.1
  const std::string args = Client::CompoundArgs(Ops().Simple(Op::kPutRootFh));
  xdr::Decoder in(args);
  xdr::Encoder out;
  ASSERT_EQ(v4_->Call(ctx, in, out), rpc::AcceptStat::kSuccess);
  Reply r = Client::Parse(out.Take());
  EXPECT_EQ(r.status, St(Nfsstat4::kAccess));
  EXPECT_EQ(r.count, 0u);
}

TEST_F(Nfs4WireTest, V3AndV4HandlesAreIdentical) {
  Client c(port());
  c.Establish("client-a");
  const std::string root = RootFh(c);
  Ops ops;
  ops.PutFh(root).Name(Op::kLookup, "hello").Simple(Op::kGetFh);
  Reply r = c.Run(ops);
  ASSERT_EQ(r.status, 0u);
  r.Next();
  r.Next();
  EXPECT_EQ(r.Next(), 0u);
  const std::string v4fh = r.Fh();
  // NFSv3 LOOKUP on the same port.
  xdr::Encoder args;
  args.Opaque(root);
  args.String("hello");
  std::string v3 = c.CallRaw(args.Take(), 3, 3);
  xdr::Decoder in(v3);
  uint32_t status = 1;
  std::string v3fh;
  ASSERT_TRUE(in.U32(&status) && in.Opaque(&v3fh, 64));
  EXPECT_EQ(status, 0u);
  EXPECT_EQ(v3fh, v4fh);
  // And a v3 handle is a v4 PUTFH argument as it is.
  Ops put;
  put.PutFh(v3fh).GetAttr({kType, kSize});
  Reply p = c.Run(put);
  ASSERT_EQ(p.status, 0u);
  p.Next();
  EXPECT_EQ(p.Next(), 0u);
  EXPECT_EQ(p.Attrs()[kSize], 11u);
}

TEST_F(Nfs4WireTest, OpenWriteReadCloseAndForeignStateids) {
  Client a(port()), b(port());
  a.Establish("client-a");
  b.Establish("client-b");
  std::string fh;
  nfs4::Stateid sid = OpenNew(a, "new.txt", &fh);
  Ops w;
  w.PutFh(fh).Write(sid, 0, "some data").Read(sid, 0, 100).GetAttr({kSize, kMode});
  Reply r = a.Run(w);
  ASSERT_EQ(r.status, 0u);
  r.Next();
  EXPECT_EQ(r.Next(), 0u);
  uint32_t count = 0, committed = 0;
  Verifier verf;
  ASSERT_TRUE(r.in.U32(&count) && r.in.U32(&committed) && r.in.FixedOpaque(verf.data(), 8));
  EXPECT_EQ(count, 9u);
  EXPECT_EQ(committed, 2u);  // FILE_SYNC
  EXPECT_EQ(verf, Verifier{7});
  EXPECT_EQ(r.Next(), 0u);
  bool eof = false;
  std::string data;
  ASSERT_TRUE(r.in.Bool(&eof) && r.in.Opaque(&data, 100));
  EXPECT_EQ(data, "some data");
  EXPECT_TRUE(eof);
  EXPECT_EQ(r.Next(), 0u);
  auto attrs = r.Attrs();
  EXPECT_EQ(attrs[kSize], 9u);
  EXPECT_EQ(attrs[kMode], 0644u);
  // On disk in the upper layer, durable (FILE_SYNC).
  std::ifstream upper(tmp_.path() + "/upper/new.txt");
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(upper), {}), "some data");

  // Client b may not use a's stateid.
  Ops steal;
  steal.PutFh(fh).Read(sid, 0, 10);
  EXPECT_EQ(b.Run(steal).status, St(Nfsstat4::kBadStateid));
  Ops test;
  test.Raw(static_cast<uint32_t>(Op::kTestStateid));
  test.enc().U32(1);
  EncodeStateid(test.enc(), sid);
  Reply tr = b.Run(test);
  ASSERT_EQ(tr.status, 0u);
  EXPECT_EQ(tr.Next(), 0u);
  uint32_t n = 0, code = 0;
  ASSERT_TRUE(tr.in.U32(&n) && tr.in.U32(&code));
  EXPECT_EQ(code, St(Nfsstat4::kBadStateid));

  // Truncate through SETATTR with the stateid, then close; the stateid is gone.
  Ops trunc;
  trunc.PutFh(fh).Stateid(Op::kSetAttr, sid);
  Bitmap4 size_bit;
  size_bit.Set(kSize);
  EncodeBitmap4(trunc.enc(), size_bit);
  xdr::Encoder zero;
  zero.U64(4);
  trunc.enc().Opaque(zero.bytes());
  trunc.GetAttr({kSize});
  Reply t = a.Run(trunc);
  ASSERT_EQ(t.status, 0u);
  t.Next();
  EXPECT_EQ(t.Next(), 0u);
  Bitmap4 set;
  ASSERT_TRUE(DecodeBitmap4(t.in, &set));
  EXPECT_EQ(set, size_bit);
  EXPECT_EQ(t.Next(), 0u);
  EXPECT_EQ(t.Attrs()[kSize], 4u);
  Ops close;
  close.PutFh(fh).Close(sid);
  EXPECT_EQ(a.Run(close).status, 0u);
  EXPECT_EQ(a.Run(Ops().PutFh(fh).Read(sid, 0, 10)).status, St(Nfsstat4::kBadStateid));
  // The anonymous stateid still reads (permission checked on the spot).
  Reply anon = a.Run(Ops().PutFh(fh).Read(nfs4::Stateid{}, 0, 10));
  EXPECT_EQ(anon.status, 0u);
}

TEST_F(Nfs4WireTest, NamespaceOperations) {
  Client c(port());
  c.Establish("client-a");
  const std::string root = RootFh(c);
  auto create = [&](uint32_t type, const std::string& name, const std::string& target = "") {
    return Create(c, root, type, name, target);
  };
  EXPECT_EQ(create(2, "dir").status, 0u);
  EXPECT_EQ(create(5, "link", "hello").status, 0u);
  EXPECT_EQ(create(7, "fifo").status, 0u);
  EXPECT_EQ(create(2, "dir").status, St(Nfsstat4::kExist));
  struct stat st {};
  ASSERT_EQ(lstat((tmp_.path() + "/upper/dir").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  EXPECT_TRUE(S_ISFIFO(lstat((tmp_.path() + "/upper/fifo").c_str(), &st) == 0 ? st.st_mode : 0));

  Reply rl = c.Run(Ops().PutFh(root).Name(Op::kLookup, "link").Simple(Op::kReadLink));
  ASSERT_EQ(rl.status, 0u);
  rl.Next();
  rl.Next();
  rl.Next();
  std::string target;
  ASSERT_TRUE(rl.in.String(&target, 100));
  EXPECT_EQ(target, "hello");

  // RENAME hello (a lower file: copied up) to dir/moved, LINK it back, REMOVE the old name.
  Ops mv;
  mv.PutFh(root).Simple(Op::kSaveFh).Name(Op::kLookup, "dir");
  mv.Raw(static_cast<uint32_t>(Op::kRename));
  mv.enc().String("hello");
  mv.enc().String("moved");
  EXPECT_EQ(c.Run(mv).status, 0u);
  Ops ln;
  ln.PutFh(root).Name(Op::kLookup, "dir").Name(Op::kLookup, "moved").Simple(Op::kSaveFh);
  ln.PutFh(root).Name(Op::kLink, "again").Name(Op::kLookup, "again").GetAttr({kNumLinks});
  Reply lr = c.Run(ln);
  ASSERT_EQ(lr.status, 0u);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(lr.Next(), 0u);
  uint64_t w = 0;
  bool atomic = false;
  ASSERT_TRUE(lr.in.Bool(&atomic) && lr.in.U64(&w) && lr.in.U64(&w));
  EXPECT_EQ(lr.Next(), 0u);  // LOOKUP: LINK leaves the directory current
  EXPECT_EQ(lr.Next(), 0u);
  EXPECT_EQ(lr.Attrs()[kNumLinks], 2u);
  EXPECT_EQ(c.Run(Ops().PutFh(root).Name(Op::kRemove, "again")).status, 0u);
  EXPECT_EQ(c.Run(Ops().PutFh(root).Name(Op::kRemove, "hello")).status, St(Nfsstat4::kNoEnt));
  EXPECT_EQ(c.Run(Ops().PutFh(root).Name(Op::kRemove, "dir")).status, St(Nfsstat4::kNotEmpty));

  // READDIR of the root lists the entries with their attributes.
  Ops list;
  list.PutFh(root).Raw(static_cast<uint32_t>(Op::kReadDir));
  list.enc().U64(0);
  list.enc().U64(0);
  list.enc().U32(8192);
  list.enc().U32(8192);
  Bitmap4 want;
  want.Set(kType);
  want.Set(kFileid);
  EncodeBitmap4(list.enc(), want);
  Reply dr = c.Run(list);
  ASSERT_EQ(dr.status, 0u);
  dr.Next();
  EXPECT_EQ(dr.Next(), 0u);
  uint64_t verf = 0;
  ASSERT_TRUE(dr.in.U64(&verf));
  std::set<std::string> names;
  bool follows = false;
  while (dr.in.Bool(&follows) && follows) {
    uint64_t cookie = 0;
    std::string name;
    ASSERT_TRUE(dr.in.U64(&cookie) && dr.in.String(&name, 255));
    EXPECT_GE(cookie, 3u);
    names.insert(name);
    dr.Attrs();
  }
  EXPECT_EQ(names, (std::set<std::string>{"dir", "link", "fifo", "sub"}));
}

TEST_F(Nfs4WireTest, AccessSecinfoSetattrVerify) {
  Client c(port());
  c.Establish("client-a");
  const std::string root = RootFh(c);
  ASSERT_EQ(Create(c, root, 2, "dir").status, 0u);
  struct stat st {};
  Reply ac = c.Run(Ops().PutFh(root).Raw(static_cast<uint32_t>(Op::kAccess)));
  EXPECT_EQ(ac.status, St(Nfsstat4::kBadXdr));  // ACCESS without its argument
  Ops acc;
  acc.PutFh(root).Raw(static_cast<uint32_t>(Op::kAccess));
  acc.enc().U32(0x3f);
  Reply a2 = c.Run(acc);
  ASSERT_EQ(a2.status, 0u);
  a2.Next();
  a2.Next();
  uint32_t supported = 0, granted = 0;
  ASSERT_TRUE(a2.in.U32(&supported) && a2.in.U32(&granted));
  EXPECT_EQ(supported, 0x3fu);
  EXPECT_NE(granted & 0x4, 0u);  // MODIFY for root
  Ops sec;
  sec.PutFh(root).Raw(static_cast<uint32_t>(Op::kSecInfoNoName));
  sec.enc().U32(0);
  EXPECT_EQ(c.Run(sec).status, 0u);
  Ops setmode;
  setmode.PutFh(root).Name(Op::kLookup, "dir").Stateid(Op::kSetAttr, nfs4::Stateid{});
  Bitmap4 mode_bit;
  mode_bit.Set(kMode);
  EncodeBitmap4(setmode.enc(), mode_bit);
  xdr::Encoder mv2;
  mv2.U32(0751);
  setmode.enc().Opaque(mv2.bytes());
  // NVERIFY with the new mode fails (it is the same), VERIFY passes.
  setmode.Raw(static_cast<uint32_t>(Op::kVerify));
  EncodeBitmap4(setmode.enc(), mode_bit);
  setmode.enc().Opaque(mv2.bytes());
  setmode.Raw(static_cast<uint32_t>(Op::kNVerify));
  EncodeBitmap4(setmode.enc(), mode_bit);
  setmode.enc().Opaque(mv2.bytes());
  Reply sm = c.Run(setmode);
  EXPECT_EQ(sm.status, St(Nfsstat4::kSame));
  ASSERT_EQ(lstat((tmp_.path() + "/upper/dir").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0751u);
}

TEST_F(Nfs4WireTest, ReclaimAfterRestart) {
  limits_.grace_s = 60;
  Stop();
  Start();
  std::string fh;
  {
    Client a(port());
    a.Establish("client-a");
    OpenNew(a, "kept.txt", &fh);
  }
  Stop();
  Start();  // a restart: the record says client-a held state
  Client a(port());
  Client b(port());
  b.Establish("client-b");
  // b is new: no reclaim, and no ordinary open until grace ends.
  EXPECT_EQ(b.Run(Ops().PutFh(fh).OpenPrevious(kShareRead)).status, St(Nfsstat4::kReclaimBad));
  Reply g = b.Run(Ops().PutFh(RootFh(b)).Open("other", kShareBoth, true));
  EXPECT_EQ(g.status, St(Nfsstat4::kGrace));
  EXPECT_EQ(b.Run(Ops().PutFh(RootFh(b)).Name(Op::kRemove, "kept.txt")).status,
            St(Nfsstat4::kGrace));
  // a comes back with the same owner and verifier and reclaims its open.
  a.Establish("client-a");
  Reply r = a.Run(Ops().PutFh(fh).OpenPrevious(kShareBoth));
  ASSERT_EQ(r.status, 0u);
  r.Next();
  EXPECT_EQ(r.Next(), 0u);
  nfs4::Stateid reclaimed = r.ReadStateid();
  EXPECT_EQ(a.Run(Ops().PutFh(fh).Write(reclaimed, 0, "after")).status, 0u);
  Ops done;
  done.Raw(static_cast<uint32_t>(Op::kReclaimComplete));
  done.enc().Bool(false);
  EXPECT_EQ(a.Run(done).status, 0u);
  EXPECT_EQ(a.Run(done).status, St(Nfsstat4::kCompleteAlready));
  // Every client known before the restart is done: grace is over.
  EXPECT_EQ(b.Run(Ops().PutFh(RootFh(b)).Open("other", kShareBoth, true)).status, 0u);
  EXPECT_EQ(a.Run(Ops().PutFh(fh).OpenPrevious(kShareRead, "owner2")).status,
            St(Nfsstat4::kNoGrace));
}

TEST_F(Nfs4WireTest, OldSessionIsBadAfterRestart) {
  Client a(port());
  a.Establish("client-a");
  Stop();
  Start();
  Client again(port());
  again.session = a.session;
  again.seqid = a.seqid;
  EXPECT_EQ(again.InSession(Ops().Simple(Op::kPutRootFh)).status, St(Nfsstat4::kBadSession));
  // The old client id is stale too.
  Ops cs;
  cs.Simple(Op::kCreateSession);
  cs.enc().U64(a.clientid);
  cs.enc().U32(1);
  cs.enc().U32(0);
  for (int i = 0; i < 14; ++i) cs.enc().U32(i % 7 == 6 ? 0 : 4096);
  cs.enc().U32(0);
  cs.enc().U32(0);
  EXPECT_EQ(again.Compound(cs).status, St(Nfsstat4::kStaleClientId));
}

// Valid compounds of a live session with their operations mutated at random (bytes flipped,
// cut short, words inserted, operation counts changed) straight into the program: each gets a
// well-formed COMPOUND reply, and clients over the wire are served afterwards.
TEST_F(Nfs4WireTest, MutatedCompoundsNeverBreakTheServer) {
  Client c(port());
  c.Establish("fuzzer");
  const std::string root = RootFh(c);
  std::string fh;
  const nfs4::Stateid sid = OpenNew(c, "target", &fh);
  std::vector<Ops> bodies(6);
  bodies[0].PutFh(root).Name(Op::kLookup, "hello").GetAttr({kType, kSize, kOwner});
  bodies[1].PutFh(fh).Write(sid, 3, "abc", 0).Read(sid, 0, 64).Simple(Op::kGetFh);
  bodies[2].PutFh(root).Open("fz", kShareBoth, true).Close(sid);
  bodies[3].PutFh(root).Simple(Op::kSaveFh).Name(Op::kLookup, "sub");
  bodies[3].Raw(static_cast<uint32_t>(Op::kRename)).enc().String("fz");
  bodies[3].enc().String("fz2");
  bodies[4].PutFh(root).Raw(static_cast<uint32_t>(Op::kReadDir));
  for (uint32_t w : {0u, 0u, 0u, 0u, 4096u, 4096u, 1u, 0xffffffffu}) bodies[4].enc().U32(w);
  bodies[5].PutFh(fh).Stateid(Op::kSetAttr, sid).GetAttr({kSize}).Simple(Op::kLookupP);
  std::mt19937 rng(7);
  rpc::CallContext ctx;
  ctx.prog = 100003;
  ctx.vers = 4;
  ctx.proc = kProcCompound;
  ctx.auth_flavor = rpc::kAuthSys;
  ctx.peer_ipv4 = 0x7f000001;
  int deep = 0;
  for (int i = 0; i < 3000; ++i) {
    const Ops& body = bodies[rng() % bodies.size()];
    std::string ops = body.bytes();
    const int edits = 1 + static_cast<int>(rng() % 2);
    for (int e = 0; e < edits && !ops.empty(); ++e) {
      switch (rng() % 4) {
        case 0:
          ops[rng() % ops.size()] ^= static_cast<char>(1 + rng() % 255);
          break;
        case 1:
          ops.resize(ops.size() - rng() % (ops.size() / 4 + 1));
          break;
        case 2: {
          const uint32_t word = rng() % 3 == 0 ? rng() : rng() % 80;
          ops.insert((rng() % (ops.size() / 4 + 1)) * 4,
                     std::string(reinterpret_cast<const char*>(&word), 4));
          break;
        }
        default:
          ops[(rng() % ops.size()) & ~size_t{3}] = 0;
          break;
      }
    }
    const uint32_t numops = 1 + (rng() % 4 == 0 ? static_cast<uint32_t>(rng() % 14) : body.count());
    Ops all;
    all.Sequence(c.session, ++c.seqid);
    xdr::Encoder args;
    args.String("");
    args.U32(1);
    args.U32(numops);
    args.FixedOpaque(all.bytes().data(), all.bytes().size());
    std::string bytes = args.Take() + ops;
    xdr::Decoder in(bytes);
    xdr::Encoder out;
    ASSERT_EQ(v4_->Call(ctx, in, out), rpc::AcceptStat::kSuccess);
    Reply r = Client::Parse(out.Take());
    ASSERT_GE(r.count, 1u);
    uint32_t op = 0;
    ASSERT_EQ(r.Next(&op), 0u) << "SEQUENCE of round " << i;
    if (r.count >= 4) ++deep;
  }
  // Mutations must not all stop at the first operation, or the test proves little.
  EXPECT_GT(deep, 300) << "rounds that ran three operations or more";
  Client other(port());
  other.Establish("after");
  ExpectServed(other);
  ExpectServed(c);
}

}  // namespace
}  // namespace ovl::nfs4
