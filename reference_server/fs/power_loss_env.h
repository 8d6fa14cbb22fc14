// PowerLossEnv: an FsEnv test double that remembers what each file and directory held when it
// was last made durable, and on a simulated power cut puts the disk back to exactly that
// (modelled on DropUnsyncedFileData in LevelDB's db/fault_injection_test.cc, extended to
// directories, xattrs and renames). FaultInjectionEnv uses it for its power-loss mode.
//
// The model. Tracking starts with Start(); what exists then counts as durable as it is. After:
//  - A regular file's bytes (and so its size) are durable as of its last Fsync or Fdatasync.
//    A file created since Start and never synced comes back empty.
//  - An inode's xattrs, mode and owner are durable as of its last Fsync (not Fdatasync). An
//    inode that cannot be fsynced (symlink, FIFO, socket, device node, whiteout) has them made
//    durable by the Fsync of a directory that holds a name of it at that moment: the journal
//    ordering union/layers.cc's SyncEntry relies on. A new inode's mode and owner at creation
//    are durable with its name.
//  - A directory's entries (name -> inode) are durable as of its last Fsync or Fdatasync:
//    names made since then vanish, names removed since come back (to the same inode).
//  - A rename is one atomic step, durable once either directory it touches is synced after it
//    (as on ext4 and xfs, where it is one journal transaction); until then it is wholly undone,
//    including the whiteout RENAME_WHITEOUT leaves. An inode renamed again later cannot be
//    durable at an older place: a durable rename makes the inode's earlier renames durable too.
//  - An inode that no durable name reaches is gone after the cut.
// Not modelled: timestamps (never rolled back); torn or reordered writes inside a file (a file
// is wholly its synced bytes); a directory that a rename replaced comes back as a new inode (its
// synced entries and metadata restored, its inode number new); a filesystem that makes more
// durable than this (ext4's whole-journal commits) is not imitated: the model is the least a
// POSIX application may rely on, plus atomic rename. Changes made around the env (direct system
// calls) are not seen. Link counts are not tracked: they follow from the names a cut restores.
// Every tracked inode must live on the scratch directory's filesystem. While tracking, the last
// name of a non-directory, and an empty directory removed by rmdir, are kept alive in the
// scratch directory instead of being freed (so a cut can bring them back): an fd still open on
// such a file sees st_nlink 1, not 0.
//
// While tracking, Fsync and Fdatasync only record (the real disk never loses power, so the real
// calls would only cost time). Thread-safe: tracked calls run one at a time.
#pragma once

#include <sys/stat.h>

#include <compare>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/mutex.h"
#include "fs/fs_env_wrapper.h"

namespace ovl {

class PowerLossEnv : public FsEnvWrapper {
 public:
  // Forwards to `target`, which must outlive this object. Passes every call straight through
  // until Start.
  explicit PowerLossEnv(FsEnv* target) : FsEnvWrapper(target) {}

  // Starts tracking: from now on the disk as it is counts as durable, and changes count only
  // once synced. `scratch_dirfd` is an empty directory on the filesystem the tracked files live
  // on (the env keeps its own fd), where inodes a cut may need are kept; the caller must not use
  // it while tracking. Forgets an earlier tracking.
  Status Start(int scratch_dirfd) EXCLUDES(mu_);
  // Whether Start was called and no Cut since.
  bool tracking() const EXCLUDES(mu_);
  // The power cut: every tracked directory gets back its durable entries, every tracked file
  // its durable bytes, every tracked inode its durable xattrs, mode and owner (see above);
  // then the scratch directory is emptied and tracking stops. An error means the disk could
  // not be put back wholly (the model was broken, e.g. a directory named by two durable
  // entries); tracking stops either way.
  Status Cut() EXCLUDES(mu_);

