#include "nfs/nfs3_xdr.h"

namespace ovl::nfs {

size_t XdrOpaqueSize(size_t len) {
  return 4 + ((len + 3) & ~size_t{3});
}

void EncodeStatus(xdr::Encoder& out, Nfsstat3 status) {
  out.U32(static_cast<uint32_t>(status));
}

void EncodeNfstime3(xdr::Encoder& out, const struct timespec& t) {
  // nfstime3 seconds are 32 bits unsigned: times before 1970 or after 2106 wrap, as in knfsd.
  out.U32(static_cast<uint32_t>(t.tv_sec));
  out.U32(static_cast<uint32_t>(t.tv_nsec));
}

void EncodeFattr3(xdr::Encoder& out, const Attr& attr) {
  out.U32(static_cast<uint32_t>(attr.type));
  out.U32(attr.mode & 07777);
  out.U32(attr.nlink);
  out.U32(attr.uid);
  out.U32(attr.gid);
  out.U64(attr.size);
  out.U64(attr.used);
  out.U32(attr.rdev_major);
  out.U32(attr.rdev_minor);
  out.U64(attr.fsid);
  out.U64(attr.fileid);
  EncodeNfstime3(out, attr.atime);
  EncodeNfstime3(out, attr.mtime);
  EncodeNfstime3(out, attr.ctime);
}

void EncodePostOpAttr(xdr::Encoder& out, const std::optional<Attr>& attr) {
  out.Bool(attr.has_value());
  if (attr) EncodeFattr3(out, *attr);
}

void EncodePreOpAttr(xdr::Encoder& out, const std::optional<Attr>& attr) {
  out.Bool(attr.has_value());
  if (!attr) return;
  out.U64(attr->size);
  EncodeNfstime3(out, attr->mtime);
  EncodeNfstime3(out, attr->ctime);
}

void EncodeWccData(xdr::Encoder& out, const std::optional<Attr>& before,
                   const std::optional<Attr>& after) {
  EncodePreOpAttr(out, before);
  EncodePostOpAttr(out, after);
}

void EncodeFh3(xdr::Encoder& out, const Handle& handle) {
  out.Opaque(handle);
}

void EncodePostOpFh3(xdr::Encoder& out, const std::optional<Handle>& handle) {
  out.Bool(handle.has_value());
  if (handle) EncodeFh3(out, *handle);
}

bool DecodeFh3(xdr::Decoder& in, Handle* handle) {
  return in.Opaque(handle, kFhSize);
}

bool DecodeName(xdr::Decoder& in, std::string* name) {
  return in.String(name, kMaxDecodedString);
}

bool DecodeDirOpArgs3(xdr::Decoder& in, DirOpArgs3* args) {
  return DecodeFh3(in, &args->dir) && DecodeName(in, &args->name);
}

bool DecodeNfstime3(xdr::Decoder& in, struct timespec* t) {
  uint32_t sec = 0, nsec = 0;
  if (!in.U32(&sec) || !in.U32(&nsec)) return false;
  t->tv_sec = sec;
  t->tv_nsec = nsec;
  return true;
}

namespace {

// set_atime / set_mtime: a time_how discriminant, with an nfstime3 for SET_TO_CLIENT_TIME.
bool DecodeSetTime(xdr::Decoder& in, SetAttrRequest::Time* how, struct timespec* t) {
  uint32_t v = 0;
  if (!in.U32(&v)) return false;
  switch (v) {
    case 0:
      *how = SetAttrRequest::Time::kDontChange;
      return true;
    case 1:
      *how = SetAttrRequest::Time::kServerNow;
      return true;
    case 2:
      *how = SetAttrRequest::Time::kClient;
      return DecodeNfstime3(in, t);
    default:
      return false;
  }
}

// An optional 32-bit field: set_mode3, set_uid3, set_gid3.
bool DecodeOptionalU32(xdr::Decoder& in, std::optional<uint32_t>* v) {
  bool set = false;
  if (!in.Bool(&set)) return false;
  if (!set) return true;
  uint32_t x = 0;
  if (!in.U32(&x)) return false;
  *v = x;
  return true;
}

}  // namespace

bool DecodeSattr3(xdr::Decoder& in, SetAttrRequest* req) {
  if (!DecodeOptionalU32(in, &req->mode) || !DecodeOptionalU32(in, &req->uid) ||
      !DecodeOptionalU32(in, &req->gid)) {
    return false;
  }
  // mode3 carries permission bits only; file type bits some clients leave in are meaningless.
  if (req->mode) *req->mode &= 07777;
  bool set_size = false;
  if (!in.Bool(&set_size)) return false;
  if (set_size) {
    uint64_t size = 0;
    if (!in.U64(&size)) return false;
    req->size = size;
  }
  return DecodeSetTime(in, &req->atime_how, &req->atime) &&
         DecodeSetTime(in, &req->mtime_how, &req->mtime);
}

bool DecodeSpecdata3(xdr::Decoder& in, uint32_t* major, uint32_t* minor) {
  return in.U32(major) && in.U32(minor);
}

bool DecodeVerf(xdr::Decoder& in, std::array<uint8_t, 8>* verf) {
  return in.FixedOpaque(verf->data(), verf->size());
}

}  // namespace ovl::nfs
