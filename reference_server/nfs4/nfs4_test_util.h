// Test-only: a small hand-written NFSv4.1 COMPOUND client over rpc::RpcClient (operations
// encoded through xdr/, replies read operation by operation), for the over-the-wire tests.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

#include "nfs4/fattr4.h"
#include "nfs4/nfs4_xdr.h"
#include "nfs4/state.h"
#include "rpc/client.h"

namespace ovl::nfs4::wire {

inline constexpr uint32_t kAuthSys = 1;

// An operation list being encoded.
class Ops {
 public:
  Ops& Raw(uint32_t op) {
    e_.U32(op);
    ++n_;
    return *this;
  }
  Ops& Sequence(const SessionId& sid, uint32_t seqid, uint32_t slot = 0) {
    Raw(static_cast<uint32_t>(Op::kSequence));
    e_.FixedOpaque(sid.data(), sid.size());
    e_.U32(seqid);
    e_.U32(slot);
    e_.U32(slot);
    e_.Bool(false);
    return *this;
  }
  Ops& Simple(Op op) { return Raw(static_cast<uint32_t>(op)); }
  Ops& Name(Op op, const std::string& name) {
    Raw(static_cast<uint32_t>(op));
    e_.String(name);
    return *this;
  }
  Ops& PutFh(const std::string& fh) {
    Raw(static_cast<uint32_t>(Op::kPutFh));
    e_.Opaque(fh);
    return *this;
  }
  Ops& GetAttr(std::initializer_list<uint32_t> bits) {
    Raw(static_cast<uint32_t>(Op::kGetAttr));
    Bitmap4 b;
    for (uint32_t bit : bits) b.Set(bit);
    EncodeBitmap4(e_, b);
    return *this;
  }
  // OPEN of `name` in the current directory (CLAIM_NULL), creating it UNCHECKED4 with `mode`
  // when `create`.
  Ops& Open(const std::string& name, uint32_t access, bool create, uint32_t mode = 0644,
            const std::string& owner = "owner") {
    OpenHead(access, owner);
    e_.U32(create ? 1 : 0);
    if (create) {
      e_.U32(0);  // UNCHECKED4
      Bitmap4 b;
      b.Set(fattr::kMode);
      EncodeBitmap4(e_, b);
      xdr::Encoder v;
      v.U32(mode);
      e_.Opaque(v.bytes());
    }
    e_.U32(0);  // CLAIM_NULL
    e_.String(name);
    return *this;
  }
  // OPEN of the current filehandle with CLAIM_PREVIOUS.
  Ops& OpenPrevious(uint32_t access, const std::string& owner = "owner") {
    OpenHead(access, owner);
    e_.U32(0);  // NOCREATE
    e_.U32(1);  // CLAIM_PREVIOUS
    e_.U32(0);  // delegation type NONE
    return *this;
  }
  Ops& Stateid(Op op, const nfs4::Stateid& s) {
    Raw(static_cast<uint32_t>(op));
    EncodeStateid(e_, s);
    return *this;
  }
  Ops& Close(const nfs4::Stateid& s) {
    Raw(static_cast<uint32_t>(Op::kClose));
    e_.U32(0);
    EncodeStateid(e_, s);
    return *this;
  }
  Ops& Write(const nfs4::Stateid& s, uint64_t offset, const std::string& data,
             uint32_t stable = 2) {
    Stateid(Op::kWrite, s);
    e_.U64(offset);
    e_.U32(stable);
    e_.Opaque(data);
    return *this;
  }
  Ops& Read(const nfs4::Stateid& s, uint64_t offset, uint32_t count) {
    Stateid(Op::kRead, s);
    e_.U64(offset);
    e_.U32(count);
    return *this;
  }
  Ops& Append(const Ops& o) {
    e_.FixedOpaque(o.bytes().data(), o.bytes().size());
    n_ += o.count();
    return *this;
  }
  xdr::Encoder& enc() { return e_; }
  uint32_t count() const { return n_; }
  const std::string& bytes() const { return e_.bytes(); }

