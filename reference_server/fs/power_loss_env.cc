#include "fs/power_loss_env.h"

#include <fcntl.h>
#include <stdio.h>

#include <set>
#include <utility>

namespace ovl {
namespace {

bool OpenMutates(int flags) {
  return (flags & O_CREAT) != 0 || (flags & O_TRUNC) != 0 || (flags & O_TMPFILE) == O_TMPFILE;
}

// Opens `path` (absolute).
Result<Fd> Reopen(const std::string& path, int flags) {
  Fd out(open(path.c_str(), flags | O_CLOEXEC));
  if (!out.valid()) {
    const int err = errno;  // before building the message, which may clobber it
    return Status::Error(err, "open " + path);
  }
  return out;
}

// Reopens the regular file behind `fd` (even an O_PATH one) through its /proc magic link.
Result<Fd> Reopen(int fd, int flags) {
  return Reopen("/proc/self/fd/" + std::to_string(fd), flags);
}

}  // namespace

Status PowerLossEnv::Start(int scratch_dirfd) {
  MutexLock l(&mu_);
  inodes_.clear();
  renames_.clear();
  tracking_ = false;
  OVL_ASSIGN_OR_RETURN(scratch_,
                       FsEnvWrapper::OpenBeneath(scratch_dirfd, "", O_RDONLY | O_DIRECTORY));
  OVL_ASSIGN_OR_RETURN(struct stat st, FsEnvWrapper::Stat(scratch_.get(), ""));
  scratch_key_ = InodeKey{st.st_dev, st.st_ino};
  tracking_ = true;
  return Status::Ok();
}

bool PowerLossEnv::tracking() const {
  MutexLock l(&mu_);
  return tracking_;
}

Result<PowerLossEnv::Entries> PowerLossEnv::ReadEntries(int dirfd) {
  OVL_ASSIGN_OR_RETURN(auto list, FsEnvWrapper::ReadDir(dirfd));
  Entries out;
  for (const DirEntry& e : list) {
    // d_ino may differ from st_ino (overlayfs): the inode is what lstat says.
    OVL_ASSIGN_OR_RETURN(struct stat st, FsEnvWrapper::Stat(dirfd, e.name));
    out[e.name] = InodeKey{st.st_dev, st.st_ino};
  }
  return out;
}

Result<PowerLossEnv::Meta> PowerLossEnv::ReadMeta(int fd) {
  OVL_ASSIGN_OR_RETURN(struct stat st, FsEnvWrapper::Stat(fd, ""));
  Meta m;
  m.mode = st.st_mode & 07777;
  m.uid = st.st_uid;
  m.gid = st.st_gid;
  OVL_ASSIGN_OR_RETURN(auto names, FsEnvWrapper::ListXattr(fd, ""));
  for (const std::string& attr : names) {
    OVL_ASSIGN_OR_RETURN(auto value, FsEnvWrapper::GetXattr(fd, "", attr));
    if (value) m.xattrs[attr] = *value;
  }
  return m;
}

Result<std::string> PowerLossEnv::ReadData(int fd) {
  OVL_ASSIGN_OR_RETURN(Fd r, Reopen(fd, O_RDONLY));
  OVL_ASSIGN_OR_RETURN(struct stat st, FsEnvWrapper::Stat(r.get(), ""));
  std::string data(static_cast<size_t>(st.st_size), '\0');
  OVL_ASSIGN_OR_RETURN(size_t n, FsEnvWrapper::PRead(r.get(), data.data(), data.size(), 0));
  data.resize(n);
  return data;
}

Result<PowerLossEnv::Inode> PowerLossEnv::Snapshot(int dirfd, const std::string& name,
                                                   const struct stat& st) {
  Inode in;
  in.key = InodeKey{st.st_dev, st.st_ino};
  in.type = st.st_mode & S_IFMT;
  if (S_ISDIR(st.st_mode)) {
    OVL_ASSIGN_OR_RETURN(in.keep, FsEnvWrapper::OpenBeneath(dirfd, name, O_RDONLY | O_DIRECTORY));
    OVL_ASSIGN_OR_RETURN(in.entries, ReadEntries(in.keep.get()));
  } else if (name.empty()) {
    in.keep = Fd(fcntl(dirfd, F_DUPFD_CLOEXEC, 0));
    if (!in.keep.valid()) return Status::FromErrno("F_DUPFD_CLOEXEC");
  } else {
    // O_PATH: never opens a FIFO or device; with O_NOFOLLOW it pins a symlink itself.
    OVL_ASSIGN_OR_RETURN(in.keep, FsEnvWrapper::OpenBeneath(dirfd, name, O_PATH | O_NOFOLLOW));
  }
  OVL_ASSIGN_OR_RETURN(in.meta, ReadMeta(in.keep.get()));
  if (S_ISREG(st.st_mode)) {
    OVL_ASSIGN_OR_RETURN(in.data, ReadData(in.keep.get()));
  }
  return in;
}

Result<PowerLossEnv::Inode*> PowerLossEnv::Track(int dirfd, const std::string& name) {
  OVL_ASSIGN_OR_RETURN(struct stat st, FsEnvWrapper::Stat(dirfd, name));
  auto it = inodes_.find(InodeKey{st.st_dev, st.st_ino});
  if (it != inodes_.end()) return &it->second;
  OVL_ASSIGN_OR_RETURN(Inode in, Snapshot(dirfd, name, st));
  const InodeKey key = in.key;
  return &inodes_.emplace(key, std::move(in)).first->second;
}

Status PowerLossEnv::Touch(int dirfd, const std::string& name) {
  if (!tracking_) return Status::Ok();
  return Track(dirfd, name).status();
}

Result<PowerLossEnv::InodeKey> PowerLossEnv::TrackNew(int dirfd, const std::string& name) {
  OVL_ASSIGN_OR_RETURN(struct stat st, FsEnvWrapper::Stat(dirfd, name));
  OVL_ASSIGN_OR_RETURN(Inode in, Snapshot(dirfd, name, st));
  in.data.clear();
  in.entries.clear();
  const InodeKey key = in.key;
  inodes_.insert_or_assign(key, std::move(in));
  return key;
}

Status PowerLossEnv::Made(int dirfd, const std::string& name, const std::function<Status()>& make) {
  MutexLock l(&mu_);
  OVL_RETURN_IF_ERROR(Touch(dirfd, ""));
  OVL_RETURN_IF_ERROR(make());
  if (!tracking_) return Status::Ok();
  return TrackNew(dirfd, name).status();
}

Status PowerLossEnv::MoveToScratch(int dirfd, const std::string& name) {
  return FsEnvWrapper::Rename(dirfd, name, scratch_.get(), std::to_string(++scratch_names_),
                              RENAME_NOREPLACE);
}

Status PowerLossEnv::KeepLastLink(int dirfd, const std::string& name, const struct stat& st) {
  if (S_ISDIR(st.st_mode) || st.st_nlink != 1) return Status::Ok();
  return FsEnvWrapper::Link(dirfd, name, scratch_.get(), std::to_string(++scratch_names_));
}

Result<Fd> PowerLossEnv::OpenBeneath(int dirfd, const std::string& relpath, int flags,
                                     mode_t mode) {
  if (!OpenMutates(flags)) return FsEnvWrapper::OpenBeneath(dirfd, relpath, flags, mode);
  MutexLock l(&mu_);
  if (!tracking_) return FsEnvWrapper::OpenBeneath(dirfd, relpath, flags, mode);
  if ((flags & O_TMPFILE) == O_TMPFILE) {
    OVL_ASSIGN_OR_RETURN(Fd fd, FsEnvWrapper::OpenBeneath(dirfd, relpath, flags, mode));
    OVL_RETURN_IF_ERROR(TrackNew(fd.get(), "").status());
    return fd;
  }
  const size_t slash = relpath.rfind('/');
  Fd parent_fd;
  int parent = dirfd;
  if (slash != std::string::npos) {
    OVL_ASSIGN_OR_RETURN(parent_fd, FsEnvWrapper::OpenBeneath(dirfd, relpath.substr(0, slash),
                                                              O_PATH | O_DIRECTORY));
    parent = parent_fd.get();
  }
  const std::string base = slash == std::string::npos ? relpath : relpath.substr(slash + 1);
  OVL_RETURN_IF_ERROR(Track(parent, "").status());
  const bool existed = FsEnvWrapper::Stat(parent, base).ok();
  if (existed && (flags & O_TRUNC) != 0) OVL_RETURN_IF_ERROR(Track(parent, base).status());
  OVL_ASSIGN_OR_RETURN(Fd fd, FsEnvWrapper::OpenBeneath(dirfd, relpath, flags, mode));
  if (!existed) OVL_RETURN_IF_ERROR(TrackNew(fd.get(), "").status());
  return fd;
}

Status PowerLossEnv::MkDir(int dirfd, const std::string& name, mode_t mode) {
  return Made(dirfd, name, [&] { return FsEnvWrapper::MkDir(dirfd, name, mode); });
}

Status PowerLossEnv::MkNod(int dirfd, const std::string& name, mode_t mode, dev_t dev) {
  return Made(dirfd, name, [&] { return FsEnvWrapper::MkNod(dirfd, name, mode, dev); });
}

Status PowerLossEnv::Symlink(const std::string& target, int dirfd, const std::string& name) {
  return Made(dirfd, name, [&] { return FsEnvWrapper::Symlink(target, dirfd, name); });
}

Status PowerLossEnv::Link(int olddirfd, const std::string& oldname, int newdirfd,
                          const std::string& newname) {
  MutexLock l(&mu_);
  OVL_RETURN_IF_ERROR(Touch(newdirfd, ""));
  OVL_RETURN_IF_ERROR(Touch(olddirfd, oldname));
  return FsEnvWrapper::Link(olddirfd, oldname, newdirfd, newname);
}

Status PowerLossEnv::Rename(int olddirfd, const std::string& oldname, int newdirfd,
                            const std::string& newname, unsigned flags) {
  MutexLock l(&mu_);
  if (!tracking_) return FsEnvWrapper::Rename(olddirfd, oldname, newdirfd, newname, flags);
  OVL_ASSIGN_OR_RETURN(Inode * from_dir, Track(olddirfd, ""));
  OVL_ASSIGN_OR_RETURN(Inode * to_dir, Track(newdirfd, ""));
  OVL_ASSIGN_OR_RETURN(Inode * moved, Track(olddirfd, oldname));
  Inode* replaced = nullptr;
  if (auto st = FsEnvWrapper::Stat(newdirfd, newname); st.ok()) {
    OVL_ASSIGN_OR_RETURN(replaced, Track(newdirfd, newname));
    // Two names of one inode: rename(2) does nothing.
    if (replaced == moved) return FsEnvWrapper::Rename(olddirfd, oldname, newdirfd, newname, flags);
    if ((flags & (RENAME_EXCHANGE | RENAME_NOREPLACE)) == 0) {
      OVL_RETURN_IF_ERROR(KeepLastLink(newdirfd, newname, *st));
    }
  }
  OVL_RETURN_IF_ERROR(FsEnvWrapper::Rename(olddirfd, oldname, newdirfd, newname, flags));
  PendingRename r;
  r.moves.push_back(Move{moved->key, from_dir->key, to_dir->key, oldname, newname});
  if ((flags & RENAME_EXCHANGE) != 0) {
    r.moves.push_back(Move{replaced->key, to_dir->key, from_dir->key, newname, oldname});
  }
  if ((flags & RENAME_WHITEOUT) != 0) {
    OVL_ASSIGN_OR_RETURN(r.whiteout, TrackNew(olddirfd, oldname));
  }
  renames_.push_back(std::move(r));
  return Status::Ok();
}

Status PowerLossEnv::Unlink(int dirfd, const std::string& name, int flags) {
  MutexLock l(&mu_);
  if (!tracking_) return FsEnvWrapper::Unlink(dirfd, name, flags);
  OVL_RETURN_IF_ERROR(Track(dirfd, "").status());
  OVL_ASSIGN_OR_RETURN(Inode * victim, Track(dirfd, name));
  if ((flags & AT_REMOVEDIR) != 0 && S_ISDIR(victim->type)) {
    // An empty directory moves to the scratch dir instead of being freed: same effect on the
    // name, and the inode stays for a cut to bring back. A non-empty one gets rmdir's error.
    OVL_ASSIGN_OR_RETURN(auto left, FsEnvWrapper::ReadDir(victim->keep.get()));
    if (left.empty()) return MoveToScratch(dirfd, name);
  } else if ((flags & AT_REMOVEDIR) == 0) {
    OVL_ASSIGN_OR_RETURN(struct stat st, FsEnvWrapper::Stat(dirfd, name));
    OVL_RETURN_IF_ERROR(KeepLastLink(dirfd, name, st));
  }
  return FsEnvWrapper::Unlink(dirfd, name, flags);
}

Result<size_t> PowerLossEnv::PWrite(int fd, const void* buf, size_t len, off_t off) {
  MutexLock l(&mu_);
  OVL_RETURN_IF_ERROR(Touch(fd, ""));
  return FsEnvWrapper::PWrite(fd, buf, len, off);
}

Status PowerLossEnv::CopyData(int from, int to, uint64_t len) {
  MutexLock l(&mu_);
  OVL_RETURN_IF_ERROR(Touch(to, ""));
  return FsEnvWrapper::CopyData(from, to, len);
}

Status PowerLossEnv::Truncate(int fd, off_t len) {
  MutexLock l(&mu_);
  OVL_RETURN_IF_ERROR(Touch(fd, ""));
  return FsEnvWrapper::Truncate(fd, len);
}

Status PowerLossEnv::Chmod(int dirfd, const std::string& name, mode_t mode) {
  MutexLock l(&mu_);
  OVL_RETURN_IF_ERROR(Touch(dirfd, name));
  return FsEnvWrapper::Chmod(dirfd, name, mode);
}

Status PowerLossEnv::Chown(int dirfd, const std::string& name, uid_t uid, gid_t gid) {
  MutexLock l(&mu_);
  OVL_RETURN_IF_ERROR(Touch(dirfd, name));
  return FsEnvWrapper::Chown(dirfd, name, uid, gid);
}

Status PowerLossEnv::SetXattr(int dirfd, const std::string& name, const std::string& attr,
                              const std::string& value) {
  MutexLock l(&mu_);
  OVL_RETURN_IF_ERROR(Touch(dirfd, name));
  return FsEnvWrapper::SetXattr(dirfd, name, attr, value);
}

Status PowerLossEnv::RemoveXattr(int dirfd, const std::string& name, const std::string& attr) {
  MutexLock l(&mu_);
  OVL_RETURN_IF_ERROR(Touch(dirfd, name));
  return FsEnvWrapper::RemoveXattr(dirfd, name, attr);
}

// While tracking, what is durable is the model's to say, and the disk never loses power: the
// real fsync would only cost time (crash tests make thousands).
Status PowerLossEnv::Fsync(int fd) {
  MutexLock l(&mu_);
  return tracking_ ? Synced(fd, true) : FsEnvWrapper::Fsync(fd);
}

Status PowerLossEnv::Fdatasync(int fd) {
  MutexLock l(&mu_);
  return tracking_ ? Synced(fd, false) : FsEnvWrapper::Fdatasync(fd);
}

Status PowerLossEnv::Synced(int fd, bool all) {
  OVL_ASSIGN_OR_RETURN(Inode * in, Track(fd, ""));
  if (all) {
    OVL_ASSIGN_OR_RETURN(in->meta, ReadMeta(in->keep.get()));
  }
  if (S_ISREG(in->type)) {
    OVL_ASSIGN_OR_RETURN(in->data, ReadData(in->keep.get()));
    return Status::Ok();
  }
  if (!S_ISDIR(in->type)) return Status::Ok();
  RenamesSynced(in->key);
  OVL_ASSIGN_OR_RETURN(in->entries, ReadEntries(in->keep.get()));
  // Inodes that cannot be fsynced themselves are carried by the directory naming them.
  for (const auto& [name, key] : in->entries) {
    auto it = inodes_.find(key);
    if (it == inodes_.end() || S_ISREG(it->second.type) || S_ISDIR(it->second.type)) continue;
    OVL_ASSIGN_OR_RETURN(it->second.meta, ReadMeta(it->second.keep.get()));
  }
  return Status::Ok();
}

void PowerLossEnv::RenamesSynced(const InodeKey& dir) {
  // Durable: every rename touching `dir`, and every earlier rename of an inode one of those
  // moves (it cannot be durable at an older place than its newest durable one).
  std::set<InodeKey> chained;
  std::vector<bool> durable(renames_.size());
  for (size_t i = renames_.size(); i-- > 0;) {
    for (const Move& m : renames_[i].moves) {
      durable[i] = durable[i] || m.from_dir == dir || m.to_dir == dir || chained.count(m.inode);
    }
    if (!durable[i]) continue;
    for (const Move& m : renames_[i].moves) chained.insert(m.inode);
  }
  std::vector<PendingRename> still;
  for (size_t i = 0; i < renames_.size(); ++i) {
    PendingRename& r = renames_[i];
    if (!durable[i]) {
      still.push_back(std::move(r));
      continue;
    }
    for (const Move& m : r.moves) {
      Entries& from = inodes_.at(m.from_dir).entries;
      if (auto it = from.find(m.from); it != from.end() && it->second == m.inode) from.erase(it);
    }
    for (const Move& m : r.moves) inodes_.at(m.to_dir).entries[m.to] = m.inode;
    if (r.whiteout) inodes_.at(r.moves[0].from_dir).entries[r.moves[0].from] = *r.whiteout;
  }
  renames_ = std::move(still);
}

Status PowerLossEnv::Cut() {
  MutexLock l(&mu_);
  if (!tracking_) return Status::Error(EINVAL, "power cut while not tracking");
  Status st = Restore();
  tracking_ = false;
  inodes_.clear();
  renames_.clear();
  scratch_.Reset();
  return st;
}

Status PowerLossEnv::Restore() {
  // 1. Names that are not durable go to the scratch dir, where their inodes stay reachable.
  for (auto& [key, dir] : inodes_) {
    if (!S_ISDIR(dir.type)) continue;
    OVL_ASSIGN_OR_RETURN(Entries now, ReadEntries(dir.keep.get()));
    for (const auto& [name, cur] : now) {
      auto want = dir.entries.find(name);
      if (want == dir.entries.end() || want->second != cur) {
        OVL_RETURN_IF_ERROR(MoveToScratch(dir.keep.get(), name));
      }
    }
  }
  // 2. Durable names that are missing come back.
  for (auto& [key, dir] : inodes_) {
    if (S_ISDIR(dir.type)) OVL_RETURN_IF_ERROR(RestoreEntries(dir));
  }
  // 3. Bytes and metadata.
  for (auto& [key, inode] : inodes_) OVL_RETURN_IF_ERROR(RestoreContent(inode));
  return RemoveBelow(scratch_.get());
}

Status PowerLossEnv::RestoreEntries(Inode& dir) {
  OVL_ASSIGN_OR_RETURN(struct stat st, FsEnvWrapper::Stat(dir.keep.get(), ""));
  // A directory that a rename replaced is brought back, new, by the entry naming it.
  if (st.st_nlink == 0) return Status::Ok();
  for (const auto& [name, key] : dir.entries) {
    // After step 1 of Cut whatever a name holds is durable.
    if (FsEnvWrapper::Stat(dir.keep.get(), name).ok()) continue;
    OVL_RETURN_IF_ERROR(BringBack(dir.keep.get(), name, key));
  }
  return Status::Ok();
}

Status PowerLossEnv::BringBack(int dirfd, const std::string& name, const InodeKey& key) {
  auto it = inodes_.find(key);
  if (it == inodes_.end()) {
    return Status::Error(EIO, "durable entry " + name + " names an inode that was never tracked");
  }
  Inode& in = it->second;
  if (!S_ISDIR(in.type)) return FsEnvWrapper::Link(in.keep.get(), "", dirfd, name);
  OVL_ASSIGN_OR_RETURN(struct stat st, FsEnvWrapper::Stat(in.keep.get(), ""));
  if (st.st_nlink == 0) {
    OVL_RETURN_IF_ERROR(FsEnvWrapper::MkDir(dirfd, name, 0700));
    OVL_ASSIGN_OR_RETURN(in.keep, FsEnvWrapper::OpenBeneath(dirfd, name, O_RDONLY | O_DIRECTORY));
    return RestoreEntries(in);
  }
  // A directory has one name: it must be waiting in the scratch dir.
  OVL_ASSIGN_OR_RETURN(std::string path, FsEnvWrapper::FdPath(in.keep.get()));
  OVL_ASSIGN_OR_RETURN(std::string scratch, FsEnvWrapper::FdPath(scratch_.get()));
  if (path.rfind(scratch + "/", 0) != 0) {
    return Status::Error(EIO, "directory " + path + " is named by two durable entries");
  }
  const size_t slash = path.rfind('/');
  OVL_ASSIGN_OR_RETURN(Fd parent, Reopen(path.substr(0, slash), O_PATH | O_DIRECTORY));
  return FsEnvWrapper::Rename(parent.get(), path.substr(slash + 1), dirfd, name, RENAME_NOREPLACE);
}

Status PowerLossEnv::RestoreContent(Inode& in) {
  OVL_ASSIGN_OR_RETURN(struct stat st, FsEnvWrapper::Stat(in.keep.get(), ""));
  if (st.st_nlink == 0) return Status::Ok();  // a replaced directory no durable name wants
  if (S_ISREG(in.type)) {
    OVL_ASSIGN_OR_RETURN(Fd w, Reopen(in.keep.get(), O_WRONLY));
    OVL_RETURN_IF_ERROR(FsEnvWrapper::Truncate(w.get(), 0));
    OVL_RETURN_IF_ERROR(FsEnvWrapper::PWrite(w.get(), in.data.data(), in.data.size(), 0).status());
  }
  const int fd = in.keep.get();
  OVL_ASSIGN_OR_RETURN(Meta now, ReadMeta(fd));
  for (const auto& [attr, value] : now.xattrs) {
    if (!in.meta.xattrs.count(attr)) OVL_RETURN_IF_ERROR(FsEnvWrapper::RemoveXattr(fd, "", attr));
  }
  for (const auto& [attr, value] : in.meta.xattrs) {
    auto cur = now.xattrs.find(attr);
    if (cur == now.xattrs.end() || cur->second != value) {
      OVL_RETURN_IF_ERROR(FsEnvWrapper::SetXattr(fd, "", attr, value));
    }
  }
  // Owner first: chown clears the set-id bits that the mode then puts back.
  if (now.uid != in.meta.uid || now.gid != in.meta.gid) {
    OVL_RETURN_IF_ERROR(FsEnvWrapper::Chown(fd, "", in.meta.uid, in.meta.gid));
  }
  if (!S_ISLNK(in.type)) OVL_RETURN_IF_ERROR(FsEnvWrapper::Chmod(fd, "", in.meta.mode));
  return Status::Ok();
}

Status PowerLossEnv::RemoveBelow(int dirfd) {
  OVL_ASSIGN_OR_RETURN(auto entries, FsEnvWrapper::ReadDir(dirfd));
  for (const DirEntry& e : entries) {
    OVL_ASSIGN_OR_RETURN(struct stat st, FsEnvWrapper::Stat(dirfd, e.name));
    if (S_ISDIR(st.st_mode)) {
      OVL_ASSIGN_OR_RETURN(Fd sub,
                           FsEnvWrapper::OpenBeneath(dirfd, e.name, O_RDONLY | O_DIRECTORY));
      OVL_RETURN_IF_ERROR(RemoveBelow(sub.get()));
    }
    OVL_RETURN_IF_ERROR(
        FsEnvWrapper::Unlink(dirfd, e.name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0));
  }
  return Status::Ok();
}

}  // namespace ovl
