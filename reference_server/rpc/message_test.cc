#include "rpc/message.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace ovl::rpc {
namespace {

struct RawCall {
  uint32_t xid = 7, msg_type = 0, rpcvers = 2, prog = 100003, vers = 3, proc = 1;
  uint32_t cred_flavor = kAuthNone;
  std::string cred_body;
  uint32_t verf_flavor = kAuthNone;
  std::string verf_body;
  std::string args;

  std::string Encode() const {
    xdr::Encoder e;
    for (uint32_t v : {xid, msg_type, rpcvers, prog, vers, proc, cred_flavor}) e.U32(v);
    e.Opaque(cred_body);
    e.U32(verf_flavor);
    e.Opaque(verf_body);
    return e.Take() + args;
  }
};

std::string AuthSys(uint32_t uid, uint32_t gid, std::vector<uint32_t> gids, std::string machine) {
  xdr::Encoder e;
  e.U32(12345);  // stamp
  e.String(machine);
  e.U32(uid);
  e.U32(gid);
  e.U32(static_cast<uint32_t>(gids.size()));
  for (uint32_t g : gids) e.U32(g);
  return e.Take();
}

TEST(ParseCallTest, AuthNoneCall) {
  RawCall c;
  c.args = "ARGS";
  std::string record = c.Encode();  // p.args points into it
  ParsedCall p = ParseCall(record);
  ASSERT_EQ(p.verdict, CallVerdict::kDispatch);
  EXPECT_EQ(p.ctx.xid, 7u);
  EXPECT_EQ(p.ctx.prog, 100003u);
  EXPECT_EQ(p.ctx.vers, 3u);
  EXPECT_EQ(p.ctx.proc, 1u);
  EXPECT_EQ(p.ctx.auth_flavor, kAuthNone);
  EXPECT_EQ(p.args, "ARGS");
}

TEST(ParseCallTest, AuthSysCredential) {
  RawCall c;
  c.cred_flavor = kAuthSys;
  c.cred_body = AuthSys(1000, 100, {4, 24, 27}, "client.example");
  c.verf_flavor = kAuthSys;  // ignored, as long as it is well formed
  c.verf_body = "verf";
  std::string record = c.Encode();
  ParsedCall p = ParseCall(record);
  ASSERT_EQ(p.verdict, CallVerdict::kDispatch);
  EXPECT_EQ(p.ctx.auth_flavor, kAuthSys);
  EXPECT_EQ(p.ctx.uid, 1000u);
  EXPECT_EQ(p.ctx.gid, 100u);
  EXPECT_EQ(p.ctx.gids, (std::vector<uint32_t>{4, 24, 27}));
  EXPECT_EQ(p.ctx.machine, "client.example");
  EXPECT_EQ(p.args, "");
}

TEST(ParseCallTest, AuthSysAtItsLimits) {
  RawCall c;
  c.cred_flavor = kAuthSys;
  c.cred_body = AuthSys(0, 0, std::vector<uint32_t>(16, 5), std::string(255, 'm'));
  ASSERT_LE(c.cred_body.size(), kMaxAuthBody);
  ParsedCall p = ParseCall(c.Encode());
  ASSERT_EQ(p.verdict, CallVerdict::kDispatch);
  EXPECT_EQ(p.ctx.gids.size(), 16u);
  EXPECT_EQ(p.ctx.machine.size(), 255u);
}

TEST(ParseCallTest, DropsRecordsTooShortForAHeader) {
  RawCall c;
  c.cred_flavor = kAuthSys;
  c.cred_body = AuthSys(1, 2, {3}, "m");
  std::string full = c.Encode();
  for (size_t cut = 0; cut < full.size(); ++cut) {
    ParsedCall p = ParseCall(std::string_view(full).substr(0, cut));
    EXPECT_EQ(p.verdict, CallVerdict::kDrop) << cut;
  }
}

TEST(ParseCallTest, DropsReplies) {
  RawCall c;
  c.msg_type = 1;
  EXPECT_EQ(ParseCall(c.Encode()).verdict, CallVerdict::kDrop);
  c.msg_type = 7;
  EXPECT_EQ(ParseCall(c.Encode()).verdict, CallVerdict::kDrop);
}

TEST(ParseCallTest, BadRpcVersionIsMismatch) {
  for (uint32_t v : {0u, 1u, 3u, 0xffffffffu}) {
    RawCall c;
    c.rpcvers = v;
    ParsedCall p = ParseCall(c.Encode());
    EXPECT_EQ(p.verdict, CallVerdict::kRpcMismatch) << v;
    EXPECT_EQ(p.ctx.xid, 7u);
  }
  // Answered even when nothing follows the version.
  xdr::Encoder e;
  e.U32(9);
  e.U32(0);
  e.U32(3);
  ParsedCall p = ParseCall(e.bytes());
  EXPECT_EQ(p.verdict, CallVerdict::kRpcMismatch);
  EXPECT_EQ(p.ctx.xid, 9u);
}

TEST(ParseCallTest, MalformedAuthSysIsBadCred) {
  std::vector<std::string> bodies = {
      "",                                                // empty
      AuthSys(1, 2, {}, "m").substr(0, 12),              // truncated
      AuthSys(1, 2, {}, "m") + std::string(4, '\0'),     // trailing bytes
      AuthSys(1, 2, std::vector<uint32_t>(17, 1), "m"),  // 17 gids
      AuthSys(1, 2, {}, std::string(256, 'm')),          // machine name too long
  };
  for (size_t i = 0; i < bodies.size(); ++i) {
    RawCall c;
    c.cred_flavor = kAuthSys;
    c.cred_body = bodies[i];
    ParsedCall p = ParseCall(c.Encode());
    EXPECT_EQ(p.verdict, CallVerdict::kAuthError) << i;
    EXPECT_EQ(p.auth_stat, AuthStat::kBadCred) << i;
  }
}

TEST(ParseCallTest, OversizeCredentialIsBadCred) {
  RawCall c;
  c.cred_flavor = kAuthSys;
  c.cred_body = std::string(kMaxAuthBody + 4, 'x');
  ParsedCall p = ParseCall(c.Encode());
  EXPECT_EQ(p.verdict, CallVerdict::kAuthError);
  EXPECT_EQ(p.auth_stat, AuthStat::kBadCred);
}

TEST(ParseCallTest, AuthNoneWithBodyIsBadCred) {
  RawCall c;
  c.cred_body = "abcd";
  ParsedCall p = ParseCall(c.Encode());
  EXPECT_EQ(p.verdict, CallVerdict::kAuthError);
  EXPECT_EQ(p.auth_stat, AuthStat::kBadCred);
}

TEST(ParseCallTest, OversizeVerifierIsBadVerf) {
  RawCall c;
  c.verf_body = std::string(kMaxAuthBody + 1, 'v');
  ParsedCall p = ParseCall(c.Encode());
  EXPECT_EQ(p.verdict, CallVerdict::kAuthError);
  EXPECT_EQ(p.auth_stat, AuthStat::kBadVerf);
}

TEST(ParseCallTest, OtherFlavorsAreRejectedCred) {
  for (uint32_t flavor : {2u, 3u, 6u, 390003u}) {
    RawCall c;
    c.cred_flavor = flavor;
    c.cred_body = "somebody";
    ParsedCall p = ParseCall(c.Encode());
    EXPECT_EQ(p.verdict, CallVerdict::kAuthError) << flavor;
    EXPECT_EQ(p.auth_stat, AuthStat::kRejectedCred) << flavor;
  }
}

TEST(ParseCallTest, RandomGarbageNeverCrashes) {
  std::mt19937 rng(42);
  RawCall base;
  base.cred_flavor = kAuthSys;
  base.cred_body = AuthSys(1, 2, {3, 4}, "host");
  std::string good = base.Encode();
  for (int i = 0; i < 20000; ++i) {
    std::string s = good;
    // Flip a few bytes of a valid call, or use pure noise.
    if (i % 2 == 0) {
      for (int k = 0; k < 3; ++k) s[rng() % s.size()] = static_cast<char>(rng());
    } else {
      s.resize(rng() % 128);
      for (char& ch : s) ch = static_cast<char>(rng());
    }
    ParsedCall p = ParseCall(s);
    if (p.verdict == CallVerdict::kDispatch) {
      EXPECT_LE(p.args.size(), s.size());
    }
  }
}

TEST(ReplyTest, AcceptedReplyRoundTrip) {
  xdr::Encoder e;
  EncodeAcceptedReply(5, AcceptStat::kSuccess, &e);
  e.U32(99);
  auto r = ParseReply(e.bytes());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->xid, 5u);
  EXPECT_TRUE(r->accepted);
  EXPECT_EQ(r->accept_stat, AcceptStat::kSuccess);
  EXPECT_EQ(r->results, std::string("\0\0\0\x63", 4));
}