 private:
  void OpenHead(uint32_t access, const std::string& owner) {
    Raw(static_cast<uint32_t>(Op::kOpen));
    e_.U32(0);  // seqid, ignored in 4.1
    e_.U32(access);
    e_.U32(0);  // deny none
    e_.U64(0);  // clientid, ignored in 4.1
    e_.Opaque(owner);
  }
  xdr::Encoder e_;
  uint32_t n_ = 0;
};

// A COMPOUND reply being read operation by operation.
struct Reply {
  std::string raw;
  uint32_t status = 0xffffffff;
  uint32_t count = 0;
  xdr::Decoder in{""};

  // Reads the next result's header: op number and status.
  uint32_t Next(uint32_t* op = nullptr) {
    uint32_t o = 0, st = 0xffffffff;
    EXPECT_TRUE(in.U32(&o) && in.U32(&st));
    if (op) *op = o;
    return st;
  }
  void SkipSequence() {
    EXPECT_EQ(Next(), 0u);
    SessionId sid;
    uint32_t w = 0;
    EXPECT_TRUE(in.FixedOpaque(sid.data(), sid.size()));
    for (int i = 0; i < 5; ++i) EXPECT_TRUE(in.U32(&w));
  }
  std::string Fh() {
    std::string fh;
    EXPECT_TRUE(in.Opaque(&fh, 128));
    return fh;
  }
  nfs4::Stateid ReadStateid() {
    nfs4::Stateid s;
    EXPECT_TRUE(DecodeStateid(in, &s));
    return s;
  }
  // The rest of a successful OPEN after its stateid: cinfo, rflags, attrset, delegation.
  void SkipOpenTail() {
    uint64_t w64 = 0;
    uint32_t w = 0;
    bool atomic = false;
    Bitmap4 b;
    EXPECT_TRUE(in.Bool(&atomic) && in.U64(&w64) && in.U64(&w64) && in.U32(&w) &&
                DecodeBitmap4(in, &b) && in.U32(&w));
  }
  // A GETATTR result's values, by attribute, for the fixed-size ones this test reads.
  std::map<uint32_t, uint64_t> Attrs() {
    Bitmap4 b;
    std::string values;
    EXPECT_TRUE(DecodeBitmap4(in, &b) && in.Opaque(&values, 1 << 16));
    xdr::Decoder v(values);
    std::map<uint32_t, uint64_t> out;
    for (uint32_t bit = 0; bit < 96; ++bit) {
      if (!b.Has(bit)) continue;
      uint32_t w = 0;
      uint64_t d = 0;
      std::string s;
      switch (bit) {
        case fattr::kType:
        case fattr::kMode:
        case fattr::kNumLinks:
        case fattr::kLeaseTime:
          EXPECT_TRUE(v.U32(&w));
          out[bit] = w;
          break;
        case fattr::kChange:
        case fattr::kSize:
        case fattr::kFileid:
        case fattr::kMountedOnFileid:
        case fattr::kSpaceUsed:
          EXPECT_TRUE(v.U64(&d));
          out[bit] = d;
          break;
        case fattr::kOwner:
        case fattr::kOwnerGroup:
          EXPECT_TRUE(v.String(&s, 64));
          out[bit] = std::stoull(s);
          break;
        default:
          ADD_FAILURE() << "attribute " << bit << " not parsed by the test";
      }
    }
    return out;
  }
};

class Client {
 public:
  explicit Client(uint16_t port) {
    auto c = rpc::RpcClient::Connect("127.0.0.1", port);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    if (c.ok()) rpc_ = std::move(c).value();
  }

  // Sends raw COMPOUND (or other procedure) arguments and returns the results bytes.
  std::string CallRaw(const std::string& args, uint32_t vers = 4, uint32_t proc = 1) {
    rpc::CallHeader h;
    h.xid = ++xid_;
    h.prog = 100003;
    h.vers = vers;
    h.proc = proc;
    h.cred_flavor = kAuthSys;
    xdr::Encoder cred;
    cred.U32(0);
    cred.String("test");
    cred.U32(0);
    cred.U32(0);
    cred.U32(0);
    h.cred_body = cred.Take();
    Result<rpc::Reply> r = rpc_->Call(h, args);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return "";
    EXPECT_EQ(r->accept_stat, rpc::AcceptStat::kSuccess);
    return r->results;
  }

