// Client ids and sessions: EXCHANGE_ID, CREATE_SESSION, DESTROY_SESSION, DESTROY_CLIENTID,
// BIND_CONN_TO_SESSION, RECLAIM_COMPLETE (RFC 8881 sections 18.33 to 18.51).
#include "nfs4/nfs4_program.h"

namespace ovl::nfs4 {

namespace {

constexpr uint32_t kSp4None = 0;
constexpr uint32_t kExchgIdFlagConfirmedR = 0x80000000;
constexpr uint32_t kExchgIdFlagUseNonPnfs = 0x00010000;
constexpr uint32_t kCdfsFore = 1;
// AUTH_NONE, AUTH_SYS and RPCSEC_GSS arms of callback_sec_parms4.
constexpr uint32_t kAuthNone = 0, kAuthSys = 1, kRpcSecGss = 6;

bool DecodeChannelAttrs(xdr::Decoder& in, ChannelAttrs* a) {
  uint32_t rdma = 0, ird = 0;
  if (!in.U32(&a->header_pad) || !in.U32(&a->max_request) || !in.U32(&a->max_response) ||
      !in.U32(&a->max_response_cached) || !in.U32(&a->max_ops) || !in.U32(&a->max_requests) ||
      !in.U32(&rdma) || rdma > 1) {
    return false;
  }
  return rdma == 0 || in.U32(&ird);
}

void EncodeChannelAttrs(xdr::Encoder& out, const ChannelAttrs& a) {
  out.U32(0);  // header pad
  out.U32(a.max_request);
  out.U32(a.max_response);
  out.U32(a.max_response_cached);
  out.U32(a.max_ops);
  out.U32(a.max_requests);
  out.U32(0);  // no RDMA
}

// callback_sec_parms4<>: decoded only to be skipped (no back channel is offered).
bool SkipCallbackSec(xdr::Decoder& in) {
  uint32_t n = 0;
  if (!in.U32(&n) || n > 16) return false;
  for (uint32_t i = 0; i < n; ++i) {
    uint32_t flavor = 0, word = 0;
    std::string s;
    if (!in.U32(&flavor)) return false;
    if (flavor == kAuthNone) continue;
    if (flavor == kAuthSys) {
      uint32_t ngids = 0;
      if (!in.U32(&word) || !in.String(&s, 255) || !in.U32(&word) || !in.U32(&word) ||
          !in.U32(&ngids) || ngids > 16) {
        return false;
      }
      for (uint32_t g = 0; g < ngids; ++g) {
        if (!in.U32(&word)) return false;
      }
    } else if (flavor == kRpcSecGss) {
      if (!in.U32(&word) || !in.Opaque(&s, kOpaqueLimit) || !in.Opaque(&s, kOpaqueLimit)) {
        return false;
      }
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace

Nfsstat4 Nfs4Program::ExchangeId(Compound& /*c*/, xdr::Decoder& in, xdr::Encoder& out) {
  Verifier verf{};
  std::string owner, s;
  uint32_t flags = 0, how = 0, nimpl = 0;
  if (!in.FixedOpaque(verf.data(), verf.size()) || !in.Opaque(&owner, kOpaqueLimit) ||
      !in.U32(&flags) || !in.U32(&how)) {
    return Nfsstat4::kBadXdr;
  }
  // Only SP4_NONE: Linux asks for SP4_MACH_CRED only with Kerberos, and falls back.
  if (how != kSp4None) return Nfsstat4::kNotSupp;
  if (!in.U32(&nimpl) || nimpl > 1) return Nfsstat4::kBadXdr;
  if (nimpl == 1) {
    uint64_t sec = 0;
    uint32_t nsec = 0;
    if (!in.String(&s, kOpaqueLimit) || !in.String(&s, kOpaqueLimit) || !in.U64(&sec) ||
        !in.U32(&nsec)) {
      return Nfsstat4::kBadXdr;
    }
  }
  if (owner.empty()) return Nfsstat4::kInval;
  Nfs4State::Exchanged ex;
  if (Nfsstat4 st = state_->ExchangeId(owner, verf, &ex); st != Nfsstat4::kOk) return st;
  out.U64(ex.clientid);
  out.U32(ex.sequence);
  out.U32(kExchgIdFlagUseNonPnfs | (ex.confirmed ? kExchgIdFlagConfirmedR : 0));
  out.U32(kSp4None);
  out.U64(0);                 // so_minor_id
  out.Opaque(server_owner_);  // so_major_id
  out.Opaque(server_owner_);  // server scope
  out.U32(0);                 // no implementation id
  return Nfsstat4::kOk;
}

Nfsstat4 Nfs4Program::CreateSession(Compound& /*c*/, xdr::Decoder& in, xdr::Encoder& out) {
  uint64_t clientid = 0;
  uint32_t sequence = 0, flags = 0, cb_program = 0;
  ChannelAttrs fore, back;
  if (!in.U64(&clientid) || !in.U32(&sequence) || !in.U32(&flags) ||
      !DecodeChannelAttrs(in, &fore) || !DecodeChannelAttrs(in, &back) || !in.U32(&cb_program) ||
      !SkipCallbackSec(in)) {
    return Nfsstat4::kBadXdr;
  }
  Nfs4State::Created made;
  if (Nfsstat4 st = state_->CreateSession(clientid, sequence, fore, &made); st != Nfsstat4::kOk) {
    return st;
  }
  out.FixedOpaque(made.id.data(), made.id.size());
  out.U32(made.sequence);
  out.U32(0);  // flags: not persistent, no back channel
  EncodeChannelAttrs(out, made.fore);
  EncodeChannelAttrs(out, back);  // the back channel is unused: its attributes are echoed
  return Nfsstat4::kOk;
}

Nfsstat4 Nfs4Program::DestroySession(Compound& /*c*/, xdr::Decoder& in, xdr::Encoder& /*out*/) {
  SessionId sid{};
  if (!in.FixedOpaque(sid.data(), sid.size())) return Nfsstat4::kBadXdr;
  return state_->DestroySession(sid);
}

Nfsstat4 Nfs4Program::DestroyClientId(Compound& /*c*/, xdr::Decoder& in, xdr::Encoder& /*out*/) {
  uint64_t clientid = 0;
  if (!in.U64(&clientid)) return Nfsstat4::kBadXdr;
  return state_->DestroyClientId(clientid);
}

Nfsstat4 Nfs4Program::BindConnToSession(Compound& /*c*/, xdr::Decoder& in, xdr::Encoder& out) {
  SessionId sid{};
  uint32_t dir = 0;
  bool rdma = false;
  if (!in.FixedOpaque(sid.data(), sid.size()) || !in.U32(&dir) || !in.Bool(&rdma)) {
    return Nfsstat4::kBadXdr;
  }
  // Any connection may carry any session's fore channel here, so binding only checks the
  // session; the back channel is never offered.
  if (Nfsstat4 st = state_->CheckSession(sid); st != Nfsstat4::kOk) return st;
  out.FixedOpaque(sid.data(), sid.size());
  out.U32(kCdfsFore);
  out.Bool(false);
  return Nfsstat4::kOk;
}

Nfsstat4 Nfs4Program::ReclaimComplete(Compound& c, xdr::Decoder& in, xdr::Encoder& /*out*/) {
  bool one_fs = false;
  if (!in.Bool(&one_fs)) return Nfsstat4::kBadXdr;
  // With one_fs the client speaks of the current filehandle's filesystem only; there is one.
  if (one_fs) return Nfsstat4::kOk;
  return state_->ReclaimComplete(c.clientid);
}

Nfsstat4 Nfs4Program::SequenceInside(Compound& /*c*/, xdr::Decoder& /*in*/, xdr::Encoder& /*out*/) {
  return Nfsstat4::kSequencePos;
}

}  // namespace ovl::nfs4
