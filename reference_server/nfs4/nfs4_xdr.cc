#include "nfs4/nfs4_xdr.h"

#include <algorithm>

#include "nfs/nfs3_status.h"

namespace ovl::nfs4 {

namespace {
// A client sends at most a few words; anything longer is hostile.
constexpr uint32_t kMaxBitmapWords = 8;
}  // namespace

bool Stateid::IsAnonymous() const {
  return seqid == 0 && std::all_of(other.begin(), other.end(), [](uint8_t b) { return b == 0; });
}

bool Stateid::IsReadBypass() const {
  return seqid == 0xffffffff &&
         std::all_of(other.begin(), other.end(), [](uint8_t b) { return b == 0xff; });
}

bool Stateid::IsCurrent() const {
  return seqid == 1 && std::all_of(other.begin(), other.end(), [](uint8_t b) { return b == 0; });
}

Bitmap4 Bitmap4::And(const Bitmap4& o) const {
  Bitmap4 r;
  for (size_t i = 0; i < words.size(); ++i) r.words[i] = words[i] & o.words[i];
  return r;
}

bool DecodeBitmap4(xdr::Decoder& in, Bitmap4* out) {
  uint32_t n = 0;
  if (!in.U32(&n) || n > kMaxBitmapWords) return false;
  *out = Bitmap4{};
  for (uint32_t i = 0; i < n; ++i) {
    uint32_t w = 0;
    if (!in.U32(&w)) return false;
    if (i < out->words.size()) out->words[i] = w;
  }
  return true;
}

void EncodeBitmap4(xdr::Encoder& out, const Bitmap4& b) {
  uint32_t n = 3;
  while (n > 0 && b.words[n - 1] == 0) --n;
  out.U32(n);
  for (uint32_t i = 0; i < n; ++i) out.U32(b.words[i]);
}

bool DecodeStateid(xdr::Decoder& in, Stateid* out) {
  return in.U32(&out->seqid) && in.FixedOpaque(out->other.data(), out->other.size());
}

void EncodeStateid(xdr::Encoder& out, const Stateid& s) {
  out.U32(s.seqid);
  out.FixedOpaque(s.other.data(), s.other.size());
}

void EncodeChangeInfo(xdr::Encoder& out, uint64_t before, uint64_t after) {
  out.Bool(false);
  out.U64(before);
  out.U64(after);
}

Nfsstat4 ToNfsstat4(const Status& status) {
  if (status.code() == kErrNotSync) return Nfsstat4::kInval;  // no NFS4ERR_NOT_SYNC
  if (status.code() == ELOOP) return Nfsstat4::kSymlink;
  return static_cast<Nfsstat4>(nfs::ToNfsstat3(status));
}

}  // namespace ovl::nfs4
