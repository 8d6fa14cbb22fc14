// NFSv4.1 protocol constants and the XDR pieces every operation shares (RFC 8881 section 3 and
// the protocol definition in RFC 5662): status codes, operation numbers, stateids, bitmaps.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "base/status.h"
#include "xdr/xdr.h"

namespace ovl::nfs4 {

inline constexpr uint32_t kNfs4Version = 4;
inline constexpr uint32_t kProcNull = 0;
inline constexpr uint32_t kProcCompound = 1;

// Bounds of variable-length fields (RFC 5662: NFS4_FHSIZE, NFS4_OPAQUE_LIMIT).
inline constexpr uint32_t kFhSize = 128;
inline constexpr uint32_t kOpaqueLimit = 1024;
inline constexpr uint32_t kMaxTag = 1024;
inline constexpr uint32_t kMaxComponent = 255;
inline constexpr uint32_t kMaxLinkText = 4096;

enum class Nfsstat4 : uint32_t {
  kOk = 0,
  kPerm = 1,
  kNoEnt = 2,
  kIo = 5,
  kNxio = 6,
  kAccess = 13,
  kExist = 17,
  kXdev = 18,
  kNotDir = 20,
  kIsDir = 21,
  kInval = 22,
  kFbig = 27,
  kNoSpc = 28,
  kRofs = 30,
  kMlink = 31,
  kNameTooLong = 63,
  kNotEmpty = 66,
  kDquot = 69,
  kStale = 70,
  kBadHandle = 10001,
  kBadCookie = 10003,
  kNotSupp = 10004,
  kTooSmall = 10005,
  kServerFault = 10006,
  kBadType = 10007,
  kDelay = 10008,
  kSame = 10009,
  kDenied = 10010,
  kExpired = 10011,
  kGrace = 10013,
  kShareDenied = 10015,
  kResource = 10018,
  kNoFileHandle = 10020,
  kMinorVersMismatch = 10021,
  kStaleClientId = 10022,
  kStaleStateid = 10023,
  kOldStateid = 10024,
  kBadStateid = 10025,
  kBadSeqid = 10026,
  kNotSame = 10027,
  kSymlink = 10029,
  kRestoreFh = 10030,
  kAttrNotSupp = 10032,
  kNoGrace = 10033,
  kReclaimBad = 10034,
  kBadXdr = 10036,
  kLocksHeld = 10037,
  kOpenMode = 10038,
  kBadOwner = 10039,
  kBadName = 10041,
  kOpIllegal = 10044,
  kBadSession = 10052,
  kBadSlot = 10053,
  kCompleteAlready = 10054,
  kSeqMisordered = 10063,
  kSequencePos = 10064,
  kReqTooBig = 10065,
  kRepTooBig = 10066,
  kRetryUncachedRep = 10068,
  kTooManyOps = 10070,
  kOpNotInSession = 10071,
  kClientIdBusy = 10074,
  kNotOnlyOp = 10081,
  kWrongType = 10083,
};

enum class Op : uint32_t {
  kAccess = 3,
  kClose = 4,
  kCommit = 5,
  kCreate = 6,
  kDelegPurge = 7,
  kDelegReturn = 8,
  kGetAttr = 9,
  kGetFh = 10,
  kLink = 11,
  kLock = 12,
  kLockT = 13,
  kLockU = 14,
  kLookup = 15,
  kLookupP = 16,
  kNVerify = 17,
  kOpen = 18,
  kOpenAttr = 19,
  kOpenConfirm = 20,
  kOpenDowngrade = 21,
  kPutFh = 22,
  kPutPubFh = 23,
  kPutRootFh = 24,
  kRead = 25,
  kReadDir = 26,
  kReadLink = 27,
  kRemove = 28,
  kRename = 29,
  kRenew = 30,
  kRestoreFh = 31,
  kSaveFh = 32,
  kSecInfo = 33,
  kSetAttr = 34,
  kSetClientId = 35,
  kSetClientIdConfirm = 36,
  kVerify = 37,
  kWrite = 38,
  kReleaseLockOwner = 39,
  kBackchannelCtl = 40,
  kBindConnToSession = 41,
  kExchangeId = 42,
  kCreateSession = 43,
  kDestroySession = 44,
  kFreeStateid = 45,
  kGetDirDelegation = 46,
  kSecInfoNoName = 52,
  kSequence = 53,
  kTestStateid = 55,
  kDestroyClientId = 57,
  kReclaimComplete = 58,
  kLastV41 = 58,
  kLastV42 = 75,  // REMOVEXATTR, RFC 8276
  kIllegal = 10044,
};

// The first operation a minor version lacks: 4.0 ends at RELEASE_LOCKOWNER.
inline constexpr uint32_t kFirstV41Op = 40;

using SessionId = std::array<uint8_t, 16>;
using Verifier = std::array<uint8_t, 8>;

struct Stateid {
  uint32_t seqid = 0;
  std::array<uint8_t, 12> other{};
  bool operator==(const Stateid&) const = default;
  // The special stateids of RFC 8881 section 8.2.3.
  bool IsAnonymous() const;   // all zeros
  bool IsReadBypass() const;  // all ones
  bool IsCurrent() const;     // seqid 1, other zeros: the compound's current stateid
};

// A bitmap4 of up to 3 words (attribute numbers up to 95); longer bitmaps are decoded and
// their extra words ignored, since no attribute this server knows lives there.
struct Bitmap4 {
  std::array<uint32_t, 3> words{};
  bool Has(uint32_t bit) const { return bit < 96 && (words[bit / 32] >> (bit % 32)) & 1; }
  void Set(uint32_t bit) {
    if (bit < 96) words[bit / 32] |= 1u << (bit % 32);
  }
  Bitmap4 And(const Bitmap4& o) const;
  bool Empty() const { return words[0] == 0 && words[1] == 0 && words[2] == 0; }
  bool operator==(const Bitmap4&) const = default;
};

[[nodiscard]] bool DecodeBitmap4(xdr::Decoder& in, Bitmap4* out);
// Encodes only as many words as needed (none for an empty bitmap).
void EncodeBitmap4(xdr::Encoder& out, const Bitmap4& b);
[[nodiscard]] bool DecodeStateid(xdr::Decoder& in, Stateid* out);
void EncodeStateid(xdr::Encoder& out, const Stateid& s);
// change_info4 with atomic = false: the union cannot promise nothing else changed in between.
void EncodeChangeInfo(xdr::Encoder& out, uint64_t before, uint64_t after);

// The nfsstat4 for a union status. NFSv4 numbers the codes it shares with NFSv3 alike, so this
// goes through the v3 mapping (nfs/nfs3_status.h) and fixes the few v3-only codes.
Nfsstat4 ToNfsstat4(const Status& status);

}  // namespace ovl::nfs4
