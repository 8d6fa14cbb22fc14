// The NFS file handle of ovlnfsd (at most 64 bytes, see docs/handle-format.md):
//
//   0  magic 'O' 'V'          2  version (1)        3  flags (kFlag*)
//   4  layer (0..N-1 lower, 0xFF upper)              5  real fh type (name_to_handle_at)
//   6  real fh length         7  reserved, 0
//   8  export UUID (16 bytes)
//   24 real filesystem handle of the origin inode
//   .. SipHash-2-4 tag (8 bytes) over everything before it, keyed by the per-export secret (with
//      kFlagVolatile, the per-start negative control, also by the server instance's generation)
//
// The origin is the inode the object came from: a lower inode for anything that existed in a
// lower layer, the upper inode for objects created through the union.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "base/siphash.h"
#include "base/status.h"
#include "fs/fs_env.h"

namespace ovl {

inline constexpr uint8_t kUpperLayer = 0xFF;

struct ObjectId {
  uint8_t layer = kUpperLayer;
  RealFh fh;
  bool operator==(const ObjectId&) const = default;
};

struct HandleFields {
  ObjectId id;
  bool is_dir = false;
  std::optional<uint32_t> generation;  // set only for volatile (negative-control) handles
};

class HandleCodec {
 public:
  static constexpr uint8_t kVersion = 1;
  static constexpr uint8_t kFlagDir = 1 << 0;
  static constexpr uint8_t kFlagVolatile = 1 << 1;
  static constexpr size_t kHeaderSize = 24;
  static constexpr size_t kTagSize = 8;
  static constexpr size_t kMaxSize = 64;

  // `verify_tag` is false only for the planted bug handle-tag-unchecked (base/planted_bugs.h).
  // `generation` is the server instance's when its handles are volatile: it keys their tags, so
  // that they stop verifying at a restart without taking bytes from the real handle.
  HandleCodec(const std::array<uint8_t, 16>& export_uuid, const SipKey& key, bool verify_tag = true,
              std::optional<uint32_t> generation = std::nullopt)
      : uuid_(export_uuid), key_(key), verify_tag_(verify_tag), generation_(generation) {}

  // Encodes (a volatile handle when fields.generation is set); EOVERFLOW when the real handle is
  // too long to fit in 64 bytes.
  Result<std::string> Encode(const HandleFields& fields) const;
  // kErrBadHandle when the bytes are not a handle of this format (length, magic, version, flags,
  // fh length, tag); ESTALE when well formed but of another export (UUID), or volatile and not
  // of this instance (any volatile handle when this codec has no generation; its tag does not
  // verify under this one's, which is also what a corrupted one gives).
  Result<HandleFields> Decode(const std::string& bytes) const;

 private:
  // The tag key: the export's secret, with a volatile handle's generation folded in.
  SipKey KeyFor(std::optional<uint32_t> generation) const;

  std::array<uint8_t, 16> uuid_;
  SipKey key_;
  bool verify_tag_;
  std::optional<uint32_t> generation_;
};

}  // namespace ovl
