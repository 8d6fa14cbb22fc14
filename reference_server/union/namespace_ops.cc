// Operations that change names: create, remove, rename, link. Each one makes the affected upper
// directories durable before it returns (RFC 1813: a reply means the change is on stable storage).
#include <fcntl.h>

#include <algorithm>

#include "union/overlay_union.h"

namespace ovl {
namespace {

Status CheckName(const std::string& name) {
  if (name.size() > 255) return Status::Error(ENAMETOOLONG, "name too long");
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos ||
      name.find('\0') != std::string::npos) {
    return Status::Error(EINVAL, "invalid name");
  }
  return Status::Ok();
}

}  // namespace

StripeLocks::StripeLocks(std::vector<Mutex*> mus) : mus_(std::move(mus)) {
  std::sort(mus_.begin(), mus_.end());
  mus_.erase(std::unique(mus_.begin(), mus_.end()), mus_.end());
  for (auto* m : mus_) m->Lock();
}

StripeLocks::~StripeLocks() {
  for (auto it = mus_.rbegin(); it != mus_.rend(); ++it) (*it)->Unlock();
}

Status OverlayUnion::PlaceWhiteoutOrUnlink(int parent_fd, const std::string& name, bool upper_entry,
                                           bool whiteout) {
  if (!upper_entry) {
    if (opts_.plants.Has(Plant::kRemoveLeavesNoWhiteout)) return Status::Ok();
    OVL_RETURN_IF_ERROR(env_->MkNod(parent_fd, name, S_IFCHR | 0, makedev(0, 0)));
    return env_->Fsync(parent_fd);
  }
  // Move the entry out to W/work (leaving a whiteout in the same step when a lower entry must
  // stay hidden), then delete it there: the name changes atomically even for a directory that
  // still holds whiteouts.
  const std::string temp = TempName();
  OVL_RETURN_IF_ERROR(
      env_->Rename(parent_fd, name, layers_.temp.get(), temp, whiteout ? RENAME_WHITEOUT : 0));
  OVL_RETURN_IF_ERROR(env_->Fsync(parent_fd));
  return RemoveTree(env_, layers_.temp.get(), temp);
}

Result<OverlayUnion::DropPlan> OverlayUnion::PrepareDrop(const std::string& path,
                                                         const std::string& name, Dentry& d,
                                                         bool replaced) {
  DropPlan plan;
  if (d.obj.id.layer == kUpperLayer || d.obj.is_dir()) return plan;
  OVL_ASSIGN_OR_RETURN(IndexEntry e, index_.Lookup(d.obj.index_name));
  int nlink = e.kind == IndexKind::kFile
                  ? index_.UnionNlink(e, d.obj.index_name, d.obj.origin_nlink)
                  : d.obj.origin_nlink;
  if (nlink <= 1 && !replaced) {
    if (!opts_.plants.Has(Plant::kUnlinkLeavesNoTombstone)) {
      OVL_RETURN_IF_ERROR(index_.MakeTombstone(d.obj.index_name));
    }
    return plan;
  }
  // Other names remain: the count has to live somewhere, and that is the index entry.
  if (nlink > 1 && e.kind != IndexKind::kFile) OVL_RETURN_IF_ERROR(CopyUpFile(d.obj, -1, ""));
  plan.intent = true;
  plan.new_nlink = std::max(0, nlink - 1);
  OVL_RETURN_IF_ERROR(index_.BeginNlinkChange(
      d.obj.index_name, plan.new_nlink, d.obj.origin_nlink, path, name,
      d.in_upper ? IndexStore::NameChange::kUnlinked : IndexStore::NameChange::kCovered));
  return plan;
}

Status OverlayUnion::FinishDrop(const DropPlan& plan, const Dentry& d) {
  if (plan.intent)
    return index_.EndNlinkChange(d.obj.index_name, plan.new_nlink, d.obj.origin_nlink);
  if (d.obj.is_dir() && d.obj.id.layer != kUpperLayer)
    return index_.MakeTombstone(d.obj.index_name);
  return Status::Ok();
}

