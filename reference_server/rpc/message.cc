#include "rpc/message.h"

#include <utility>

namespace ovl::rpc {
namespace {

constexpr uint32_t kMsgCall = 0;
constexpr uint32_t kMsgReply = 1;
constexpr uint32_t kMsgAccepted = 0;
constexpr uint32_t kMsgDenied = 1;
constexpr uint32_t kRejectRpcMismatch = 0;
constexpr uint32_t kRejectAuthError = 1;

// Parses an AUTH_SYS body (RFC 5531 appendix A), which must be consumed exactly.
bool ParseAuthSys(std::string_view body, CallContext* ctx) {
  xdr::Decoder d(body);
  uint32_t stamp = 0, ngids = 0;
  d.U32(&stamp);
  d.String(&ctx->machine, kMaxMachineName);
  d.U32(&ctx->uid);
  d.U32(&ctx->gid);
  if (!d.U32(&ngids) || ngids > kMaxAuthSysGids) return false;
  ctx->gids.resize(ngids);
  for (uint32_t& g : ctx->gids) d.U32(&g);
  return d.ok() && d.remaining() == 0;
}

ParsedCall Deny(ParsedCall call, CallVerdict verdict, AuthStat why = AuthStat::kOk) {
  call.verdict = verdict;
  call.auth_stat = why;
  return call;
}

void EncodeReplyStart(uint32_t xid, uint32_t reply_stat, xdr::Encoder* out) {
  out->U32(xid);
  out->U32(kMsgReply);
  out->U32(reply_stat);
}

}  // namespace

ParsedCall ParseCall(std::string_view record) {
  ParsedCall call;
  xdr::Decoder d(record);
  uint32_t msg_type = 0, rpcvers = 0;
  if (!d.U32(&call.ctx.xid) || !d.U32(&msg_type) || msg_type != kMsgCall || !d.U32(&rpcvers)) {
    return call;  // kDrop: a reply, or too short to be worth answering
  }
  // Checked before the rest so a peer speaking another RPC version learns which one we speak.
  if (rpcvers != kRpcVersion) return Deny(std::move(call), CallVerdict::kRpcMismatch);
  uint32_t cred_len = 0, verf_flavor = 0, verf_len = 0;
  if (!d.U32(&call.ctx.prog) || !d.U32(&call.ctx.vers) || !d.U32(&call.ctx.proc) ||
      !d.U32(&call.ctx.auth_flavor) || !d.U32(&cred_len)) {
    return ParsedCall();
  }
  if (cred_len > kMaxAuthBody) {
    return Deny(std::move(call), CallVerdict::kAuthError, AuthStat::kBadCred);
  }
  char cred[kMaxAuthBody];
  if (!d.FixedOpaque(cred, cred_len) || !d.U32(&verf_flavor) || !d.U32(&verf_len)) {
    return ParsedCall();
  }
  if (verf_len > kMaxAuthBody) {
    return Deny(std::move(call), CallVerdict::kAuthError, AuthStat::kBadVerf);
  }
  // The verifier is not checked: AUTH_NONE and AUTH_SYS calls carry no meaningful one.
  char verf[kMaxAuthBody];
  if (!d.FixedOpaque(verf, verf_len)) return ParsedCall();

  switch (call.ctx.auth_flavor) {
    case kAuthNone:
      if (cred_len != 0) return Deny(std::move(call), CallVerdict::kAuthError, AuthStat::kBadCred);
      break;
    case kAuthSys:
      if (!ParseAuthSys(std::string_view(cred, cred_len), &call.ctx)) {
        return Deny(std::move(call), CallVerdict::kAuthError, AuthStat::kBadCred);
      }
      break;
    default:
      return Deny(std::move(call), CallVerdict::kAuthError, AuthStat::kRejectedCred);
  }
  call.verdict = CallVerdict::kDispatch;
  call.args = d.rest();
  return call;
}

void EncodeAcceptedReply(uint32_t xid, AcceptStat stat, xdr::Encoder* out) {
  EncodeReplyStart(xid, kMsgAccepted, out);
  out->U32(kAuthNone);
  out->U32(0);  // empty verifier body
  out->U32(static_cast<uint32_t>(stat));
}

void EncodeProgMismatchReply(uint32_t xid, uint32_t low, uint32_t high, xdr::Encoder* out) {
  EncodeAcceptedReply(xid, AcceptStat::kProgMismatch, out);
  out->U32(low);
  out->U32(high);
}

void EncodeRpcMismatchReply(uint32_t xid, xdr::Encoder* out) {
  EncodeReplyStart(xid, kMsgDenied, out);
  out->U32(kRejectRpcMismatch);
  out->U32(kRpcVersion);
  out->U32(kRpcVersion);
}

void EncodeAuthErrorReply(uint32_t xid, AuthStat why, xdr::Encoder* out) {
  EncodeReplyStart(xid, kMsgDenied, out);
  out->U32(kRejectAuthError);
  out->U32(static_cast<uint32_t>(why));
}

void EncodeCallHeader(const CallHeader& h, xdr::Encoder* out) {
  out->U32(h.xid);
  out->U32(kMsgCall);
  out->U32(kRpcVersion);
  out->U32(h.prog);
  out->U32(h.vers);
  out->U32(h.proc);
  out->U32(h.cred_flavor);
  out->Opaque(h.cred_body);
  out->U32(kAuthNone);
  out->U32(0);
}

Result<Reply> ParseReply(std::string_view record) {
  Reply r;
  xdr::Decoder d(record);
  uint32_t msg_type = 0, reply_stat = 0;
  d.U32(&r.xid);
  if (!d.U32(&msg_type) || msg_type != kMsgReply || !d.U32(&reply_stat)) {
    return Status::Error(EBADMSG, "not an RPC reply");
  }
  if (reply_stat == kMsgAccepted) {
    r.accepted = true;
    uint32_t verf_flavor = 0, stat = 0;
    std::string verf;
    d.U32(&verf_flavor);
    d.Opaque(&verf, kMaxAuthBody);
    if (!d.U32(&stat) || stat > static_cast<uint32_t>(AcceptStat::kSystemErr)) {
      return Status::Error(EBADMSG, "bad accepted reply");
    }
    r.accept_stat = static_cast<AcceptStat>(stat);
    if (r.accept_stat == AcceptStat::kProgMismatch) {
      d.U32(&r.low);
      d.U32(&r.high);
    } else if (r.accept_stat == AcceptStat::kSuccess) {
      r.results = std::string(d.rest());
    }
  } else if (reply_stat == kMsgDenied) {
    uint32_t reject = 0;
    if (!d.U32(&reject)) return Status::Error(EBADMSG, "short denied reply");
    if (reject == kRejectRpcMismatch) {
      r.rpc_mismatch = true;
      d.U32(&r.low);
      d.U32(&r.high);
    } else if (reject == kRejectAuthError) {
      uint32_t why = 0;
      d.U32(&why);
      r.auth_stat = static_cast<AuthStat>(why);
    } else {
      return Status::Error(EBADMSG, "bad reject_stat");
    }
  } else {
    return Status::Error(EBADMSG, "bad reply_stat");
  }
  if (!d.ok()) return Status::Error(EBADMSG, "truncated RPC reply");
  return r;
}

}  // namespace ovl::rpc