  static std::string CompoundArgs(const Ops& ops, uint32_t minor = 1,
                                  const std::string& tag = "t") {
    xdr::Encoder e;
    e.String(tag);
    e.U32(minor);
    e.U32(ops.count());
    e.FixedOpaque(ops.bytes().data(), ops.bytes().size());
    return e.Take();
  }

  Reply Compound(const Ops& ops, uint32_t minor = 1) {
    return Parse(CallRaw(CompoundArgs(ops, minor)));
  }

  static Reply Parse(std::string raw) {
    Reply r;
    r.raw = std::move(raw);
    r.in = xdr::Decoder(r.raw);
    std::string tag;
    EXPECT_TRUE(r.in.U32(&r.status) && r.in.String(&tag, 4096) && r.in.U32(&r.count));
    return r;
  }

  // EXCHANGE_ID and CREATE_SESSION, asking for `max_ops` and `max_request`.
  void Establish(const std::string& owner, uint32_t max_ops = 16, uint32_t max_request = 1 << 20,
                 uint8_t verifier = 1) {
    Ops x;
    x.Simple(Op::kExchangeId);
    Verifier v{verifier};
    x.enc().FixedOpaque(v.data(), v.size());
    x.enc().Opaque(owner);
    x.enc().U32(0);  // flags
    x.enc().U32(0);  // SP4_NONE
    x.enc().U32(0);  // no implementation id
    Reply r = Compound(x);
    ASSERT_EQ(r.status, 0u);
    ASSERT_EQ(r.Next(), 0u);
    uint32_t seq = 0;
    ASSERT_TRUE(r.in.U64(&clientid) && r.in.U32(&seq));
    Ops cs;
    cs.Simple(Op::kCreateSession);
    cs.enc().U64(clientid);
    cs.enc().U32(seq);
    cs.enc().U32(0);
    for (int chan = 0; chan < 2; ++chan) {
      for (uint32_t w : {0u, max_request, 1u << 20, 4096u, max_ops, 8u, 0u}) cs.enc().U32(w);
    }
    cs.enc().U32(0x40000000);  // callback program
    cs.enc().U32(1);           // one callback_sec_parms4: AUTH_NONE
    cs.enc().U32(0);
    Reply s = Compound(cs);
    ASSERT_EQ(s.status, 0u);
    ASSERT_EQ(s.Next(), 0u);
    ASSERT_TRUE(s.in.FixedOpaque(session.data(), session.size()));
    uint32_t w = 0;
    ASSERT_TRUE(s.in.U32(&w) && s.in.U32(&w));
    for (uint32_t* field : {&w, &fore_max_request, &w, &w, &fore_max_ops, &fore_slots}) {
      ASSERT_TRUE(s.in.U32(field));
    }
    seqid = 0;
  }

  // A compound in the session: SEQUENCE on slot 0 with the next seqid, then `ops`.
  Reply InSession(const Ops& ops) {
    Ops all;
    all.Sequence(session, ++seqid).Append(ops);
    Reply r = Compound(all);
    return r;
  }
  // As InSession, expecting SEQUENCE to succeed and skipping its result.
  Reply Run(const Ops& ops) {
    Reply r = InSession(ops);
    r.SkipSequence();
    return r;
  }

  uint64_t clientid = 0;
  SessionId session{};
  uint32_t seqid = 0;
  uint32_t fore_max_request = 0, fore_max_ops = 0, fore_slots = 0;

 private:
  std::unique_ptr<rpc::RpcClient> rpc_;
  uint32_t xid_ = 0;
};

inline uint32_t St(Nfsstat4 s) {
  return static_cast<uint32_t>(s);
}

}  // namespace ovl::nfs4::wire