Status OverlayUnion::DropNameHere(const std::string& path, const DirStack& stack,
                                  const std::string& name, Dentry& d) {
  OVL_ASSIGN_OR_RETURN(bool lower_has, LowerHasName(stack, name));
  OVL_RETURN_IF_ERROR(CopyUpDir(path));
  OVL_ASSIGN_OR_RETURN(DropPlan plan, PrepareDrop(path, name, d, false));
  OVL_ASSIGN_OR_RETURN(Fd pfd, OpenUpperDir(path));
  const Result<DirStamp> before = StampOf(pfd.get());
  Status st = PlaceWhiteoutOrUnlink(pfd.get(), name, d.in_upper, lower_has);
  if (st.ok()) st = FinishDrop(plan, d);
  if (!st.ok()) {
    ForgetListing(path);
    return st;
  }
  AfterUpperChange(path, pfd.get(), before, name);
  return Status::Ok();
}

Result<Node> OverlayUnion::CreateObject(const Node& dir, const std::string& name, FileType type,
                                        uint32_t perm, const Cred& cred,
                                        const std::string& symlink_target, dev_t rdev,
                                        const std::array<uint8_t, 8>* verifier) {
  OVL_RETURN_IF_ERROR(CheckName(name));
  if (opts_.read_only) return Status::Error(EROFS, "read-only export");
  ReaderLock rl(&rename_mu_);
  OVL_ASSIGN_OR_RETURN(Obj d, ResolveDir(dir.handle));
  StripeLocks locks({&StripeOf(d.id)});
  OVL_ASSIGN_OR_RETURN(DirStack stack, StackOf(d.path));
  auto existing = LookupIn(d.path, stack, name);
  if (existing.ok()) {
    if (verifier && existing->in_upper && existing->obj.type == FileType::kReg) {
      OVL_ASSIGN_OR_RETURN(Fd pfd, OpenUpperDir(d.path, O_PATH | O_DIRECTORY));
      OVL_ASSIGN_OR_RETURN(auto have, env_->GetXattr(pfd.get(), name, kXattrCreateVerf));
      if (have && *have == std::string(verifier->begin(), verifier->end())) {
        return NodeOf(existing->obj, JoinPath(d.path, name));  // a replayed EXCLUSIVE create
      }
    }
    return Status::Error(EEXIST, "exists");
  }
  if (existing.status().code() != ENOENT) return existing.status();

  OVL_RETURN_IF_ERROR(CopyUpDir(d.path));
  OVL_ASSIGN_OR_RETURN(Fd pfd, OpenUpperDir(d.path));
  const Result<DirStamp> before = StampOf(pfd.get());
  // Whatever still sits at the name is invisible (a whiteout, or an alias of a removed object):
  // the new object replaces it in one rename.
  bool occupied = env_->Stat(pfd.get(), name).ok();

  const int temp_dir = layers_.temp.get();
  const std::string temp = TempName();
  auto build = [&]() -> Status {
    Fd file;
    switch (type) {
      case FileType::kReg: {
        OVL_ASSIGN_OR_RETURN(file,
                             env_->OpenBeneath(temp_dir, temp, O_WRONLY | O_CREAT | O_EXCL, 0600));
        break;
      }
      case FileType::kDir:
        OVL_RETURN_IF_ERROR(env_->MkDir(temp_dir, temp, 0700));
        if (occupied) OVL_RETURN_IF_ERROR(env_->SetXattr(temp_dir, temp, kXattrOpaque, "y"));
        break;
      case FileType::kLnk:
        OVL_RETURN_IF_ERROR(env_->Symlink(symlink_target, temp_dir, temp));
        break;
      default: {
        mode_t fmt = type == FileType::kChr    ? S_IFCHR
                     : type == FileType::kBlk  ? S_IFBLK
                     : type == FileType::kSock ? S_IFSOCK
                                               : S_IFIFO;
        OVL_RETURN_IF_ERROR(env_->MkNod(temp_dir, temp, fmt | 0600, rdev));
      }
    }
    OVL_RETURN_IF_ERROR(env_->Chown(temp_dir, temp, cred.uid, cred.gid));
    if (type != FileType::kLnk) OVL_RETURN_IF_ERROR(env_->Chmod(temp_dir, temp, perm & 07777));
    if (verifier && !opts_.plants.Has(Plant::kExclusiveVerifierNotPersisted)) {
      OVL_RETURN_IF_ERROR(env_->SetXattr(temp_dir, temp, kXattrCreateVerf,
                                         std::string(verifier->begin(), verifier->end())));
    }
    // A directory's mode, owner and xattrs are durable through its own fsync, not its parent's.
    return file.valid() ? env_->Fsync(file.get()) : SyncEntry(env_, temp_dir, temp);
  };
  Status st = build();
  if (st.ok()) {
    if (!occupied) {
      st = env_->Rename(temp_dir, temp, pfd.get(), name, RENAME_NOREPLACE);
    } else if (type == FileType::kDir) {
      st = env_->Rename(temp_dir, temp, pfd.get(), name, RENAME_EXCHANGE);
      if (st.ok()) {
        st = env_->Fsync(pfd.get());
        if (st.ok()) st = RemoveTree(env_, temp_dir, temp);
        if (!st.ok()) {
          ForgetListing(d.path);
          return st;
        }
      }
    } else {
      st = env_->Rename(temp_dir, temp, pfd.get(), name, 0);
    }
  }
  if (!st.ok()) {
    RemoveTree(env_, temp_dir, temp).IgnoreError();
    return st;
  }
  if (!opts_.plants.Has(Plant::kCreateSkipsDirFsync)) st = env_->Fsync(pfd.get());
  if (!st.ok()) {
    ForgetListing(d.path);
    return st;
  }
  AfterUpperChange(d.path, pfd.get(), before, name);
  OVL_ASSIGN_OR_RETURN(DirStack now, StackOf(d.path));
  OVL_ASSIGN_OR_RETURN(Dentry made, LookupIn(d.path, now, name));
  return NodeOf(made.obj, JoinPath(d.path, name));
}

