// UnionFs: the overlay (union) of N read-only lower directories and one upper directory, with
// persistent, self-describing object handles. This is what the NFS procedures call; it knows
// nothing of RPC or XDR. Every function is safe to call from many threads at once.
//
// Object identity: an object is named by its *origin*: the real inode it came from (a lower inode
// for anything that existed in a lower layer, the upper inode for anything created through the
// union). The handle encodes the origin's real filesystem handle, so it survives copy-up, rename,
// eviction of every cache, restart and crash. See docs/handle-format.md.
#pragma once

#include <sys/stat.h>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/planted_bugs.h"
#include "base/status.h"
#include "fs/fs_env.h"

namespace ovl {

enum class FileType : uint8_t { kReg = 1, kDir, kBlk, kChr, kLnk, kSock, kFifo };

// An opaque, byte-exact handle (at most kMaxHandleSize bytes).
inline constexpr size_t kMaxHandleSize = 64;
using Handle = std::string;

// Caller identity (AUTH_SYS after squashing) for permission checks and ownership of new objects.
struct Cred {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::vector<uint32_t> groups;
};

struct Attr {
  FileType type = FileType::kReg;
  uint32_t mode = 0;  // permission bits incl. setuid/setgid/sticky, no type bits
  uint32_t nlink = 0;
  uint32_t uid = 0, gid = 0;
  uint64_t size = 0, used = 0;
  uint32_t rdev_major = 0, rdev_minor = 0;
  uint64_t fsid = 0;
  uint64_t fileid = 0;  // stable across copy-up: the origin's inode number
  struct timespec atime {
  }, mtime{}, ctime{};
};

// Which attributes SETATTR changes. Unset optionals are left alone.
struct SetAttrRequest {
  std::optional<uint32_t> mode, uid, gid;
  std::optional<uint64_t> size;
  enum class Time { kDontChange, kServerNow, kClient };
  Time atime_how = Time::kDontChange, mtime_how = Time::kDontChange;
  struct timespec atime {
  }, mtime{};
};

// A resolved object: what a handle or a lookup refers to right now.
struct Node {
  Handle handle;
  FileType type = FileType::kReg;
};

struct DirEntryPlus {
  std::string name;
  uint64_t fileid = 0;
  uint64_t cookie = 0;       // resume READDIR after this entry
  std::optional<Node> node;  // filled for ReadDir(..., plus=true)
  std::optional<Attr> attr;  // filled for ReadDir(..., plus=true)
};

struct DirPage {
  std::vector<DirEntryPlus> entries;
  bool eof = false;
};

enum class StableHow : uint32_t { kUnstable = 0, kDataSync = 1, kFileSync = 2 };

struct WriteResult {
  uint32_t count = 0;
  StableHow committed = StableHow::kFileSync;
};

struct ReadResult {
  std::string data;
  bool eof = false;
};

// A read into the caller's buffer.
struct ReadInfo {
  size_t count = 0;
  bool eof = false;
  Attr attr;  // the file's attributes right after the read
};

enum class CreateMode { kUnchecked, kGuarded, kExclusive };

// Counters proving which path decodes took (see DropCaches).
struct UnionCounters {
  uint64_t decode_cache_hits = 0;
  uint64_t decode_index_lookups = 0;  // decodes that had to consult the on-disk index / layers
  uint64_t decode_stale = 0;
  uint64_t decode_bad = 0;
  uint64_t copy_ups = 0;
  uint64_t cache_drops = 0;
};

struct UnionOptions {
  std::vector<std::string> lower_dirs;  // top-most first
  std::string upper_dir;
  std::string work_dir;
  // Negative controls. kVolatile: handles embed a per-start generation, so every handle dies at
  // restart. no_index: decode only through an in-memory map, so handles die with the process or
  // an eviction.
  enum class HandleMode { kPersistent, kVolatile } handle_mode = HandleMode::kPersistent;
  bool use_index = true;
  bool read_only = false;
  Plants plants;         // deliberate mistakes (base/planted_bugs.h); empty for a correct server
  FsEnv* env = nullptr;  // nullptr = DefaultFsEnv()
  // Start-up notes, one line each (an intent record recovery had to discard); empty = none.
  std::function<void(const std::string&)> log;
};

class UnionFs {
 public:
  // Opens the union: validates the directories, creates the work-dir structure, loads or creates
  // the export UUID, and recovers from a crash (removes half-made copy-ups, turns orphan index
  // entries into tombstones).
  static Result<std::unique_ptr<UnionFs>> Open(const UnionOptions& options);
  virtual ~UnionFs() = default;

