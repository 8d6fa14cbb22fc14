// Attributes and file data. None of these hold a lock across I/O except copy-up, which holds the
// object's stripe so one object is copied up once.
#include <fcntl.h>

#include "union/overlay_union.h"

namespace ovl {

uint64_t OverlayUnion::FileIdOf(const Obj& obj) const {
  if (layers_.single_device) return obj.origin_ino;
  // Layers on different filesystems may reuse inode numbers: the top byte names the layer.
  const uint64_t slot = obj.id.layer == kUpperLayer ? 0 : obj.id.layer + 1;
  return (obj.origin_ino & ((1ULL << 56) - 1)) | (slot << 56);
}

Result<Attr> OverlayUnion::AttrOf(const Obj& obj) {
  OVL_ASSIGN_OR_RETURN(Fd fd, OpenReal(obj, O_PATH));
  OVL_ASSIGN_OR_RETURN(struct stat st, env_->Stat(fd.get(), ""));
  if (obj.is_dir()) {
    OVL_ASSIGN_OR_RETURN(st.st_ctim, MergedCtime(obj.path, st.st_ctim));
  }
  return AttrOfStat(obj, st);
}

Result<struct timespec> OverlayUnion::MergedCtime(const std::string& path, struct timespec own) {
  OVL_ASSIGN_OR_RETURN(DirStack stack, StackOf(path));
  if (stack.opaque) return own;
  for (const auto& l : stack.lowers) {
    OVL_ASSIGN_OR_RETURN(
        Fd fd, env_->OpenBeneath(layers_.lowers[l.layer].root.get(),
                                 l.relpath.empty() ? "." : l.relpath, O_PATH | O_DIRECTORY));
    OVL_ASSIGN_OR_RETURN(struct stat st, env_->Stat(fd.get(), ""));
    if (st.st_ctim.tv_sec > own.tv_sec ||
        (st.st_ctim.tv_sec == own.tv_sec && st.st_ctim.tv_nsec > own.tv_nsec)) {
      own = st.st_ctim;
    }
  }
  return own;
}

Attr OverlayUnion::AttrOfStat(const Obj& obj, const struct stat& st) {
  Attr a;
  a.type = TypeOfMode(st.st_mode);
  a.mode = st.st_mode & 07777;
  a.nlink = static_cast<uint32_t>(st.st_nlink);
  if (obj.id.layer != kUpperLayer && !obj.is_dir() &&
      !(obj.copied_up() && opts_.plants.Has(Plant::kCopyUpNlinkFromUpper))) {
    if (obj.copied_up()) {
      IndexEntry e;
      e.kind = IndexKind::kFile;
      e.st = st;
      a.nlink = static_cast<uint32_t>(
          std::max(0, index_.UnionNlink(e, obj.index_name, obj.origin_nlink)));
    } else {
      a.nlink = static_cast<uint32_t>(obj.origin_nlink);
    }
  }
  a.uid = st.st_uid;
  a.gid = st.st_gid;
  a.size = static_cast<uint64_t>(st.st_size);
  a.used = static_cast<uint64_t>(st.st_blocks) * 512;
  a.rdev_major = major(st.st_rdev);
  a.rdev_minor = minor(st.st_rdev);
  uint64_t fsid = 0;
  for (int i = 0; i < 8; ++i) fsid = (fsid << 8) | layers_.export_uuid[i];
  a.fsid = fsid;
  a.fileid = FileIdOf(obj);
  a.atime = st.st_atim;
  a.mtime = st.st_mtim;
  a.ctime = st.st_ctim;
  return a;
}

Result<Attr> OverlayUnion::GetAttr(const Node& node) {
  OVL_ASSIGN_OR_RETURN(Obj obj, Resolve(node.handle));
  return AttrOf(obj);
}

Result<Obj> OverlayUnion::CopiedUp(const Handle& handle) {
  OVL_ASSIGN_OR_RETURN(Obj obj, Resolve(handle));
  if (obj.copied_up()) return obj;
  if (obj.is_dir()) {
    ReaderLock rl(&rename_mu_);
    OVL_RETURN_IF_ERROR(CopyUpDir(obj.path));
    return Resolve(handle);
  }
  const std::string path = obj.path;
  ReaderLock rl(&rename_mu_);
  MutexLock g(&StripeOf(obj.id));
  ForgetObj(obj);
  OVL_ASSIGN_OR_RETURN(obj, Resolve(handle));  // someone may have copied it up meanwhile
  if (obj.copied_up()) return obj;
  // Where the name it was met by still leads to it, the copy gets that upper name, as kernel
  // overlayfs does; a handle alone (after eviction or restart) copies into the index only.
  if (!path.empty()) {
    auto d = LookupPath(path);
    if (d.ok() && d->obj.id == obj.id && !d->in_upper) {
      OVL_RETURN_IF_ERROR(CopyUpDir(Dirname(path)));
      OVL_ASSIGN_OR_RETURN(Fd pfd, OpenUpperDir(Dirname(path)));
      const Result<DirStamp> before = StampOf(pfd.get());
      Status st = CopyUpFile(obj, pfd.get(), Basename(path));
      if (!st.ok()) {
        ForgetListing(Dirname(path));
        return st;
      }
      AfterUpperChange(Dirname(path), pfd.get(), before, Basename(path));
      return obj;
    }
  }
  OVL_RETURN_IF_ERROR(CopyUpFile(obj, -1, ""));
  return obj;
}

Status OverlayUnion::SetAttr(const Node& node, const SetAttrRequest& req) {
  if (opts_.read_only) return Status::Error(EROFS, "read-only export");
  OVL_ASSIGN_OR_RETURN(Obj obj, Resolve(node.handle));
  if (req.size) {
    if (obj.is_dir()) return Status::Error(EISDIR, "size of a directory");
    if (obj.type != FileType::kReg) return Status::Error(EINVAL, "size of a non-regular file");
  }
  OVL_ASSIGN_OR_RETURN(obj, CopiedUp(node.handle));
  const bool can_open = obj.type == FileType::kReg || obj.is_dir();
  OVL_ASSIGN_OR_RETURN(Fd fd, OpenReal(obj, req.size ? O_WRONLY : (can_open ? O_RDONLY : O_PATH)));
  if (req.size) OVL_RETURN_IF_ERROR(env_->Truncate(fd.get(), static_cast<off_t>(*req.size)));
  if (req.uid || req.gid) {
    OVL_RETURN_IF_ERROR(env_->Chown(fd.get(), "", req.uid ? *req.uid : static_cast<uid_t>(-1),
                                    req.gid ? *req.gid : static_cast<gid_t>(-1)));
  }
  if (req.mode) {
    if (obj.type == FileType::kLnk) return Status::Error(EINVAL, "mode of a symlink");
    OVL_RETURN_IF_ERROR(env_->Chmod(fd.get(), "", *req.mode & 07777));
  }
  if (req.atime_how != SetAttrRequest::Time::kDontChange ||
      req.mtime_how != SetAttrRequest::Time::kDontChange) {
    auto pick = [](SetAttrRequest::Time how, const struct timespec& t) {
      if (how == SetAttrRequest::Time::kServerNow) return timespec{0, UTIME_NOW};
      if (how == SetAttrRequest::Time::kClient) return t;
      return timespec{0, UTIME_OMIT};
    };
    const struct timespec times[2] = {pick(req.atime_how, req.atime),
                                      pick(req.mtime_how, req.mtime)};
    OVL_RETURN_IF_ERROR(env_->SetTimes(fd.get(), "", times));
  }
  // Attribute changes are durable before the reply, like every other change.
  if (can_open) return env_->Fsync(fd.get());
  return Status::Ok();
}

Result<std::string> OverlayUnion::ReadLink(const Node& node) {
  OVL_ASSIGN_OR_RETURN(Obj obj, Resolve(node.handle));
  if (obj.type != FileType::kLnk) return Status::Error(EINVAL, "not a symlink");
  OVL_ASSIGN_OR_RETURN(Fd fd, OpenReal(obj, O_PATH));
  return env_->ReadLink(fd.get(), "");
}

Result<ReadResult> OverlayUnion::Read(const Node& node, uint64_t offset, uint32_t count) {
  ReadResult r;
  r.data.resize(count);
  OVL_ASSIGN_OR_RETURN(ReadInfo info, ReadInto(node, offset, count, r.data.data()));
  r.data.resize(info.count);
  r.eof = info.eof;
  return r;
}

Result<ReadInfo> OverlayUnion::ReadInto(const Node& node, uint64_t offset, uint32_t count,
                                        char* buf) {
  OVL_ASSIGN_OR_RETURN(Obj obj, Resolve(node.handle));
  if (obj.is_dir()) return Status::Error(EISDIR, "read of a directory");
  if (obj.type != FileType::kReg) return Status::Error(EINVAL, "read of a special file");
  OVL_ASSIGN_OR_RETURN(Fd fd, OpenReal(obj, O_RDONLY));
  ReadInfo r;
  OVL_ASSIGN_OR_RETURN(r.count, env_->PRead(fd.get(), buf, count, static_cast<off_t>(offset)));
  OVL_ASSIGN_OR_RETURN(struct stat st, env_->Stat(fd.get(), ""));
  r.eof = offset + r.count >= static_cast<uint64_t>(st.st_size);
  r.attr = AttrOfStat(obj, st);
  return r;
}

Result<WriteResult> OverlayUnion::Write(const Node& node, uint64_t offset, const std::string& data,
                                        StableHow stable) {
  if (opts_.read_only) return Status::Error(EROFS, "read-only export");
  OVL_ASSIGN_OR_RETURN(Obj obj, Resolve(node.handle));
  if (obj.is_dir()) return Status::Error(EISDIR, "write to a directory");
  if (obj.type != FileType::kReg) return Status::Error(EINVAL, "write to a special file");
  OVL_ASSIGN_OR_RETURN(obj, CopiedUp(node.handle));
  OVL_ASSIGN_OR_RETURN(Fd fd, OpenReal(obj, O_WRONLY));
  OVL_ASSIGN_OR_RETURN(
      size_t n, env_->PWrite(fd.get(), data.data(), data.size(), static_cast<off_t>(offset)));
  if (stable == StableHow::kFileSync) OVL_RETURN_IF_ERROR(env_->Fsync(fd.get()));
  if (stable == StableHow::kDataSync) OVL_RETURN_IF_ERROR(env_->Fdatasync(fd.get()));
  return WriteResult{static_cast<uint32_t>(n), stable};
}

Status OverlayUnion::Commit(const Node& node) {
  OVL_ASSIGN_OR_RETURN(Obj obj, Resolve(node.handle));
  if (!obj.copied_up() || obj.type != FileType::kReg) return Status::Ok();  // nothing unstable
  OVL_ASSIGN_OR_RETURN(Fd fd, OpenReal(obj, O_RDONLY));
  return env_->Fsync(fd.get());
}

Result<struct statvfs> OverlayUnion::StatFs() {
  return env_->StatFs(layers_.upper.root.get());
}

}  // namespace ovl
