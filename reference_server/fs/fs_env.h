// FsEnv: the one narrow interface through which ovlnfsd touches disk. Everything above it (the
// union layer, the handle index, copy-up) is written against this interface, so tests can put a
// fault-injecting double underneath (fs/fault_injection_env.h) without any VM or kernel help.
//
// Conventions: `dirfd` + `name` addresses one directory entry; `name` is a single path component
// (no '/'), except where a function says "relative path". An empty `name` means "dirfd itself"
// (AT_EMPTY_PATH semantics). Nothing follows symlinks. Errors carry the errno of the failing call.
#pragma once

#include <dirent.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/fd.h"
#include "base/status.h"

namespace ovl {

// A real filesystem's file handle, as produced by name_to_handle_at(2).
struct RealFh {
  int type = 0;
  std::string bytes;
  bool operator==(const RealFh&) const = default;
};

struct DirEntry {
  std::string name;
  unsigned char type = 0;  // DT_* value from getdents; DT_UNKNOWN when the fs does not say
  uint64_t ino = 0;
};

class FsEnv {
 public:
  virtual ~FsEnv() = default;

  // Opens `relpath` (a relative path, possibly several components, "" or "." for dirfd itself)
  // beneath `dirfd`: never escapes it, never follows a symlink in any component (openat2 with
  // RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS). `flags` are open(2) flags; O_CREAT uses `mode`.
  // Any length: a path longer than PATH_MAX is resolved a piece at a time.
  virtual Result<Fd> OpenBeneath(int dirfd, const std::string& relpath, int flags,
                                 mode_t mode = 0) = 0;
  // Opens the object behind `fh` on the filesystem of `mount_fd` (open_by_handle_at(2)).
  // ESTALE/ENOENT when it no longer exists.
  virtual Result<Fd> OpenByHandle(int mount_fd, const RealFh& fh, int flags) = 0;
  // name_to_handle_at(2) of dirfd/name.
  virtual Result<RealFh> NameToHandle(int dirfd, const std::string& name) = 0;
  // lstat of dirfd/name (fstat of dirfd when name is empty).
  virtual Result<struct stat> Stat(int dirfd, const std::string& name) = 0;
  // All entries of an open directory except "." and "..", in on-disk order.
  virtual Result<std::vector<DirEntry>> ReadDir(int dirfd) = 0;
  // Target of the symlink dirfd/name.
  virtual Result<std::string> ReadLink(int dirfd, const std::string& name) = 0;
  // Absolute path of an open fd as the kernel sees it (readlink of /proc/self/fd/N); for a
  // directory deeper than the kernel prints (ENAMETOOLONG), found by walking up through "..".
  virtual Result<std::string> FdPath(int fd) = 0;

  virtual Status MkDir(int dirfd, const std::string& name, mode_t mode) = 0;
  // mknod(2); a whiteout is MkNod(dirfd, name, S_IFCHR | 0, makedev(0, 0)).
  virtual Status MkNod(int dirfd, const std::string& name, mode_t mode, dev_t dev) = 0;
  virtual Status Symlink(const std::string& target, int dirfd, const std::string& name) = 0;
  // linkat(2); an empty `oldname` links the object `olddirfd` itself refers to.
  virtual Status Link(int olddirfd, const std::string& oldname, int newdirfd,
                      const std::string& newname) = 0;
  // renameat2(2) with RENAME_* `flags` (RENAME_NOREPLACE, RENAME_EXCHANGE, RENAME_WHITEOUT).
  virtual Status Rename(int olddirfd, const std::string& oldname, int newdirfd,
                        const std::string& newname, unsigned flags) = 0;
  // unlinkat(2); AT_REMOVEDIR in `flags` removes a directory.
  virtual Status Unlink(int dirfd, const std::string& name, int flags) = 0;

  virtual Result<size_t> PRead(int fd, void* buf, size_t len, off_t off) = 0;
  virtual Result<size_t> PWrite(int fd, const void* buf, size_t len, off_t off) = 0;
  // Copies `len` bytes from the start of `from` to the start of `to` (copy_file_range, with a
  // read/write fallback).
  virtual Status CopyData(int from, int to, uint64_t len) = 0;
  virtual Status Truncate(int fd, off_t len) = 0;
  virtual Status Fsync(int fd) = 0;
  virtual Status Fdatasync(int fd) = 0;

  // Metadata of dirfd/name (name "" = dirfd itself), never following symlinks.
  virtual Status Chmod(int dirfd, const std::string& name, mode_t mode) = 0;
  virtual Status Chown(int dirfd, const std::string& name, uid_t uid, gid_t gid) = 0;
  // utimensat(2) semantics: UTIME_NOW / UTIME_OMIT allowed in `times`.
  virtual Status SetTimes(int dirfd, const std::string& name, const struct timespec times[2]) = 0;

  // Extended attributes of dirfd/name (name "" = dirfd itself), never following symlinks.
  // GetXattr gives nullopt when the attribute does not exist.
  virtual Result<std::optional<std::string>> GetXattr(int dirfd, const std::string& name,
                                                      const std::string& attr) = 0;
  virtual Status SetXattr(int dirfd, const std::string& name, const std::string& attr,
                          const std::string& value) = 0;
  virtual Status RemoveXattr(int dirfd, const std::string& name, const std::string& attr) = 0;
  virtual Result<std::vector<std::string>> ListXattr(int dirfd, const std::string& name) = 0;

  // Filesystem statistics of the filesystem holding fd.
  virtual Result<struct statvfs> StatFs(int fd) = 0;
};

// The real thing: direct system calls.
FsEnv* DefaultFsEnv();

}  // namespace ovl
