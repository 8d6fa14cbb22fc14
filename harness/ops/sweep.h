// The corrupted-handle sweep (docs/scenarios.md, "Corrupted-handle sweep"): from one held handle,
// every copy with one byte XORed by one of a few masks, every truncation and a few
// zero-extensions, as the bytes an agent sends for them. Pure: the runner expands a sweep step
// with it once the held bytes are known, and each result becomes an ordinary op whose raw target
// carries the bytes and the SweepPoint (ops.h), so the history alone says what was sent.
//
// Only the server's own handle is corrupted. An access path that wraps it keeps its wrapping
// intact and consistent, so the corruption reaches the server instead of being refused by the
// client's own checks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "ops/ops.h"

namespace ovl::ops {

// The largest NFSv3 file handle (RFC 1813, NFS3_FHSIZE) and the largest handle
// name_to_handle_at gives (MAX_HANDLE_SZ of linux/exportfs.h, also NFSv4's NFS4_FHSIZE).
inline constexpr size_t kNfs3MaxHandle = 64;
inline constexpr size_t kMaxHandleSz = 128;

// How the bytes an agent holds carry the server's handle.
struct HandleFrame {
  enum class Kind {
    // libnfs: the bytes are the NFS file handle.
    kBare,
    // The syscall executor on a local file system (agent/syscall_executor.h): a 4-byte little
    // endian handle_type, then f_handle, which is the server's (overlayfs') handle. The type is
    // kept as it is.
    kSyscall,
    // The syscall executor on a Linux NFS client mount: f_handle is the client's wrapping of
    // the server's handle (fs/nfs/export.c, nfs_encode_fh): three 32-bit words (fileid high,
    // fileid low, S_IFMT type), a 16-bit length n, the n bytes of the server's handle, zeros
    // up to a multiple of 4; handle_type is the wrapping's length in 32-bit words, which
    // nfs_fh_to_dentry checks. Host byte order: little endian (x86 guests). The words are kept,
    // n, the padding and handle_type follow the new length.
    kNfsClient,
  };
  Kind kind = Kind::kBare;
  // The longest server handle the protocol carries (kNfs3MaxHandle, or kMaxHandleSz for a local
  // file system or NFSv4); kNfsClient also keeps the wrapping within kMaxHandleSz.
  size_t max_len = kNfs3MaxHandle;
};

// One corrupted handle: the bytes to send and what they are.
struct SweptHandle {
  std::string bytes;
  SweepPoint point;  // point.of is left empty: the caller names the variable
};

// The default masks: the lowest bit, the highest, and every bit.
const std::vector<uint8_t>& DefaultSweepMasks();

// The sweep of `held` in `frame`, with the server's handle of length L: for every offset
// 0..L-1 and every mask (in the order given), the handle with that byte XORed; then every
// truncation to 0..L-1 bytes; then the zero-extensions to L+1, L+8 and frame.max_len bytes
// (those longer than L and at most frame.max_len, each once). EINVAL when `held` is not a
// handle of that frame (too short, or a wrapping whose length field does not fit) or a mask is 0.
ovl::Result<std::vector<SweptHandle>> SweepHandle(const std::string& held, const HandleFrame& frame,
                                                  const std::vector<uint8_t>& masks);

}  // namespace ovl::ops
