// libFuzzer target: NFSv4.1 COMPOUND (reference_server/nfs4) through Nfs4Program::Call on a real
// union. The program lives across inputs with one session made at its start, so the operations
// behind SEQUENCE are reachable: unless the header's bit 5 is set, the target puts SEQUENCE (the
// session, slot 0, the next seqid) in front of the input's operations. Input: a header byte
// (low 4 bits: how many operations the input holds, 0..15; bit 5: send the input as a whole
// COMPOUND argument instead, header and SEQUENCE its own; bit 6: AUTH_NONE; bit 7: uid/gid 1000)
// and the operations' bytes, with the placeholders of union_fixture.h substituted.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "nfs4/nfs4_program.h"
#include "union_fixture.h"

namespace {

using ovl::nfs4::Op;

ovl::rpc::CallContext Context(uint8_t header) {
  ovl::rpc::CallContext ctx;
  ctx.prog = 100003;
  ctx.vers = ovl::nfs4::kNfs4Version;
  ctx.proc = 1;  // COMPOUND
  ctx.auth_flavor = (header & 0x40) != 0 ? ovl::rpc::kAuthNone : ovl::rpc::kAuthSys;
  ctx.uid = ctx.gid = (header & 0x80) != 0 ? 1000 : 0;
  ctx.peer_ipv4 = 0x7f000001;
  ctx.peer_port = 700;
  return ctx;
}

// COMPOUND4args: empty tag, minor version 1, `count` operations, then `ops`.
std::string Compound(uint32_t count, const std::string& ops) {
  ovl::xdr::Encoder e;
  e.String("");
  e.U32(1);
  e.U32(count);
  e.FixedOpaque(ops.data(), ops.size());
  return e.bytes();
}

std::string Call(ovl::nfs4::Nfs4Program& program, const std::string& args, uint8_t header) {
  ovl::xdr::Decoder in(args);
  ovl::xdr::Encoder out;
  const ovl::rpc::AcceptStat stat = program.Call(Context(header), in, out);
  if (static_cast<uint32_t>(stat) > static_cast<uint32_t>(ovl::rpc::AcceptStat::kSystemErr)) {
    std::fprintf(stderr, "nfs4_compound_fuzz: accept status out of range\n");
    std::abort();
  }
  return out.bytes();
}

// A program on the fixture's current union with one session; aborts when it cannot make one.
struct Session {
  std::unique_ptr<ovl::nfs4::Nfs4Program> program;
  ovl::nfs4::SessionId id{};
  uint32_t seqid = 0;
  ovl::UnionFs* fs = nullptr;
};

void Open(ovl::fuzz::UnionFixture& fixture, Session* s) {
  auto program =
      ovl::nfs4::Nfs4Program::Create(fixture.fs(), fixture.policy(), {1, 2, 3, 4, 5, 6, 7, 8}, {});
  if (!program.ok()) std::abort();
  s->program = std::move(*program);
  s->fs = fixture.fs();
  s->seqid = 0;
  ovl::xdr::Encoder x;
  x.U32(static_cast<uint32_t>(Op::kExchangeId));
  const ovl::nfs4::Verifier v{1};
  x.FixedOpaque(v.data(), v.size());
  x.Opaque(std::string("fuzz"));
  x.U32(0);  // flags
  x.U32(0);  // SP4_NONE
  x.U32(0);  // no implementation id
  // The replies outlive their decoders, which only view them.
  const std::string exchanged = Call(*s->program, Compound(1, x.bytes()), 0);
  ovl::xdr::Decoder r(exchanged);
  std::string tag;
  uint32_t status = 1, count = 0, op = 0, op_status = 1, seq = 0;
  uint64_t clientid = 0;
  if (!r.U32(&status) || !r.String(&tag, 64) || !r.U32(&count) || !r.U32(&op) ||
      !r.U32(&op_status) || !r.U64(&clientid) || !r.U32(&seq) || status != 0) {
    std::abort();
  }
  ovl::xdr::Encoder c;
  c.U32(static_cast<uint32_t>(Op::kCreateSession));
  c.U64(clientid);
  c.U32(seq);
  c.U32(0);  // flags
  for (int chan = 0; chan < 2; ++chan) {
    for (uint32_t w : {0u, 1u << 20, 1u << 20, 4096u, 16u, 8u, 0u}) c.U32(w);
  }
  c.U32(0x40000000);  // callback program
  c.U32(1);           // one callback_sec_parms4: AUTH_NONE
  c.U32(0);
  const std::string created = Call(*s->program, Compound(1, c.bytes()), 0);
  ovl::xdr::Decoder cr(created);
  if (!cr.U32(&status) || !cr.String(&tag, 64) || !cr.U32(&count) || !cr.U32(&op) ||
      !cr.U32(&op_status) || status != 0 || !cr.FixedOpaque(s->id.data(), s->id.size())) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Static objects, not leaked pointers: the fixture's destructor removes the layers at exit.
  static ovl::fuzz::UnionFixture fixture;
  static Session session;
  if (size == 0) return 0;
  fixture.BeforeCall();
  if (session.fs != fixture.fs()) Open(fixture, &session);  // a fresh union: a fresh program
  const uint8_t header = data[0];
  const std::string body =
      fixture.Substitute(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
  if ((header & 0x20) != 0) {
    (void)Call(*session.program, body, header);
    return 0;
  }
  ovl::xdr::Encoder ops;
  ops.U32(static_cast<uint32_t>(Op::kSequence));
  ops.FixedOpaque(session.id.data(), session.id.size());
  ops.U32(++session.seqid);
  ops.U32(0);  // slot
  ops.U32(0);  // highest slot
  ops.Bool(false);
  ops.FixedOpaque(body.data(), body.size());
  const std::string reply =
      Call(*session.program, Compound(1 + (header & 0x0f), ops.bytes()), header);
  ovl::xdr::Decoder r(reply);
  // The slot's seqid moves on only when SEQUENCE itself succeeded.
  std::string tag;
  uint32_t status = 0, count = 0, op = 0, sequence_status = 1;
  if (!r.U32(&status) || !r.String(&tag, 64) || !r.U32(&count) || count == 0 || !r.U32(&op) ||
      !r.U32(&sequence_status) || sequence_status != 0) {
    --session.seqid;
  }
  return 0;
}
