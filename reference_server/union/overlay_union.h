// OverlayUnion: the UnionFs implementation. Internal to the union module; the files are split by
// concern: resolve.cc (handles, lookup, directory stacks), copy_up.cc, namespace_ops.cc,
// data_ops.cc, readdir.cc.
//
// Locking: `rename_mu_` is held shared by every path-dependent operation and exclusively by a
// directory rename (paths below it change), like the VFS's per-superblock rename mutex. Changes
// to a directory's entries take that directory's stripe lock; copy-up takes the object's stripe.
// No lock is held across I/O by reads, writes and getattr beyond the stripe of an object being
// copied up. `cache_mu_` guards only the in-memory caches and is never held across I/O.
#pragma once

#include <fcntl.h>
#include <sys/sysmacros.h>

#include <atomic>
#include <map>
#include <unordered_map>
#include <vector>

#include "base/mutex.h"
#include "union/handle_codec.h"
#include "union/index.h"
#include "union/layers.h"
#include "union/union_fs.h"

namespace ovl {

// The real directories a union directory merges.
struct DirStack {
  bool has_upper = false;
  bool opaque = false;  // the upper dir hides everything below it
  struct Lower {
    uint8_t layer;
    std::string relpath;  // "" = layer root
  };
  std::vector<Lower> lowers;  // top-most first
  bool operator==(const DirStack& o) const {
    if (has_upper != o.has_upper || opaque != o.opaque || lowers.size() != o.lowers.size()) {
      return false;
    }
    for (size_t i = 0; i < lowers.size(); ++i) {
      if (lowers[i].layer != o.lowers[i].layer || lowers[i].relpath != o.lowers[i].relpath) {
        return false;
      }
    }
    return true;
  }
};

// Open real directories of one union directory, for lookups of many names in it (a READDIR
// page): -1 where the caller did not open one, so the lookup opens it itself.
struct LayerDirFds {
  int upper = -1;
  std::vector<int> lowers;  // parallel to DirStack::lowers
};

// What tells that a real directory's entries may have changed: a change to the entries updates
// mtime and ctime. Timestamps come from a coarse clock on kernels without multigrain timestamps
// (before 6.13), so a change made behind the server's back in the same clock tick as the last
// one can go unseen there; the server's own changes never rely on the stamp (see
// OverlayUnion::AfterUpperChange).
struct DirStamp {
  dev_t dev = 0;
  ino_t ino = 0;
  struct timespec mtime {};
  struct timespec ctime {};
  off_t size = 0;
  bool operator==(const DirStamp& o) const {
    return dev == o.dev && ino == o.ino && mtime.tv_sec == o.mtime.tv_sec &&
           mtime.tv_nsec == o.mtime.tv_nsec && ctime.tv_sec == o.ctime.tv_sec &&
           ctime.tv_nsec == o.ctime.tv_nsec && size == o.size;
  }
};

// A union object resolved now.
struct Obj {
  ObjectId id;  // the origin: what the handle encodes
  FileType type = FileType::kReg;
  // The inode that holds the object's current state: in the upper filesystem (an upper entry or
  // an index entry) when real_layer == kUpperLayer, else the untouched lower inode.
  uint8_t real_layer = kUpperLayer;
  RealFh real_fh;
  uint64_t origin_ino = 0;  // st_ino of the origin inode (stable fileid across copy-up)
  int origin_nlink = 1;     // st_nlink of a lower origin (base of the union link count)
  std::string index_name;   // lower-origin objects: their index entry name
  // The union path the object was met at ("" = root, "a/b"). Always set for directories; for
  // other objects only when found by name (a decoded handle does not carry it).
  std::string path;
  bool is_dir() const { return type == FileType::kDir; }
  bool copied_up() const { return real_layer == kUpperLayer; }
};

// What a name in a directory resolves to (the result of a union lookup of one component).
struct Dentry {
  Obj obj;
  bool in_upper = false;  // the name itself is an upper entry (else a lower-only alias)
  DirStack stack;         // directories: what the directory merges
};

class OverlayUnion final : public UnionFs {
 public:
  OverlayUnion(const UnionOptions& opts, FsEnv* env, LayerSet layers);

