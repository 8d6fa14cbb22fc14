// SyscallExecutor: the agent's access path through a local directory: a kernel overlayfs mount
// on the host, or a Linux NFS mount inside a client VM. Same ops, same result names as the
// libnfs path, so one scenario runs on both.
//
// - Path targets are walked with openat (O_PATH, no symlinks followed) from the root at the time
//   of the op; var targets (mutated as Target::mutate says) and raw targets are decoded.
// - Handles are name_to_handle_at bytes: the 4-byte handle_type (little endian) followed by
//   f_handle, decoded with open_by_handle_at on the root directory's fd. A handle too short or
//   too long to be one, or one the kernel calls malformed (EINVAL, EBADF), is "BADHANDLE".
// - errno becomes the NFS name of ops.h (ESTALE "STALE", ENOENT "NOENT", ...); an errno without
//   an NFS counterpart keeps its own name ("ELOOP"). ETIMEDOUT (a soft NFS mount giving up) is
//   kUnknown: the server may have acted.
// - kReaddir emulates pages over the whole listing sorted by name, without "." and "..": the
//   entry at index i has cookie i + 1, and a page starts at index op.cookie (or the position
//   saved under op.resume); `save` stores where the page ended.
// - kCreate with kExclusive stores the verifier in atime/mtime seconds, as knfsd does, so a
//   replay with the same verifier finds the file and succeeds (unless a read in between moved
//   atime, as relatime may, with knfsd too).
// - kWrite and kCommit return no verifier: a local file system has none.
// - Probes: ACCESS is faccessat(R_OK|W_OK), FSSTAT fstatfs, READDIR the first page of the
//   directory in its own order (cookies are d_off).
// - kOpen opens the file O_RDONLY and keeps it in the caller's OpenFiles under op.fd; a target
//   with `fd` acts on that open file (kRead reads through it); kClose closes it and, on a
//   kernel NFS mount, waits (bounded) for the client's deferred remove of a silly-renamed file.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "agent/executor.h"
#include "base/status.h"

namespace ovl::agent {

class SyscallExecutor : public Executor {
 public:
  // Checks that `root` opens as a directory and records its file system type. Each op opens
  // the root anew (the root of path targets and the mount fd of handle decodes): no fd pins the
  // mount between ops, so the runner can unmount it, and after a remount ops reach the new
  // mount. An op while the root is on another file system type (unmounted) is kUnknown.
  // `files` (may be null: kOpen then fails) holds the files kOpen keeps open; it outlives the
  // executor, like VarTable.
  static Result<std::unique_ptr<SyscallExecutor>> Open(const std::string& root,
                                                       OpenFiles* files = nullptr);

  ops::Result RunProbe(Probe probe, const ops::Target& target, const VarTable& vars) override;

 protected:
  Outcome Run(const ops::Op& op, const VarTable& vars) override;

 private:
  SyscallExecutor(std::string root, int64_t fs_type, OpenFiles* files)
      : root_(std::move(root)), fs_type_(fs_type), files_(files) {}

  std::string root_;
  int64_t fs_type_;   // statfs f_type at Open
  OpenFiles* files_;  // not owned; may be null
};

// The ops.h error name of an errno value or of a base/status.h kErr* code.
std::string ErrnoName(int code);

}  // namespace ovl::agent
