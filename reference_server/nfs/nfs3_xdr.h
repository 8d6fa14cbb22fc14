// NFSv3 (RFC 1813) protocol constants and the XDR encoding of its shared data types. Encoders
// take the union layer's own types (Attr, Handle, SetAttrRequest) so procedures need no parallel
// structs; decoders return false, leaving the Decoder failed, on undecodable input.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "union/union_fs.h"
#include "xdr/xdr.h"

namespace ovl::nfs {

inline constexpr uint32_t kNfsProgram = 100003;
inline constexpr uint32_t kNfsVersion = 3;

enum class Nfs3Proc : uint32_t {
  kNull = 0,
  kGetAttr = 1,
  kSetAttr = 2,
  kLookup = 3,
  kAccess = 4,
  kReadLink = 5,
  kRead = 6,
  kWrite = 7,
  kCreate = 8,
  kMkDir = 9,
  kSymlink = 10,
  kMkNod = 11,
  kRemove = 12,
  kRmDir = 13,
  kRename = 14,
  kLink = 15,
  kReadDir = 16,
  kReadDirPlus = 17,
  kFsStat = 18,
  kFsInfo = 19,
  kPathConf = 20,
  kCommit = 21,
};
inline constexpr uint32_t kNfs3ProcCount = 22;

enum class Nfsstat3 : uint32_t {
  kOk = 0,
  kPerm = 1,
  kNoEnt = 2,
  kIo = 5,
  kNxio = 6,
  kAcces = 13,
  kExist = 17,
  kXdev = 18,
  kNoDev = 19,
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
  kRemote = 71,
  kBadHandle = 10001,
  kNotSync = 10002,
  kBadCookie = 10003,
  kNotSupp = 10004,
  kTooSmall = 10005,
  kServerFault = 10006,
  kBadType = 10007,
  kJukebox = 10008,
};

// Sizes from RFC 1813 section 2.4 and the limits this server applies to names and paths.
inline constexpr uint32_t kFhSize = 64;
inline constexpr uint32_t kCookieVerfSize = 8;
inline constexpr uint32_t kMaxNameLen = 255;
inline constexpr uint32_t kMaxPathLen = 4095;
// filename3/nfspath3 are unbounded strings; longer ones than this are treated as undecodable
// rather than NAMETOOLONG so a hostile length cannot make the server buffer large strings.
inline constexpr uint32_t kMaxDecodedString = 64 * 1024;

// ACCESS3 bits.
inline constexpr uint32_t kAccess3Read = 0x0001;
inline constexpr uint32_t kAccess3Lookup = 0x0002;
inline constexpr uint32_t kAccess3Modify = 0x0004;
inline constexpr uint32_t kAccess3Extend = 0x0008;
inline constexpr uint32_t kAccess3Delete = 0x0010;
inline constexpr uint32_t kAccess3Execute = 0x0020;

// FSINFO properties.
inline constexpr uint32_t kFsf3Link = 0x0001;
inline constexpr uint32_t kFsf3Symlink = 0x0002;
inline constexpr uint32_t kFsf3Homogeneous = 0x0008;
inline constexpr uint32_t kFsf3CanSetTime = 0x0010;

// createmode3.
enum class CreateHow3 : uint32_t { kUnchecked = 0, kGuarded = 1, kExclusive = 2 };

// Encoded sizes used for READDIR byte budgets.
inline constexpr size_t kFattr3Size = 84;
inline constexpr size_t kPostOpAttrSize = 4 + kFattr3Size;

// The object a directory operation names: diropargs3.
struct DirOpArgs3 {
  Handle dir;
  std::string name;
};

// Padded XDR size of an opaque<> or string<> of `len` bytes, length word included.
size_t XdrOpaqueSize(size_t len);

void EncodeStatus(xdr::Encoder& out, Nfsstat3 status);
void EncodeNfstime3(xdr::Encoder& out, const struct timespec& t);
// fattr3 of `attr`: permission bits only in mode, rdev as specdata3.
void EncodeFattr3(xdr::Encoder& out, const Attr& attr);
// post_op_attr: attributes_follow + fattr3.
void EncodePostOpAttr(xdr::Encoder& out, const std::optional<Attr>& attr);
// pre_op_attr: attributes_follow + wcc_attr (size, mtime, ctime).
void EncodePreOpAttr(xdr::Encoder& out, const std::optional<Attr>& attr);
// wcc_data: pre_op_attr captured before the change, post_op_attr after it.
void EncodeWccData(xdr::Encoder& out, const std::optional<Attr>& before,
                   const std::optional<Attr>& after);
// nfs_fh3: opaque<NFS3_FHSIZE>.
void EncodeFh3(xdr::Encoder& out, const Handle& handle);
// post_op_fh3: handle_follows + nfs_fh3.
void EncodePostOpFh3(xdr::Encoder& out, const std::optional<Handle>& handle);

// True when the arguments decoded cleanly and nothing follows them: a call with trailing bytes
// is malformed.
inline bool AtEnd(const xdr::Decoder& in) {
  return in.ok() && in.remaining() == 0;
}

// nfs_fh3; a handle longer than NFS3_FHSIZE is undecodable.
bool DecodeFh3(xdr::Decoder& in, Handle* handle);
// filename3 or nfspath3 (up to kMaxDecodedString bytes; content is checked by the procedure).
bool DecodeName(xdr::Decoder& in, std::string* name);
bool DecodeDirOpArgs3(xdr::Decoder& in, DirOpArgs3* args);
bool DecodeNfstime3(xdr::Decoder& in, struct timespec* t);
// sattr3 into the union's request type; an unknown time_how is undecodable.
bool DecodeSattr3(xdr::Decoder& in, SetAttrRequest* req);
// specdata3 (major, minor).
bool DecodeSpecdata3(xdr::Decoder& in, uint32_t* major, uint32_t* minor);
// A fixed 8-byte verifier (cookieverf3, createverf3).
bool DecodeVerf(xdr::Decoder& in, std::array<uint8_t, 8>* verf);

}  // namespace ovl::nfs
