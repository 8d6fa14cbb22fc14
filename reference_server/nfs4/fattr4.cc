#include "nfs4/fattr4.h"

#include <charconv>
#include <limits>

#include "nfs/nfs3_program.h"

namespace ovl::nfs4 {

namespace {

using namespace fattr;  // NOLINT: the attribute numbers read best unqualified here

constexpr uint32_t kFh4Persistent = 0;
constexpr uint32_t kSetToServerTime = 0;
constexpr uint32_t kSetToClientTime = 1;
// Far more than any attribute list this server accepts (a few numbers and two owner names).
constexpr uint32_t kMaxSetAttrBytes = 4096;

constexpr uint32_t kSupportedBits[] = {
    kSupportedAttrs,
    kType,
    kFhExpireType,
    kChange,
    kSize,
    kLinkSupport,
    kSymlinkSupport,
    kNamedAttr,
    kFsid,
    kUniqueHandles,
    kLeaseTime,
    kRdattrError,
    kCanSetTime,
    kCaseInsensitive,
    kCasePreserving,
    kChownRestricted,
    kFilehandle,
    kFileid,
    kFilesAvail,
    kFilesFree,
    kFilesTotal,
    kHomogeneous,
    kMaxFileSize,
    kMaxLink,
    kMaxName,
    kMaxRead,
    kMaxWrite,
    kMode,
    kNoTrunc,
    kNumLinks,
    kOwner,
    kOwnerGroup,
    kRawDev,
    kSpaceAvail,
    kSpaceFree,
    kSpaceTotal,
    kSpaceUsed,
    kTimeAccess,
    kTimeAccessSet,
    kTimeDelta,
    kTimeMetadata,
    kTimeModify,
    kTimeModifySet,
    kMountedOnFileid,
    kSuppattrExclcreat,
};

void EncodeTime(xdr::Encoder& out, const struct timespec& t) {
  out.U64(static_cast<uint64_t>(static_cast<int64_t>(t.tv_sec)));
  out.U32(static_cast<uint32_t>(t.tv_nsec));
}

bool IsStatFsAttr(uint32_t bit) {
  return bit == kFilesAvail || bit == kFilesFree || bit == kFilesTotal || bit == kSpaceAvail ||
         bit == kSpaceFree || bit == kSpaceTotal;
}

// One attribute a line reads best in these two tables.
// clang-format off
// Encodes the value of an attribute of the object itself; false for any other attribute.
bool EncodeObjectAttr(xdr::Encoder& out, uint32_t bit, const AttrSource& src) {
  const Attr& a = src.attr;
  switch (bit) {
    case kType: out.U32(static_cast<uint32_t>(a.type)); return true;  // numbered as nfs_ftype4
    case kChange: out.U64(ChangeOf(a)); return true;
    case kSize: out.U64(a.size); return true;
    case kFsid: out.U64(a.fsid); out.U64(0); return true;
    case kRdattrError: out.U32(0); return true;
    case kFilehandle: out.Opaque(src.fh); return true;
    case kFileid: out.U64(a.fileid); return true;
    case kMode: out.U32(a.mode & 07777); return true;
    case kNumLinks: out.U32(a.nlink); return true;
    case kOwner: out.String(std::to_string(a.uid)); return true;
    case kOwnerGroup: out.String(std::to_string(a.gid)); return true;
    case kRawDev: out.U32(a.rdev_major); out.U32(a.rdev_minor); return true;
    case kSpaceUsed: out.U64(a.used); return true;
    case kTimeAccess: EncodeTime(out, a.atime); return true;
    case kTimeMetadata: EncodeTime(out, a.ctime); return true;
    case kTimeModify: EncodeTime(out, a.mtime); return true;
    case kMountedOnFileid: out.U64(src.mounted_on_fileid); return true;
    default: return false;
  }
}

// Encodes the value of an attribute of the server or the filesystem.
void EncodeServerAttr(xdr::Encoder& out, uint32_t bit, const AttrSource& src) {
  const uint64_t frsize = src.vfs ? (src.vfs->f_frsize ? src.vfs->f_frsize : src.vfs->f_bsize) : 0;
  switch (bit) {
    case kSupportedAttrs: EncodeBitmap4(out, SupportedAttrs()); break;
    case kFhExpireType: out.U32(kFh4Persistent); break;
    case kLinkSupport: case kSymlinkSupport: case kUniqueHandles: case kCasePreserving:
    case kChownRestricted: case kHomogeneous: case kNoTrunc: case kCanSetTime:
      out.Bool(true);
      break;
    case kNamedAttr: case kCaseInsensitive: out.Bool(false); break;
    case kLeaseTime: out.U32(src.lease_time_s); break;
    case kFilesAvail: out.U64(src.vfs->f_favail); break;
    case kFilesFree: out.U64(src.vfs->f_ffree); break;
    case kFilesTotal: out.U64(src.vfs->f_files); break;
    case kMaxFileSize: out.U64(static_cast<uint64_t>(std::numeric_limits<int64_t>::max())); break;
    case kMaxLink: out.U32(nfs::kLinkMax); break;
    case kMaxName: out.U32(kMaxComponent); break;
    case kMaxRead: case kMaxWrite: out.U64(src.max_io); break;
    case kSpaceAvail: out.U64(src.vfs->f_bavail * frsize); break;
    case kSpaceFree: out.U64(src.vfs->f_bfree * frsize); break;
    case kSpaceTotal: out.U64(src.vfs->f_blocks * frsize); break;
    case kTimeDelta: EncodeTime(out, {0, 1}); break;
    case kSuppattrExclcreat: EncodeBitmap4(out, ExclCreatAttrs()); break;
    default: break;
  }
}
// clang-format on

// A numeric owner or group ("1000"); Linux sends these when idmapping is off (the default
// for AUTH_SYS).
bool ParseId(const std::string& s, uint32_t* id) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *id);
  return ec == std::errc() && p == s.data() + s.size();
}