  Result<Node> Root() override;
  Result<Node> Decode(const Handle& handle) override;
  Result<Attr> GetAttr(const Node& node) override;
  Status SetAttr(const Node& node, const SetAttrRequest& req) override;
  Result<Node> Lookup(const Node& dir, const std::string& name) override;
  Result<std::string> ReadLink(const Node& node) override;
  Result<ReadResult> Read(const Node& node, uint64_t offset, uint32_t count) override;
  Result<ReadInfo> ReadInto(const Node& node, uint64_t offset, uint32_t count, char* buf) override;
  Result<WriteResult> Write(const Node& node, uint64_t offset, const std::string& data,
                            StableHow stable) override;
  Status Commit(const Node& node) override;
  Result<Node> Create(const Node& dir, const std::string& name, CreateMode mode, uint32_t perm,
                      const std::array<uint8_t, 8>& verifier, const Cred& cred) override;
  Result<Node> MkDir(const Node& dir, const std::string& name, uint32_t perm,
                     const Cred& cred) override;
  Result<Node> Symlink(const Node& dir, const std::string& name, const std::string& target,
                       const Cred& cred) override;
  Result<Node> MkNod(const Node& dir, const std::string& name, FileType type, uint32_t perm,
                     uint32_t major, uint32_t minor, const Cred& cred) override;
  Status Remove(const Node& dir, const std::string& name) override;
  Status RmDir(const Node& dir, const std::string& name) override;
  Status Rename(const Node& from_dir, const std::string& from_name, const Node& to_dir,
                const std::string& to_name) override;
  Status Link(const Node& file, const Node& dir, const std::string& name) override;
  Result<DirPage> ReadDir(const Node& dir, uint64_t cookie, size_t max_entries, bool plus,
                          const EntryFits& fits = nullptr) override;
  Result<struct statvfs> StatFs() override;
  void DropCaches() override;
  UnionCounters Counters() const override;
  std::array<uint8_t, 16> ExportUuid() const override { return layers_.export_uuid; }

  // Sets up the root object; called once by UnionFs::Open.
  Status InitRoot();

 private:
  // ---- resolve.cc
  Result<Obj> Resolve(const Handle& handle);
  Result<Obj> ResolveUncached(const HandleFields& f);
  Result<Obj> ResolveDir(const Handle& handle);  // ENOTDIR unless a directory
  Result<Handle> HandleOf(const Obj& obj) const;
  // The node for `obj`, met at `union_path` (remembered by the no-index negative control).
  Result<Node> NodeOf(const Obj& obj, const std::string& union_path);
  Result<DirStack> StackOf(const std::string& path);
  // Lower directories at `relpath` in the static merge of the lower layers (no upper).
  Result<std::vector<DirStack::Lower>> StaticLowerWalk(const std::string& relpath);
  uint8_t CanonicalLayer(uint8_t layer) const;
  // Union lookup of `name` in the directory at `dir_path` with stack `stack`.
  // `fds` (optional) holds already open real directories of `stack`.
  Result<Dentry> LookupIn(const std::string& dir_path, const DirStack& stack,
                          const std::string& name, const LayerDirFds* fds = nullptr);
  Result<Dentry> LookupPath(const std::string& path);
  // Builds an Obj for a lower non-directory at layer/relpath.
  Result<Obj> LowerObj(uint8_t layer, int dirfd, const std::string& name, const struct stat& st);
  // Builds an Obj for an upper entry dirfd/name.
  Result<Obj> UpperObj(int dirfd, const std::string& name, const struct stat& st,
                       const std::string& union_path);
  // Finds the layer whose filesystem decodes `fb` to an inode beneath its root.
  Result<uint8_t> LayerOfOrigin(const OvlFb& fb, Fd* opened);
  Result<std::string> UnionPathOfLowerDir(uint8_t layer, const std::string& relpath);
  Result<std::string> RelPathBeneath(const Layer& layer, int fd);
  // Whether any lower dir of `stack` has an entry (not a whiteout) named `name`.
  Result<bool> LowerHasName(const DirStack& stack, const std::string& name);
  Result<Fd> OpenReal(const Obj& obj, int flags);
  Result<Fd> OpenUpperDir(const std::string& path, int flags = O_RDONLY | O_DIRECTORY);
  std::string IndexNameOf(const ObjectId& id) const;
  Result<Attr> AttrOf(const Obj& obj);
  // The attributes of `obj` whose real inode's stat is `st`.
  Attr AttrOfStat(const Obj& obj, const struct stat& st);
  uint64_t FileIdOf(const Obj& obj) const;

