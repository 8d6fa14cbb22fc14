// The NFSv4 pseudo-root (RFC 8881 section 7.3): the read-only directories from "/" down to the
// export path, so that a client can PUTROOTFH and LOOKUP each component of --export-path down
// to the export's root. Each pseudo directory lists only the next component.
//
// A pseudo handle is 24 bytes: "OVP4" (the union's handles start "OV" and then version 1, so
// the two can never be confused), the depth (0 = "/"), three zero bytes and the export UUID.
// Pseudo handles are recognised before anything reaches the union, so decoding one never
// touches it; one with another export's UUID or a depth beyond the path is STALE.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "union/union_fs.h"

namespace ovl::nfs4 {

class PseudoFs {
 public:
  // `export_path` is absolute ("/", "/export", "/srv/ovl"); `uuid` the export's.
  PseudoFs(std::string_view export_path, const std::array<uint8_t, 16>& uuid,
           struct timespec start);

  // Number of pseudo directories: 0 when the export path is "/" (the root is the export root).
  uint32_t depths() const { return static_cast<uint32_t>(components_.size()); }
  Handle HandleOf(uint32_t depth) const;

  enum class Kind { kNotPseudo, kPseudo, kStale };
  // Whether `h` is a pseudo handle, and of which depth.
  Kind Decode(const Handle& h, uint32_t* depth) const;

  // The one name pseudo directory `depth` lists: a pseudo directory at depth + 1, or the export
  // root when depth is the last.
  const std::string& EntryOf(uint32_t depth) const { return components_[depth]; }
  // Attributes of pseudo directory `depth`: mode 0555, owned by root, on `fsid` (the
  // export's, so a client sees no filesystem boundary).
  Attr AttrOf(uint32_t depth, uint64_t fsid) const;
  // Fileids far above any union fileid (those are inode numbers with the layer in the top byte).
  static uint64_t FileidOf(uint32_t depth) { return 0xffffffffffffff00ull | depth; }

 private:
  std::vector<std::string> components_;
  std::array<uint8_t, 16> uuid_;
  struct timespec start_;
};

}  // namespace ovl::nfs4