Result<Node> OverlayUnion::Create(const Node& dir, const std::string& name, CreateMode mode,
                                  uint32_t perm, const std::array<uint8_t, 8>& verifier,
                                  const Cred& cred) {
  if (mode == CreateMode::kUnchecked) {
    // UNCHECKED on an existing regular file succeeds and leaves it alone (RFC 1813 3.3.8; a
    // size in the client's attributes comes as a separate SETATTR).
    auto existing = Lookup(dir, name);
    if (existing.ok() && existing->type == FileType::kReg) return existing;
  }
  return CreateObject(dir, name, FileType::kReg, perm, cred, "", 0,
                      mode == CreateMode::kExclusive ? &verifier : nullptr);
}

Result<Node> OverlayUnion::MkDir(const Node& dir, const std::string& name, uint32_t perm,
                                 const Cred& cred) {
  return CreateObject(dir, name, FileType::kDir, perm, cred, "", 0, nullptr);
}

Result<Node> OverlayUnion::Symlink(const Node& dir, const std::string& name,
                                   const std::string& target, const Cred& cred) {
  if (target.empty() || target.size() > 4095 || target.find('\0') != std::string::npos) {
    return Status::Error(EINVAL, "invalid symlink target");
  }
  return CreateObject(dir, name, FileType::kLnk, 0777, cred, target, 0, nullptr);
}

Result<Node> OverlayUnion::MkNod(const Node& dir, const std::string& name, FileType type,
                                 uint32_t perm, uint32_t major_no, uint32_t minor_no,
                                 const Cred& cred) {
  if (type != FileType::kChr && type != FileType::kBlk && type != FileType::kSock &&
      type != FileType::kFifo) {
    return Status::Error(kErrBadType, "MKNOD type");
  }
  // A 0/0 character device is a whiteout on disk: it cannot be an object of the union.
  if (type == FileType::kChr && major_no == 0 && minor_no == 0) {
    return Status::Error(EINVAL, "0/0 character device is reserved for whiteouts");
  }
  dev_t rdev = (type == FileType::kChr || type == FileType::kBlk) ? makedev(major_no, minor_no) : 0;
  return CreateObject(dir, name, type, perm, cred, "", rdev, nullptr);
}

