// Copy-up: moving an object from a lower layer into the upper one, crash-safely. A copy is built
// complete in W/work (data, owner, mode, xattrs, origin, times), made durable, then renamed into
// place in one step; a crash at any point leaves the old state or the new one, and startup
// clears W/work.
#include <fcntl.h>

#include "union/overlay_union.h"

namespace ovl {

Status OverlayUnion::CopyMetadata(int src_dirfd, const std::string& src_name, const struct stat& st,
                                  int dst_dirfd, const std::string& dst_name) {
  OVL_ASSIGN_OR_RETURN(auto names, env_->ListXattr(src_dirfd, src_name));
  for (const auto& attr : names) {
    if (attr.rfind(kXattrOverlayPrefix, 0) == 0) continue;  // overlay's own state stays behind
    OVL_ASSIGN_OR_RETURN(auto value, env_->GetXattr(src_dirfd, src_name, attr));
    if (!value) continue;
    Status st_x = env_->SetXattr(dst_dirfd, dst_name, attr, *value);
    // security.* attributes may be refused by the upper filesystem; data xattrs may not.
    if (!st_x.ok() &&
        !(attr.rfind("security.", 0) == 0 && (st_x.code() == EOPNOTSUPP || st_x.code() == EPERM))) {
      return st_x;
    }
  }
  OVL_RETURN_IF_ERROR(env_->Chown(dst_dirfd, dst_name, st.st_uid, st.st_gid));
  if (!S_ISLNK(st.st_mode))
    OVL_RETURN_IF_ERROR(env_->Chmod(dst_dirfd, dst_name, st.st_mode & 07777));
  const struct timespec times[2] = {st.st_atim, st.st_mtim};
  return env_->SetTimes(dst_dirfd, dst_name, times);
}

Result<OvlFb> OverlayUnion::LowerDirOrigin(int dirfd, uint8_t layer) {
  OvlFb origin;
  OVL_ASSIGN_OR_RETURN(origin.fh, env_->NameToHandle(dirfd, ""));
  origin.uuid = layers_.lowers[layer].fs_uuid;
  return origin;
}

Status OverlayUnion::IndexUpperDir(const OvlFb& origin, int parent, const std::string& name) {
  OvlFb upper;
  OVL_ASSIGN_OR_RETURN(upper.fh, env_->NameToHandle(parent, name));
  upper.uuid = layers_.upper.fs_uuid;
  upper.upper = true;
  return index_.CreateDirEntry(IndexName(origin), upper);
}

Status OverlayUnion::IndexMergeDir(const std::string& path, const DirStack& stack) {
  if (!stack.has_upper || stack.lowers.empty()) return Status::Ok();
  if (opts_.plants.Has(Plant::kRenameSkipsMergeDirIndex)) return Status::Ok();
  const DirStack::Lower& src = stack.lowers[0];
  OVL_ASSIGN_OR_RETURN(Fd sfd, env_->OpenBeneath(layers_.lowers[src.layer].root.get(), src.relpath,
                                                 O_PATH | O_DIRECTORY));
  OVL_ASSIGN_OR_RETURN(OvlFb origin, LowerDirOrigin(sfd.get(), src.layer));
  OVL_ASSIGN_OR_RETURN(IndexEntry entry, index_.Lookup(IndexName(origin)));
  if (entry.kind != IndexKind::kNone) return Status::Ok();
  OVL_ASSIGN_OR_RETURN(Fd parent, OpenUpperDir(Dirname(path)));
  return IndexUpperDir(origin, parent.get(), Basename(path));
}

Status OverlayUnion::CopyUpDir(const std::string& path) {
  if (path.empty()) return Status::Ok();
  OVL_ASSIGN_OR_RETURN(DirStack stack, StackOf(path));
  if (stack.has_upper) return Status::Ok();
  OVL_RETURN_IF_ERROR(CopyUpDir(Dirname(path)));
  if (stack.lowers.empty()) return Status::Error(ENOENT, "directory vanished: " + path);
  const DirStack::Lower& src = stack.lowers[0];
  OVL_ASSIGN_OR_RETURN(Fd sfd, env_->OpenBeneath(layers_.lowers[src.layer].root.get(), src.relpath,
                                                 O_RDONLY | O_DIRECTORY));
  OVL_ASSIGN_OR_RETURN(struct stat st, env_->Stat(sfd.get(), ""));
  OVL_ASSIGN_OR_RETURN(OvlFb origin, LowerDirOrigin(sfd.get(), src.layer));

  const int temp_dir = layers_.temp.get();
  const std::string temp = TempName();
  OVL_RETURN_IF_ERROR(env_->MkDir(temp_dir, temp, 0700));
  OVL_RETURN_IF_ERROR(env_->SetXattr(temp_dir, temp, kXattrOrigin, EncodeOvlFb(origin)));
  OVL_RETURN_IF_ERROR(CopyMetadata(sfd.get(), "", st, temp_dir, temp));
  // Its mode, owner and xattrs are durable only through its own fsync, not its parent's.
  OVL_RETURN_IF_ERROR(SyncEntry(env_, temp_dir, temp));
  OVL_ASSIGN_OR_RETURN(Fd parent, OpenUpperDir(Dirname(path)));
  const Result<DirStamp> before = StampOf(parent.get());
  Status moved = env_->Rename(temp_dir, temp, parent.get(), Basename(path), RENAME_NOREPLACE);
  if (!moved.ok()) {
    RemoveTree(env_, temp_dir, temp).IgnoreError();
    // Another request copied it up first: that copy is as good as ours.
    if (moved.code() != EEXIST) return moved;
  } else {
    auto finish = [&]() -> Status {
      OVL_RETURN_IF_ERROR(env_->Fsync(parent.get()));
      return IndexUpperDir(origin, parent.get(), Basename(path));
    };
    Status st = finish();
    ForgetListing(path);  // it now merges an upper directory too
    if (!st.ok()) {
      ForgetListing(Dirname(path));
      return st;
    }
    AfterUpperChange(Dirname(path), parent.get(), before, Basename(path));
    copy_ups_.fetch_add(1);
  }
  MutexLock g(&cache_mu_);
  stack_cache_.erase(path);
  obj_cache_.clear();  // the directory's real location changed under every handle naming it
  return Status::Ok();
}

Status OverlayUnion::CopyUpFile(Obj& obj, int parent_fd, const std::string& name) {
  OVL_ASSIGN_OR_RETURN(Fd src, OpenReal(obj, obj.type == FileType::kReg ? O_RDONLY : O_PATH));
  OVL_ASSIGN_OR_RETURN(struct stat st, env_->Stat(src.get(), ""));
  OvlFb origin;
  origin.fh = obj.id.fh;
  origin.uuid = layers_.layer(obj.id.layer).fs_uuid;

  const int temp_dir = layers_.temp.get();
  const std::string temp = TempName();
  auto build = [&]() -> Status {
    Fd out;
    switch (obj.type) {
      case FileType::kReg: {
        OVL_ASSIGN_OR_RETURN(out,
                             env_->OpenBeneath(temp_dir, temp, O_WRONLY | O_CREAT | O_EXCL, 0600));
        uint64_t len = static_cast<uint64_t>(st.st_size);
        if (opts_.plants.Has(Plant::kCopyUpDropsTail)) len &= ~uint64_t{4095};
        OVL_RETURN_IF_ERROR(env_->CopyData(src.get(), out.get(), len));
        break;
      }
      case FileType::kLnk: {
        OVL_ASSIGN_OR_RETURN(std::string target, env_->ReadLink(src.get(), ""));
        OVL_RETURN_IF_ERROR(env_->Symlink(target, temp_dir, temp));
        break;
      }
      case FileType::kDir:
        return Status::Error(EISDIR, "CopyUpFile on a directory");
      default:
        OVL_RETURN_IF_ERROR(env_->MkNod(temp_dir, temp, st.st_mode, st.st_rdev));
    }
    if (!opts_.plants.Has(Plant::kCopyUpRecordsNoOrigin)) {
      OVL_RETURN_IF_ERROR(env_->SetXattr(temp_dir, temp, kXattrOrigin, EncodeOvlFb(origin)));
    }
    OVL_RETURN_IF_ERROR(env_->SetXattr(temp_dir, temp, kXattrNlink,
                                       FormatNlinkXattr(obj.origin_nlink, obj.origin_nlink)));
    OVL_RETURN_IF_ERROR(CopyMetadata(src.get(), "", st, temp_dir, temp));
    return out.valid() ? env_->Fsync(out.get()) : env_->Fsync(temp_dir);
  };
  Status built = build();
  if (built.ok()) built = index_.Install(temp, obj.index_name);
  if (!built.ok()) {
    RemoveTree(env_, temp_dir, temp).IgnoreError();
    return built;
  }
  if (parent_fd >= 0) {
    OVL_RETURN_IF_ERROR(env_->Link(layers_.index.get(), obj.index_name, parent_fd, name));
    OVL_RETURN_IF_ERROR(env_->Fsync(parent_fd));
  } else if (obj.origin_nlink == 1) {
    OVL_RETURN_IF_ERROR(index_.AddHoldingLink(obj.index_name));
  }
  obj.real_layer = kUpperLayer;
  OVL_ASSIGN_OR_RETURN(obj.real_fh, env_->NameToHandle(layers_.index.get(), obj.index_name));
  copy_ups_.fetch_add(1);
  ForgetObj(obj);
  return Status::Ok();
}

}  // namespace ovl