  Result<Fd> OpenBeneath(int dirfd, const std::string& relpath, int flags, mode_t mode = 0) override
      EXCLUDES(mu_);
  Status MkDir(int dirfd, const std::string& name, mode_t mode) override EXCLUDES(mu_);
  Status MkNod(int dirfd, const std::string& name, mode_t mode, dev_t dev) override EXCLUDES(mu_);
  Status Symlink(const std::string& target, int dirfd, const std::string& name) override
      EXCLUDES(mu_);
  Status Link(int olddirfd, const std::string& oldname, int newdirfd,
              const std::string& newname) override EXCLUDES(mu_);
  Status Rename(int olddirfd, const std::string& oldname, int newdirfd, const std::string& newname,
                unsigned flags) override EXCLUDES(mu_);
  Status Unlink(int dirfd, const std::string& name, int flags) override EXCLUDES(mu_);
  Result<size_t> PWrite(int fd, const void* buf, size_t len, off_t off) override EXCLUDES(mu_);
  Status CopyData(int from, int to, uint64_t len) override EXCLUDES(mu_);
  Status Truncate(int fd, off_t len) override EXCLUDES(mu_);
  Status Fsync(int fd) override EXCLUDES(mu_);
  Status Fdatasync(int fd) override EXCLUDES(mu_);
  Status Chmod(int dirfd, const std::string& name, mode_t mode) override EXCLUDES(mu_);
  Status Chown(int dirfd, const std::string& name, uid_t uid, gid_t gid) override EXCLUDES(mu_);
  Status SetXattr(int dirfd, const std::string& name, const std::string& attr,
                  const std::string& value) override EXCLUDES(mu_);
  Status RemoveXattr(int dirfd, const std::string& name, const std::string& attr) override
      EXCLUDES(mu_);

 private:
  struct InodeKey {
    dev_t dev = 0;
    ino_t ino = 0;
    auto operator<=>(const InodeKey&) const = default;
  };
  using Entries = std::map<std::string, InodeKey>;
  struct Meta {
    mode_t mode = 0;  // permission bits
    uid_t uid = 0;
    gid_t gid = 0;
    std::map<std::string, std::string> xattrs;
  };
  // A tracked inode and its durable state.
  struct Inode {
    InodeKey key;
    Fd keep;           // keeps the inode reachable: O_PATH, or O_RDONLY for a directory
    mode_t type = 0;   // S_IFMT bits
    Meta meta;         // durable xattrs, mode, owner
    std::string data;  // regular file: durable bytes
    Entries entries;   // directory: durable entries
  };
  // One name moved by a rename.
  struct Move {
    InodeKey inode, from_dir, to_dir;
    std::string from, to;
  };
  // A rename not yet durable: one move, or two for RENAME_EXCHANGE.
  struct PendingRename {
    std::vector<Move> moves;
    std::optional<InodeKey> whiteout;  // RENAME_WHITEOUT: left at the first move's source
  };

  // The tracked inode dirfd/name (name "" = dirfd itself), tracked from now on with its current
  // state as durable if it was not yet.
  Result<Inode*> Track(int dirfd, const std::string& name) REQUIRES(mu_);
  // Starts tracking an inode made just now: nothing of it is durable but its mode and owner.
  Result<InodeKey> TrackNew(int dirfd, const std::string& name) REQUIRES(mu_);
  // Track(dirfd, name) when tracking, before a call that changes that inode.
  Status Touch(int dirfd, const std::string& name) REQUIRES(mu_);
  // Runs `make`, which creates dirfd/name, tracking the directory before and the new inode after.
  Status Made(int dirfd, const std::string& name, const std::function<Status()>& make)
      EXCLUDES(mu_);
  Result<Inode> Snapshot(int dirfd, const std::string& name, const struct stat& st) REQUIRES(mu_);
  // Makes dirfd/name, a regular file with one link, survive losing that link (see the header).
  Status KeepLastLink(int dirfd, const std::string& name, const struct stat& st) REQUIRES(mu_);
  // The Fsync (`all`) or Fdatasync of `fd` succeeded: records what became durable.
  Status Synced(int fd, bool all) REQUIRES(mu_);
  // Applies the renames touching the directory `dir` to the durable entries they change.
  void RenamesSynced(const InodeKey& dir) REQUIRES(mu_);
  // The parts of Cut.
  Status Restore() REQUIRES(mu_);
  Status RestoreEntries(Inode& dir) REQUIRES(mu_);
  Status BringBack(int dirfd, const std::string& name, const InodeKey& key) REQUIRES(mu_);
  Status RestoreContent(Inode& inode) REQUIRES(mu_);
  Result<Entries> ReadEntries(int dirfd);
  Result<Meta> ReadMeta(int fd);
  Result<std::string> ReadData(int fd);  // a regular file's bytes, through any fd of it
  Status MoveToScratch(int dirfd, const std::string& name) REQUIRES(mu_);
  Status RemoveBelow(int dirfd);

  mutable Mutex mu_;
  bool tracking_ GUARDED_BY(mu_) = false;
  Fd scratch_ GUARDED_BY(mu_);
  InodeKey scratch_key_ GUARDED_BY(mu_);
  uint64_t scratch_names_ GUARDED_BY(mu_) = 0;
  std::map<InodeKey, Inode> inodes_ GUARDED_BY(mu_);
  std::vector<PendingRename> renames_ GUARDED_BY(mu_);
};

}  // namespace ovl