Status OverlayUnion::Remove(const Node& dir, const std::string& name) {
  OVL_RETURN_IF_ERROR(CheckName(name));
  if (opts_.read_only) return Status::Error(EROFS, "read-only export");
  ReaderLock rl(&rename_mu_);
  OVL_ASSIGN_OR_RETURN(Obj d, ResolveDir(dir.handle));
  OVL_ASSIGN_OR_RETURN(DirStack stack, StackOf(d.path));
  OVL_ASSIGN_OR_RETURN(Dentry e, LookupIn(d.path, stack, name));
  // The object's own stripe serialises against a concurrent copy-up of it through a handle;
  // the lookup is repeated under the locks, which is the one that counts.
  StripeLocks locks({&StripeOf(d.id), &StripeOf(e.obj.id)});
  OVL_ASSIGN_OR_RETURN(e, LookupIn(d.path, stack, name));
  if (e.obj.is_dir()) return Status::Error(EISDIR, "is a directory");
  OVL_RETURN_IF_ERROR(DropNameHere(d.path, stack, name, e));
  if (!opts_.plants.Has(Plant::kRemoveKeepsCachedHandle)) ForgetObj(e.obj);
  return Status::Ok();
}

Status OverlayUnion::RmDir(const Node& dir, const std::string& name) {
  OVL_RETURN_IF_ERROR(CheckName(name));
  if (opts_.read_only) return Status::Error(EROFS, "read-only export");
  // Exclusive: removing a directory invalidates every cached path below the parent.
  WriterLock rl(&rename_mu_);
  OVL_ASSIGN_OR_RETURN(Obj d, ResolveDir(dir.handle));
  OVL_ASSIGN_OR_RETURN(DirStack stack, StackOf(d.path));
  OVL_ASSIGN_OR_RETURN(Dentry e, LookupIn(d.path, stack, name));
  if (!e.obj.is_dir()) return Status::Error(ENOTDIR, "not a directory");
  OVL_ASSIGN_OR_RETURN(bool empty, DirIsEmpty(e.obj.path, e.stack));
  if (!empty) return Status::Error(ENOTEMPTY, "directory not empty");
  OVL_RETURN_IF_ERROR(DropNameHere(d.path, stack, name, e));
  ForgetDirs();
  return Status::Ok();
}

Status OverlayUnion::Link(const Node& file, const Node& dir, const std::string& name) {
  OVL_RETURN_IF_ERROR(CheckName(name));
  if (opts_.read_only) return Status::Error(EROFS, "read-only export");
  ReaderLock rl(&rename_mu_);
  OVL_ASSIGN_OR_RETURN(Obj f, Resolve(file.handle));
  if (f.is_dir()) return Status::Error(EISDIR, "cannot link a directory");
  OVL_ASSIGN_OR_RETURN(Obj d, ResolveDir(dir.handle));
  StripeLocks locks({&StripeOf(d.id), &StripeOf(f.id)});
  OVL_ASSIGN_OR_RETURN(DirStack stack, StackOf(d.path));
  auto existing = LookupIn(d.path, stack, name);
  if (existing.ok()) return Status::Error(EEXIST, "exists");
  if (existing.status().code() != ENOENT) return existing.status();
  OVL_ASSIGN_OR_RETURN(f, Resolve(file.handle));
  OVL_RETURN_IF_ERROR(CopyUpDir(d.path));
  OVL_ASSIGN_OR_RETURN(Fd pfd, OpenUpperDir(d.path));
  const bool lower_origin = f.id.layer != kUpperLayer;
  int nlink = 0;
  if (lower_origin) {
    if (!f.copied_up()) OVL_RETURN_IF_ERROR(CopyUpFile(f, -1, ""));
    OVL_ASSIGN_OR_RETURN(IndexEntry e, index_.Lookup(f.index_name));
    nlink = index_.UnionNlink(e, f.index_name, f.origin_nlink);
  }
  Fd src;
  int src_dir = layers_.index.get();
  std::string src_name = f.index_name;
  if (!lower_origin) {
    OVL_ASSIGN_OR_RETURN(src, OpenReal(f, O_PATH));
    src_dir = src.get();
    src_name.clear();
  }
  if (lower_origin) {
    OVL_RETURN_IF_ERROR(index_.BeginNlinkChange(f.index_name, nlink + 1, f.origin_nlink, d.path,
                                                name, IndexStore::NameChange::kLinked));
  }
  const Result<DirStamp> before = StampOf(pfd.get());
  auto link = [&]() -> Status {
    if (env_->Stat(pfd.get(), name).ok()) {
      // An invisible entry (whiteout) holds the name: link beside it, then rename over it.
      const std::string temp = TempName();
      OVL_RETURN_IF_ERROR(env_->Link(src_dir, src_name, layers_.temp.get(), temp));
      OVL_RETURN_IF_ERROR(env_->Rename(layers_.temp.get(), temp, pfd.get(), name, 0));
    } else {
      OVL_RETURN_IF_ERROR(env_->Link(src_dir, src_name, pfd.get(), name));
    }
    OVL_RETURN_IF_ERROR(env_->Fsync(pfd.get()));
    if (lower_origin) {
      OVL_RETURN_IF_ERROR(index_.EndNlinkChange(f.index_name, nlink + 1, f.origin_nlink));
      OVL_RETURN_IF_ERROR(index_.DropHoldingLink(f.index_name));
    }
    return Status::Ok();
  };
  if (Status st = link(); !st.ok()) {
    ForgetListing(d.path);
    return st;
  }
  AfterUpperChange(d.path, pfd.get(), before, name);
  ForgetObj(f);
  return Status::Ok();
}