  // The object after making sure it lives in the upper layer (copying it up if needed).
  Result<Obj> CopiedUp(const Handle& handle);

  // ---- copy_up.cc
  // Makes the directory at union `path` (and its ancestors) exist in the upper layer.
  Status CopyUpDir(const std::string& path) REQUIRES_SHARED(rename_mu_);
  // Gives the merge dir `path` (with `stack`) its index entry if it has none: one that an
  // overlay without index copied up (fstests overlay/054). Rename calls it before moving the dir,
  // which cuts the lower path that decoding would otherwise follow (UnionPathOfLowerDir).
  Status IndexMergeDir(const std::string& path, const DirStack& stack) REQUIRES(rename_mu_);
  // The origin (ovl_fb) of the lower dir open as `dirfd` in lower layer `layer`.
  Result<OvlFb> LowerDirOrigin(int dirfd, uint8_t layer);
  // Makes W/index name `origin` the upper dir `name` of `parent`.
  Status IndexUpperDir(const OvlFb& origin, int parent, const std::string& name);
  // Copies a lower non-directory into the index; when `parent_fd` is valid also links it as
  // `name` there (the name it is visible under). Updates `obj` to the copy.
  Status CopyUpFile(Obj& obj, int parent_fd, const std::string& name) REQUIRES_SHARED(rename_mu_);
  Status CopyMetadata(int src_dirfd, const std::string& src_name, const struct stat& st,
                      int dst_dirfd, const std::string& dst_name);

  // ---- namespace_ops.cc
  Result<Node> CreateObject(const Node& dir, const std::string& name, FileType type, uint32_t perm,
                            const Cred& cred, const std::string& symlink_target, dev_t rdev,
                            const std::array<uint8_t, 8>* verifier);
  // Dropping one name of an object, around the change of the name itself: PrepareDrop runs
  // before, FinishDrop after. The last name of a removed object gets its tombstone first (the
  // handle is dead before the name goes, and a name left behind by a crash is hidden); when the
  // name is replaced by a rename (`replaced`), or other names stay, an intent record carries the
  // change so recovery completes it exactly when the name change happened. The upper dir `path`
  // must exist.
  struct DropPlan {
    bool intent = false;
    int new_nlink = 0;
  };
  Result<DropPlan> PrepareDrop(const std::string& path, const std::string& name, Dentry& d,
                               bool replaced) REQUIRES_SHARED(rename_mu_);
  Status FinishDrop(const DropPlan& plan, const Dentry& d);
  // Removes `name` (resolving to `d`) from the directory at `path`: whiteout or unlink, with the
  // index bookkeeping around it.
  Status DropNameHere(const std::string& path, const DirStack& stack, const std::string& name,
                      Dentry& d) REQUIRES_SHARED(rename_mu_);
  Status PlaceWhiteoutOrUnlink(int parent_fd, const std::string& name, bool upper_entry,
                               bool whiteout);
  Status ClearDirForReplace(const std::string& path, const std::string& name) REQUIRES(rename_mu_);

