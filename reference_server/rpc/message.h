// ONC RPC v2 message headers (RFC 5531 sec 9): parsing calls and encoding replies on the server
// side, and the mirror image (encoding calls, parsing replies) for the small client.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "rpc/program.h"
#include "xdr/xdr.h"

namespace ovl::rpc {

inline constexpr uint32_t kRpcVersion = 2;
// RFC 5531 caps credential and verifier bodies at 400 bytes.
inline constexpr uint32_t kMaxAuthBody = 400;
// AUTH_SYS limits (RFC 5531 appendix A).
inline constexpr uint32_t kMaxMachineName = 255;
inline constexpr uint32_t kMaxAuthSysGids = 16;

enum class AuthStat : uint32_t {
  kOk = 0,
  kBadCred = 1,
  kRejectedCred = 2,
  kBadVerf = 3,
  kRejectedVerf = 4,
  kTooWeak = 5,
};

// What the transport does with a received record.
enum class CallVerdict {
  kDispatch,     // a well-formed call: run it
  kDrop,         // not a call, or too short to reply to: ignore it, keep the connection
  kRpcMismatch,  // rpcvers != 2: reply MSG_DENIED RPC_MISMATCH
  kAuthError,    // bad or unsupported credential: reply MSG_DENIED AUTH_ERROR auth_stat
};

struct ParsedCall {
  CallVerdict verdict = CallVerdict::kDrop;
  AuthStat auth_stat = AuthStat::kOk;  // set for kAuthError
  // xid is set for every verdict but kDrop; the rest for kDispatch. Peer fields stay zero.
  CallContext ctx;
  // The argument bytes (a view into the record) for kDispatch.
  std::string_view args;
};

// Parses the call header and credential at the start of `record`. Never reads past it.
ParsedCall ParseCall(std::string_view record);

// Reply encoders: each appends one reply message (no record mark) to `out`.
// MSG_ACCEPTED with an AUTH_NONE verifier; for kSuccess the caller appends the results.
void EncodeAcceptedReply(uint32_t xid, AcceptStat stat, xdr::Encoder* out);
// MSG_ACCEPTED PROG_MISMATCH with the supported version range.
void EncodeProgMismatchReply(uint32_t xid, uint32_t low, uint32_t high, xdr::Encoder* out);
// MSG_DENIED RPC_MISMATCH, advertising version 2 only.
void EncodeRpcMismatchReply(uint32_t xid, xdr::Encoder* out);
// MSG_DENIED AUTH_ERROR.
void EncodeAuthErrorReply(uint32_t xid, AuthStat why, xdr::Encoder* out);

// Client side.
struct CallHeader {
  uint32_t xid = 0;
  uint32_t prog = 0, vers = 0, proc = 0;
  uint32_t cred_flavor = kAuthNone;
  std::string cred_body;
};

// Appends a call header (verifier AUTH_NONE) to `out`; the arguments follow it.
void EncodeCallHeader(const CallHeader& h, xdr::Encoder* out);

struct Reply {
  uint32_t xid = 0;
  bool accepted = false;                          // MSG_ACCEPTED, else MSG_DENIED
  AcceptStat accept_stat = AcceptStat::kSuccess;  // when accepted
  bool rpc_mismatch = false;                      // when denied: RPC_MISMATCH, else AUTH_ERROR
  AuthStat auth_stat = AuthStat::kOk;             // when denied with AUTH_ERROR
  // Version range of PROG_MISMATCH or RPC_MISMATCH.
  uint32_t low = 0, high = 0;
  std::string results;  // when accepted with kSuccess
};

// Parses a reply message; fails with EBADMSG on anything malformed.
Result<Reply> ParseReply(std::string_view record);

}  // namespace ovl::rpc
