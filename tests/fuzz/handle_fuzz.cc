// libFuzzer target: the handle codecs of reference_server/union: ovlnfsd's NFS handle
// (handle_codec.h) and kernel overlayfs's ovl_fb (ovl_fh.h). The first input byte picks the case:
//   0: HandleCodec::Decode of the rest; what decodes must encode back to the same bytes.
//   1: fields made from the rest are encoded; what encodes must decode to the same fields, and
//      flipping any one byte of the handle must make it undecodable (the tag covers it all).
//   2: DecodeOvlFb of the rest; what decodes must encode back to the same bytes, up to the
//      endianness flags the kernel accepts and ovlnfsd does not write.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "handle_fuzz_key.h"
#include "union/handle_codec.h"
#include "union/ovl_fh.h"

namespace {

const ovl::HandleCodec& Codec() {
  static const ovl::HandleCodec* codec =
      new ovl::HandleCodec(ovl::fuzz::kFuzzExportUuid, ovl::fuzz::kFuzzHandleKey);
  return *codec;
}

void Check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "handle_fuzz: %s\n", what);
  abort();
}

void DecodeThenEncode(const std::string& bytes) {
  ovl::Result<ovl::HandleFields> fields = Codec().Decode(bytes);
  if (!fields.ok()) return;
  ovl::Result<std::string> again = Codec().Encode(*fields);
  Check(again.ok() && *again == bytes, "a decoded handle does not encode back to its bytes");
}

// Rest: flags byte (bit 0 dir, bit 1 volatile), layer, fh type, 4 generation bytes, flip
// position, then the real fh bytes.
void EncodeThenDecode(const std::string& in) {
  if (in.size() < 8) return;
  ovl::HandleFields f;
  f.is_dir = (in[0] & 1) != 0;
  if ((in[0] & 2) != 0) f.generation = static_cast<uint8_t>(in[3]) * 0x01010101u;
  f.id.layer = static_cast<uint8_t>(in[1]);
  f.id.fh.type = static_cast<uint8_t>(in[2]);
  f.id.fh.bytes = in.substr(8);
  // A volatile handle decodes only on the server instance of its generation.
  const ovl::HandleCodec instance(ovl::fuzz::kFuzzExportUuid, ovl::fuzz::kFuzzHandleKey, true,
                                  f.generation);
  const ovl::HandleCodec& codec = f.generation ? instance : Codec();
  ovl::Result<std::string> bytes = codec.Encode(f);
  // Real handles are never empty (name_to_handle_at), and Decode refuses an empty one.
  if (!bytes.ok() || f.id.fh.bytes.empty()) return;
  ovl::Result<ovl::HandleFields> back = codec.Decode(*bytes);
  Check(back.ok(), "an encoded handle does not decode");
  Check(back->is_dir == f.is_dir && back->id == f.id && back->generation == f.generation,
        "an encoded handle decodes to other fields");
  std::string flipped = *bytes;
  flipped[static_cast<uint8_t>(in[7]) % flipped.size()] ^= 0x01;
  Check(!codec.Decode(flipped).ok(), "a handle with one byte changed still decodes");
  if (f.generation) Check(!Codec().Decode(*bytes).ok(), "a volatile handle outlives its instance");
}

void DecodeOvlFbThenEncode(const std::string& bytes) {
  ovl::Result<ovl::OvlFb> fb = ovl::DecodeOvlFb(bytes);
  if (!fb.ok()) return;
  std::string again = ovl::EncodeOvlFb(*fb);
  Check(again.size() == bytes.size(), "a decoded ovl_fb encodes to another length");
  // Byte 3 holds the flags; the endianness bits are the writer's, not the handle's.
  constexpr uint8_t kEndianFlags = 0x01 | 0x02;  // ovl_fh.cc: big-endian, any-endian
  again[3] = static_cast<char>((again[3] & ~kEndianFlags) | (bytes[3] & kEndianFlags));
  Check(again == bytes, "a decoded ovl_fb does not encode back to its bytes");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
      DecodeThenEncode(rest);
      break;
    case 1:
      EncodeThenDecode(rest);
      break;
    default:
      DecodeOvlFbThenEncode(rest);
      break;
  }
  return 0;
}