Status OverlayUnion::ClearDirForReplace(const std::string& path, const std::string& name) {
  // rename(2) only replaces an empty directory, and a union-empty one may still hold whiteouts:
  // swap it for a fresh empty directory first, in one step.
  OVL_ASSIGN_OR_RETURN(Fd pfd, OpenUpperDir(path));
  OVL_ASSIGN_OR_RETURN(Fd target, env_->OpenBeneath(pfd.get(), name, O_RDONLY | O_DIRECTORY));
  OVL_ASSIGN_OR_RETURN(auto entries, env_->ReadDir(target.get()));
  if (entries.empty()) return Status::Ok();
  const std::string temp = TempName();
  OVL_RETURN_IF_ERROR(env_->MkDir(layers_.temp.get(), temp, 0700));
  OVL_RETURN_IF_ERROR(env_->Rename(layers_.temp.get(), temp, pfd.get(), name, RENAME_EXCHANGE));
  OVL_RETURN_IF_ERROR(env_->Fsync(pfd.get()));
  return RemoveTree(env_, layers_.temp.get(), temp);
}

Status OverlayUnion::Rename(const Node& from_dir, const std::string& from_name, const Node& to_dir,
                            const std::string& to_name) {
  OVL_RETURN_IF_ERROR(CheckName(from_name));
  OVL_RETURN_IF_ERROR(CheckName(to_name));
  if (opts_.read_only) return Status::Error(EROFS, "read-only export");
  // Renames are rare next to lookups and I/O; taking the rename lock exclusively keeps every
  // path stable while both names and any moved subtree change.
  WriterLock rl(&rename_mu_);
  OVL_ASSIGN_OR_RETURN(Obj fd_obj, ResolveDir(from_dir.handle));
  OVL_ASSIGN_OR_RETURN(Obj td_obj, ResolveDir(to_dir.handle));
  OVL_ASSIGN_OR_RETURN(DirStack fstack, StackOf(fd_obj.path));
  OVL_ASSIGN_OR_RETURN(DirStack tstack, StackOf(td_obj.path));
  OVL_ASSIGN_OR_RETURN(Dentry src, LookupIn(fd_obj.path, fstack, from_name));
  auto tgt = LookupIn(td_obj.path, tstack, to_name);
  if (!tgt.ok() && tgt.status().code() != ENOENT) return tgt.status();
  const std::string src_path = JoinPath(fd_obj.path, from_name);
  if (tgt.ok()) {
    if (tgt->obj.id == src.obj.id) return Status::Ok();  // two names of one object: no-op
    if (src.obj.is_dir() && !tgt->obj.is_dir()) return Status::Error(ENOTDIR, "target not a dir");
    if (!src.obj.is_dir() && tgt->obj.is_dir()) return Status::Error(EISDIR, "target is a dir");
    if (tgt->obj.is_dir()) {
      OVL_ASSIGN_OR_RETURN(bool empty, DirIsEmpty(tgt->obj.path, tgt->stack));
      if (!empty) return Status::Error(ENOTEMPTY, "target directory not empty");
    }
  }
  if (src.obj.is_dir() && (td_obj.path == src_path || td_obj.path.rfind(src_path + "/", 0) == 0)) {
    return Status::Error(EINVAL, "cannot move a directory below itself");
  }

  OVL_RETURN_IF_ERROR(CopyUpDir(fd_obj.path));
  OVL_RETURN_IF_ERROR(CopyUpDir(td_obj.path));
  OVL_ASSIGN_OR_RETURN(Fd from_fd, OpenUpperDir(fd_obj.path));
  OVL_ASSIGN_OR_RETURN(Fd to_fd, OpenUpperDir(td_obj.path));
  if (src.obj.is_dir()) {
    OVL_RETURN_IF_ERROR(CopyUpDir(src_path));
    OVL_ASSIGN_OR_RETURN(DirStack sstack, StackOf(src_path));
    // A dir CopyUpDir just copied is indexed already; one that was upper before may not be.
    if (src.stack.has_upper) OVL_RETURN_IF_ERROR(IndexMergeDir(src_path, sstack));
    if (!sstack.lowers.empty()) {
      // The directory merges lower dirs that stay where they are: point at them explicitly. A
      // redirect the filesystem cannot store (ext4: one block) gets EXDEV, as in kernel overlayfs.
      Status redirected = opts_.plants.Has(Plant::kRenameSkipsRedirect)
                              ? Status::Ok()
                              : env_->SetXattr(from_fd.get(), from_name, kXattrRedirect,
                                               "/" + sstack.lowers[0].relpath);
      if (redirected.code() == ENOSPC || redirected.code() == E2BIG) {
        return Status::Error(EXDEV, "redirect does not fit: " + redirected.message());
      }
      OVL_RETURN_IF_ERROR(redirected);
    } else if (!sstack.opaque) {
      OVL_ASSIGN_OR_RETURN(bool lower_at_target, LowerHasName(tstack, to_name));
      if (lower_at_target)
        OVL_RETURN_IF_ERROR(env_->SetXattr(from_fd.get(), from_name, kXattrOpaque, "y"));
    }
    // The directory's own fsync makes the xattr durable before the rename relies on it.
    OVL_RETURN_IF_ERROR(SyncEntry(env_, from_fd.get(), from_name));
  } else if (!src.in_upper) {
    // A lower-only name: give it an upper alias in place first, so the move below is one step.
    if (src.obj.copied_up()) {
      OVL_RETURN_IF_ERROR(
          env_->Link(layers_.index.get(), src.obj.index_name, from_fd.get(), from_name));
      OVL_RETURN_IF_ERROR(env_->Fsync(from_fd.get()));
      OVL_RETURN_IF_ERROR(index_.DropHoldingLink(src.obj.index_name));
    } else {
      OVL_RETURN_IF_ERROR(CopyUpFile(src.obj, from_fd.get(), from_name));
    }
  }
  if (tgt.ok() && tgt->obj.is_dir() && tgt->in_upper) {
    OVL_RETURN_IF_ERROR(ClearDirForReplace(td_obj.path, to_name));
  }
  OVL_ASSIGN_OR_RETURN(bool lower_at_source, LowerHasName(fstack, from_name));
  DropPlan plan;
  if (tgt.ok()) {
    OVL_ASSIGN_OR_RETURN(plan, PrepareDrop(td_obj.path, to_name, *tgt, true));
  }
  OVL_RETURN_IF_ERROR(env_->Rename(from_fd.get(), from_name, to_fd.get(), to_name,
                                   lower_at_source ? RENAME_WHITEOUT : 0));
  OVL_RETURN_IF_ERROR(env_->Fsync(from_fd.get()));
  if (fd_obj.path != td_obj.path) OVL_RETURN_IF_ERROR(env_->Fsync(to_fd.get()));
  if (tgt.ok()) OVL_RETURN_IF_ERROR(FinishDrop(plan, *tgt));
  ForgetDirs();
  ForgetObj(src.obj);
  if (tgt.ok()) ForgetObj(tgt->obj);
  return Status::Ok();
}

}  // namespace ovl