bool DecodeSetTime(xdr::Decoder& in, SetAttrRequest::Time* how, struct timespec* t) {
  uint32_t kind = 0;
  if (!in.U32(&kind)) return false;
  if (kind == kSetToServerTime) {
    *how = SetAttrRequest::Time::kServerNow;
    return true;
  }
  uint64_t sec = 0;
  uint32_t nsec = 0;
  if (kind != kSetToClientTime || !in.U64(&sec) || !in.U32(&nsec) || nsec >= 1000000000) {
    return false;
  }
  *how = SetAttrRequest::Time::kClient;
  t->tv_sec = static_cast<time_t>(static_cast<int64_t>(sec));
  t->tv_nsec = nsec;
  return true;
}

}  // namespace

Bitmap4 SupportedAttrs() {
  Bitmap4 b;
  for (uint32_t bit : kSupportedBits) b.Set(bit);
  return b;
}

Bitmap4 ExclCreatAttrs() {
  Bitmap4 b;
  for (uint32_t bit : {kSize, kMode, kOwner, kOwnerGroup, kTimeAccessSet, kTimeModifySet}) {
    b.Set(bit);
  }
  return b;
}

bool NeedsStatFs(const Bitmap4& requested) {
  for (uint32_t bit :
       {kFilesAvail, kFilesFree, kFilesTotal, kSpaceAvail, kSpaceFree, kSpaceTotal}) {
    if (requested.Has(bit)) return true;
  }
  return false;
}

uint64_t ChangeOf(const Attr& attr) {
  return static_cast<uint64_t>(attr.ctime.tv_sec) * 1000000000ull +
         static_cast<uint64_t>(attr.ctime.tv_nsec);
}

void EncodeFattr4(xdr::Encoder& out, const Bitmap4& requested, const AttrSource& src) {
  Bitmap4 returned = requested.And(SupportedAttrs());
  // Write-only attributes are never returned.
  for (uint32_t bit : {kTimeAccessSet, kTimeModifySet})
    returned.words[bit / 32] &= ~(1u << (bit % 32));
  if (!src.vfs) {
    for (uint32_t bit = 0; bit < 96; ++bit) {
      if (IsStatFsAttr(bit)) returned.words[bit / 32] &= ~(1u << (bit % 32));
    }
  }
  EncodeBitmap4(out, returned);
  xdr::Encoder values;
  for (uint32_t bit = 0; bit < 96; ++bit) {
    if (returned.Has(bit) && !EncodeObjectAttr(values, bit, src)) {
      EncodeServerAttr(values, bit, src);
    }
  }
  out.Opaque(values.bytes());
}

Nfsstat4 DecodeFattr4Set(xdr::Decoder& in, SetAttrs* out) {
  *out = SetAttrs{};
  std::string list;
  if (!DecodeBitmap4(in, &out->set) || !in.Opaque(&list, kMaxSetAttrBytes)) {
    return Nfsstat4::kBadXdr;
  }
  const Bitmap4 supported = SupportedAttrs();
  xdr::Decoder v(list);
  SetAttrRequest& req = out->req;
  for (uint32_t bit = 0; bit < 96; ++bit) {
    if (!out->set.Has(bit)) continue;
    bool ok = true;
    switch (bit) {
      case kSize: {
        uint64_t size = 0;
        ok = v.U64(&size);
        req.size = size;
        break;
      }
      case kMode: {
        uint32_t mode = 0;
        ok = v.U32(&mode);
        req.mode = mode & 07777;
        break;
      }
      case kOwner:
      case kOwnerGroup: {
        std::string name;
        uint32_t id = 0;
        if (!v.String(&name, kOpaqueLimit)) return Nfsstat4::kBadXdr;
        if (!ParseId(name, &id)) return Nfsstat4::kBadOwner;
        (bit == kOwner ? req.uid : req.gid) = id;
        break;
      }
      case kTimeAccessSet:
        ok = DecodeSetTime(v, &req.atime_how, &req.atime);
        break;
      case kTimeModifySet:
        ok = DecodeSetTime(v, &req.mtime_how, &req.mtime);
        break;
      default:
        // A known read-only attribute is INVAL; anything else this server cannot set.
        return supported.Has(bit) ? Nfsstat4::kInval : Nfsstat4::kAttrNotSupp;
    }
    if (!ok) return Nfsstat4::kBadXdr;
  }
  return v.remaining() == 0 ? Nfsstat4::kOk : Nfsstat4::kBadXdr;
}

}  // namespace ovl::nfs4
