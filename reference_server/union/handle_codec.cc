#include "union/handle_codec.h"

#include <cstring>

namespace ovl {
namespace {

Status Bad(const char* why) {
  return Status::Error(kErrBadHandle, why);
}

}  // namespace

SipKey HandleCodec::KeyFor(std::optional<uint32_t> generation) const {
  SipKey k = key_;
  if (generation) {
    for (int i = 0; i < 4; ++i) k[i] ^= static_cast<uint8_t>(*generation >> (8 * i));
  }
  return k;
}

Result<std::string> HandleCodec::Encode(const HandleFields& f) const {
  if (f.id.fh.type < 0 || f.id.fh.type > 0xff ||
      kHeaderSize + f.id.fh.bytes.size() + kTagSize > kMaxSize) {
    return Status::Error(EOVERFLOW, "real file handle does not fit in an NFS handle");
  }
  std::string out;
  out.reserve(kMaxSize);
  out.push_back('O');
  out.push_back('V');
  out.push_back(static_cast<char>(kVersion));
  uint8_t flags = (f.is_dir ? kFlagDir : 0) | (f.generation ? kFlagVolatile : 0);
  out.push_back(static_cast<char>(flags));
  out.push_back(static_cast<char>(f.id.layer));
  out.push_back(static_cast<char>(f.id.fh.type));
  out.push_back(static_cast<char>(f.id.fh.bytes.size()));
  out.push_back(0);
  out.append(reinterpret_cast<const char*>(uuid_.data()), uuid_.size());
  out += f.id.fh.bytes;
  uint64_t tag = SipHash24(KeyFor(f.generation), out);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((tag >> (8 * i)) & 0xff));
  return out;
}

Result<HandleFields> HandleCodec::Decode(const std::string& b) const {
  if (b.size() < kHeaderSize + kTagSize || b.size() > kMaxSize) return Bad("handle length");
  if (b[0] != 'O' || b[1] != 'V') return Bad("handle magic");
  if (static_cast<uint8_t>(b[2]) != kVersion) return Bad("handle version");
  const uint8_t flags = static_cast<uint8_t>(b[3]);
  if (flags & ~(kFlagDir | kFlagVolatile)) return Bad("handle flags");
  if (b[7] != 0) return Bad("handle reserved byte");
  const bool is_volatile = flags & kFlagVolatile;
  const size_t fh_len = static_cast<uint8_t>(b[6]);
  if (fh_len == 0 || kHeaderSize + fh_len + kTagSize != b.size()) {
    return Bad("handle fh length");
  }
  // A foreign export is STALE (the handle is fine, it just is not ours any more); checked before
  // the tag because the tag is keyed by this export's secret.
  if (std::memcmp(b.data() + 8, uuid_.data(), uuid_.size()) != 0) {
    return Status::Error(ESTALE, "handle of another export");
  }
  if (is_volatile && !generation_) {
    return Status::Error(ESTALE, "volatile handle; this server's handles are persistent");
  }
  const size_t body = b.size() - kTagSize;
  uint64_t tag =
      SipHash24(KeyFor(is_volatile ? generation_ : std::nullopt), std::string_view(b.data(), body));
  for (int i = 0; i < 8 && verify_tag_; ++i) {
    if (static_cast<uint8_t>(b[body + i]) == ((tag >> (8 * i)) & 0xff)) continue;
    if (is_volatile) return Status::Error(ESTALE, "volatile handle of another server instance");
    return Bad("handle tag");
  }
  HandleFields f;
  f.is_dir = flags & kFlagDir;
  f.id.layer = static_cast<uint8_t>(b[4]);
  f.id.fh.type = static_cast<uint8_t>(b[5]);
  if (is_volatile) f.generation = generation_;
  f.id.fh.bytes = b.substr(kHeaderSize, fh_len);
  return f;
}

}  // namespace ovl
