// Kernel overlayfs's on-disk file handle (struct ovl_fb in fs/overlayfs/overlayfs.h), written in
// the same format so kernel overlayfs and ovlnfsd can share layers:
//
//   version (0) | magic (0xfb) | len | flags | fid type | fs uuid (16) | fid
//
// It is the value of trusted.overlay.origin (copy-up origin) and trusted.overlay.upper (index
// entry of a directory -> its upper dir), and its hex form names index entries.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "base/status.h"
#include "fs/fs_env.h"

namespace ovl {

inline constexpr const char* kXattrOrigin = "trusted.overlay.origin";
inline constexpr const char* kXattrUpper = "trusted.overlay.upper";
inline constexpr const char* kXattrOpaque = "trusted.overlay.opaque";
inline constexpr const char* kXattrRedirect = "trusted.overlay.redirect";
inline constexpr const char* kXattrNlink = "trusted.overlay.nlink";
inline constexpr const char* kXattrImpure = "trusted.overlay.impure";
inline constexpr const char* kXattrOverlayPrefix = "trusted.overlay.";
// Exclusive-CREATE verifier of a file made by CREATE EXCLUSIVE (ovlnfsd's own attribute).
inline constexpr const char* kXattrCreateVerf = "trusted.ovlnfsd.createverf";

using FsUuid = std::array<uint8_t, 16>;

struct OvlFb {
  RealFh fh;
  FsUuid uuid{};
  bool upper = false;  // OVL_FH_FLAG_PATH_UPPER: the fid names an upper inode
};

// The xattr bytes of `fb` (little-endian host order flag, as the kernel writes on x86).
std::string EncodeOvlFb(const OvlFb& fb);
// EINVAL when `bytes` is not a well-formed ovl_fb of version 0.
Result<OvlFb> DecodeOvlFb(const std::string& bytes);
// The index entry name for an origin: lowercase hex of the encoded ovl_fb.
std::string IndexName(const OvlFb& origin);

// The UUID in the superblock of the ext4 or xfs filesystem on the block device `devfd`; all
// zeros for anything else.
FsUuid SuperblockUuid(int devfd);

// The UUID of the filesystem holding `fd`: FS_IOC_GETFSUUID where the kernel has it, else the
// superblock's on its block device (the same value); all zero when the filesystem reports none,
// as the kernel then uses a null uuid too.
FsUuid FilesystemUuid(int fd);

}  // namespace ovl