TEST(ReplyTest, AcceptedReplyWireFormat) {
  xdr::Encoder e;
  EncodeAcceptedReply(0x01020304, AcceptStat::kGarbageArgs, &e);
  // xid, REPLY, MSG_ACCEPTED, verifier AUTH_NONE with empty body, GARBAGE_ARGS.
  EXPECT_EQ(e.bytes(), std::string("\x01\x02\x03\x04"
                                   "\0\0\0\x01"
                                   "\0\0\0\0"
                                   "\0\0\0\0"
                                   "\0\0\0\0"
                                   "\0\0\0\x04",
                                   24));
}

TEST(ReplyTest, ProgMismatchCarriesRange) {
  xdr::Encoder e;
  EncodeProgMismatchReply(6, 2, 3, &e);
  auto r = ParseReply(e.bytes());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->accept_stat, AcceptStat::kProgMismatch);
  EXPECT_EQ(r->low, 2u);
  EXPECT_EQ(r->high, 3u);
}

TEST(ReplyTest, DeniedReplies) {
  xdr::Encoder e;
  EncodeRpcMismatchReply(8, &e);
  auto r = ParseReply(e.bytes());
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->accepted);
  EXPECT_TRUE(r->rpc_mismatch);
  EXPECT_EQ(r->low, 2u);
  EXPECT_EQ(r->high, 2u);

  xdr::Encoder f;
  EncodeAuthErrorReply(9, AuthStat::kRejectedCred, &f);
  r = ParseReply(f.bytes());
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->accepted);
  EXPECT_FALSE(r->rpc_mismatch);
  EXPECT_EQ(r->auth_stat, AuthStat::kRejectedCred);
}

TEST(ReplyTest, CallHeaderRoundTripsThroughParseCall) {
  CallHeader h;
  h.xid = 11;
  h.prog = 100005;
  h.vers = 3;
  h.proc = 1;
  h.cred_flavor = kAuthSys;
  h.cred_body = AuthSys(7, 8, {9}, "x");
  xdr::Encoder e;
  EncodeCallHeader(h, &e);
  ParsedCall p = ParseCall(e.bytes());
  ASSERT_EQ(p.verdict, CallVerdict::kDispatch);
  EXPECT_EQ(p.ctx.xid, 11u);
  EXPECT_EQ(p.ctx.prog, 100005u);
  EXPECT_EQ(p.ctx.uid, 7u);
}

TEST(ReplyTest, MalformedRepliesFail) {
  EXPECT_FALSE(ParseReply("").ok());
  xdr::Encoder e;
  EncodeAcceptedReply(1, AcceptStat::kProgMismatch, &e);  // range missing
  EXPECT_FALSE(ParseReply(e.bytes()).ok());
}

}  // namespace
}  // namespace ovl::rpc