  // The export root.
  virtual Result<Node> Root() = 0;
  // Decodes handle bytes. kErrBadHandle when malformed; ESTALE when well formed but the object
  // is gone or belongs to another export.
  virtual Result<Node> Decode(const Handle& handle) = 0;

  virtual Result<Attr> GetAttr(const Node& node) = 0;
  // Copies up first when the object lives in a lower layer. Size changes need a regular file.
  virtual Status SetAttr(const Node& node, const SetAttrRequest& req) = 0;
  // "." and ".." are handled (".." of the root is the root). ENOENT, ENOTDIR.
  virtual Result<Node> Lookup(const Node& dir, const std::string& name) = 0;
  virtual Result<std::string> ReadLink(const Node& node) = 0;
  virtual Result<ReadResult> Read(const Node& node, uint64_t offset, uint32_t count) = 0;
  // As Read, into `buf` (room for `count` bytes), so a server can read straight into the
  // buffer it sends from.
  virtual Result<ReadInfo> ReadInto(const Node& node, uint64_t offset, uint32_t count,
                                    char* buf) = 0;
  // Copies up first when needed. kFileSync/kDataSync writes are durable before returning.
  virtual Result<WriteResult> Write(const Node& node, uint64_t offset, const std::string& data,
                                    StableHow stable) = 0;
  // Makes all data written to the file durable.
  virtual Status Commit(const Node& node) = 0;

  // New objects are owned by cred.uid/gid. EEXIST per mode; kExclusive with the same `verifier`
  // as an earlier (possibly pre-restart) call returns that earlier file.
  virtual Result<Node> Create(const Node& dir, const std::string& name, CreateMode mode,
                              uint32_t perm, const std::array<uint8_t, 8>& verifier,
                              const Cred& cred) = 0;
  virtual Result<Node> MkDir(const Node& dir, const std::string& name, uint32_t perm,
                             const Cred& cred) = 0;
  virtual Result<Node> Symlink(const Node& dir, const std::string& name, const std::string& target,
                               const Cred& cred) = 0;
  // type is kChr, kBlk, kSock or kFifo.
  virtual Result<Node> MkNod(const Node& dir, const std::string& name, FileType type, uint32_t perm,
                             uint32_t major, uint32_t minor, const Cred& cred) = 0;
  // Removes a non-directory name (EISDIR for a directory). Leaves a whiteout where a lower entry
  // of that name exists; the last name of a lower-origin object leaves a tombstone in the index.
  virtual Status Remove(const Node& dir, const std::string& name) = 0;
  // ENOTEMPTY unless the merged directory is empty.
  virtual Status RmDir(const Node& dir, const std::string& name) = 0;
  virtual Status Rename(const Node& from_dir, const std::string& from_name, const Node& to_dir,
                        const std::string& to_name) = 0;
  virtual Status Link(const Node& file, const Node& dir, const std::string& name) = 0;
  // Asked about each entry of a page, once it is complete, in order: false ends the page before
  // it (not at eof), so a caller with a byte budget gets exactly what fits and no entry is
  // looked up only to be thrown away.
  using EntryFits = std::function<bool(const DirEntryPlus&)>;
  // One page of the merged directory listing, resuming after `cookie` (0 = start). Cookies are
  // stable across eviction and restart. `max_entries` and `fits` (when set) bound the page.
  virtual Result<DirPage> ReadDir(const Node& dir, uint64_t cookie, size_t max_entries, bool plus,
                                  const EntryFits& fits = nullptr) = 0;
  virtual Result<struct statvfs> StatFs() = 0;

  // Drops every in-memory cache (handle table, lookup and directory caches). Afterwards decodes
  // go through the on-disk index and the layers.
  virtual void DropCaches() = 0;
  virtual UnionCounters Counters() const = 0;
  // The per-export UUID (persisted in the work dir).
  virtual std::array<uint8_t, 16> ExportUuid() const = 0;
};

// Mode checks for NFS ACCESS and for the permission checks done before each operation.
// `want` is a mask of R_OK/W_OK/X_OK. Root (uid 0) passes every check except X on files with
// no x bit at all.
bool MayAccess(const Attr& attr, const Cred& cred, int want);

}  // namespace ovl