  // ---- readdir.cc
  struct MergedEntry {
    std::string name;
    uint64_t cookie;
    uint64_t ino;  // fileid hint; 0 = compute by lookup
  };
  // The merged listing of one union directory, valid while its stack and the stamps of the real
  // directories it read are unchanged. Shared read-only; a change makes a new one.
  struct DirListing {
    DirStack stack;
    std::vector<DirStamp> stamps;      // upper (when has_upper), then each lower read
    std::vector<MergedEntry> entries;  // cookie order
    // What each name led to when a page last looked it up (empty handle: not yet), so the next
    // page decodes the handle (a table hit) instead of looking the name up in every layer.
    struct Known {
      Handle handle;
      uint64_t fileid = 0;
    };
    mutable Mutex mu;
    mutable std::vector<Known> known GUARDED_BY(mu);  // parallel to entries
  };
  using ListingRef = std::shared_ptr<const DirListing>;
  // Real directories of `stack`, opened for reading, with their stamps.
  struct OpenedDirs {
    std::vector<Fd> owned;
    LayerDirFds fds;
    std::vector<DirStamp> stamps;
  };
  Result<OpenedDirs> OpenDirs(const std::string& path, const DirStack& stack);
  // The cached listing of `path` when still valid for `dirs`, else a new one read through them.
  Result<ListingRef> Listing(const std::string& path, const DirStack& stack,
                             const OpenedDirs& dirs);
  Result<bool> DirIsEmpty(const std::string& path, const DirStack& stack);
  // The server's own change of name `name` in the upper directory at `path` (open as
  // `upper_fd`, whose stamp was `before` just before the change): the cached listing is
  // updated for that name and takes the new stamp, or is dropped when anything else changed.
  void AfterUpperChange(const std::string& path, int upper_fd, const Result<DirStamp>& before,
                        const std::string& name);
  // The ctime of the union directory at `path` whose own (real) ctime is `own`: the latest of
  // it and its lower directories'. Clients judge their cached names in a directory by its
  // ctime (the NFSv3 change attribute), and a lower layer changed while the server was down
  // changes the merged entries without touching the upper directory (docs/findings.md #16).
  // Only ctime: a client may set mtime, never ctime.
  Result<struct timespec> MergedCtime(const std::string& path, struct timespec own);
  Result<DirStamp> StampOf(int fd);
  std::atomic<uint64_t>& ListingGen(const std::string& path);

  // ---- caches (overlay_union.cc)
  void CacheObj(const Handle& h, const Obj& obj);
  void ForgetObj(const Obj& obj);
  void ForgetDirs();  // every cached directory path and stack (after a directory rename/rmdir)
  void ForgetListing(const std::string& dir_path);
  Mutex& StripeOf(const ObjectId& id);

  static constexpr size_t kMaxCacheEntries = 1 << 18;

  UnionOptions opts_;
  FsEnv* env_;
  LayerSet layers_;
  IndexStore index_;
  uint32_t boot_generation_;  // this instance's: keys volatile handles (before codec_)
  HandleCodec codec_;
  Obj root_;

  SharedMutex rename_mu_;
  std::array<Mutex, 64> stripes_;

  mutable Mutex cache_mu_;
  std::unordered_map<Handle, Obj> obj_cache_ GUARDED_BY(cache_mu_);
  std::unordered_map<std::string, DirStack> stack_cache_ GUARDED_BY(cache_mu_);
  std::unordered_map<std::string, ListingRef> listing_cache_ GUARDED_BY(cache_mu_);
  // Bumped by every change to a directory's listing (by path hash): a listing read while one
  // happened is not cached, since it may predate the change while carrying a later stamp.
  std::array<std::atomic<uint64_t>, 64> listing_gens_{};
  // no_index negative control: the only way it can decode a handle (handle -> union path).
  std::unordered_map<Handle, std::string> path_map_ GUARDED_BY(cache_mu_);

  std::atomic<uint64_t> hits_{0}, index_lookups_{0}, stale_{0}, bad_{0}, copy_ups_{0}, drops_{0};
};

// Locks several stripes at once in address order (deduplicated) so two operations never deadlock.
// A set of locks known only at run time: clang's thread-safety analysis cannot follow it.
class StripeLocks {
 public:
  explicit StripeLocks(std::vector<Mutex*> mus) NO_THREAD_SAFETY_ANALYSIS;
  ~StripeLocks() NO_THREAD_SAFETY_ANALYSIS;
  StripeLocks(const StripeLocks&) = delete;
  StripeLocks& operator=(const StripeLocks&) = delete;

 private:
  std::vector<Mutex*> mus_;
};

inline bool IsWhiteoutStat(const struct stat& st) {
  return S_ISCHR(st.st_mode) && major(st.st_rdev) == 0 && minor(st.st_rdev) == 0;
}
FileType TypeOfMode(mode_t mode);
std::string JoinPath(const std::string& dir, const std::string& name);
std::string Dirname(const std::string& path);
std::string Basename(const std::string& path);

}  // namespace ovl
