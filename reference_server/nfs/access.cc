#include "nfs/access.h"

#include <unistd.h>

#include <algorithm>

#include "nfs/nfs3_xdr.h"

namespace ovl {

bool MayAccess(const Attr& attr, const Cred& cred, int want) {
  if (cred.uid == 0) {
    // Root may execute only what someone may execute; directories are always searchable.
    bool exec_ok = attr.type == FileType::kDir || (attr.mode & 0111) != 0;
    return (want & X_OK) == 0 || exec_ok;
  }
  uint32_t bits;
  if (cred.uid == attr.uid) {
    bits = attr.mode >> 6;
  } else if (nfs::InGroup(cred, attr.gid)) {
    bits = attr.mode >> 3;
  } else {
    bits = attr.mode;
  }
  // R_OK/W_OK/X_OK are 4/2/1, the same layout as each rwx triplet.
  return (static_cast<uint32_t>(want) & ~bits & 07) == 0;
}

}  // namespace ovl

namespace ovl::nfs {

bool MayReadWrite(const Attr& attr, const Cred& cred, int want) {
  return cred.uid == attr.uid || MayAccess(attr, cred, want);
}

bool InGroup(const Cred& cred, uint32_t gid) {
  return cred.gid == gid ||
         std::find(cred.groups.begin(), cred.groups.end(), gid) != cred.groups.end();
}

uint32_t Access3Mask(const Attr& attr, const Cred& cred, uint32_t requested, bool read_only) {
  const bool dir = attr.type == FileType::kDir;
  uint32_t granted = 0;
  if (MayAccess(attr, cred, R_OK)) granted |= kAccess3Read;
  if (dir && MayAccess(attr, cred, X_OK)) granted |= kAccess3Lookup;
  if (!dir && MayAccess(attr, cred, X_OK)) granted |= kAccess3Execute;
  if (!read_only) {
    // Changing a directory's entries needs search permission too, as in the VFS.
    int modify_want = dir ? (W_OK | X_OK) : W_OK;
    if (MayAccess(attr, cred, modify_want)) {
      granted |= kAccess3Modify | kAccess3Extend;
      // DELETE is about removing entries, so it applies to directories only.
      if (dir) granted |= kAccess3Delete;
    }
  }
  return granted & requested;
}

Status CheckSetAttr(const Attr& attr, const Cred& cred, SetAttrRequest& req) {
  if (cred.uid == 0) return Status::Ok();
  const bool owner = cred.uid == attr.uid;
  if (req.mode) {
    if (!owner) return Status::Error(EPERM, "chmod: not the owner");
    if (!InGroup(cred, req.gid.value_or(attr.gid))) *req.mode &= ~uint32_t{S_ISGID};
  }
  // chown(2) asks for ownership even when nothing changes: only the owner may keep its uid, and
  // only the owner may set a gid, to the current one or to a group it is in.
  if (req.uid && (!owner || *req.uid != attr.uid)) {
    return Status::Error(EPERM, "chown: only root may");
  }
  if (req.gid && (!owner || (*req.gid != attr.gid && !InGroup(cred, *req.gid)))) {
    return Status::Error(EPERM, "chgrp: not the owner or not a member of the group");
  }
  if (req.size && !MayAccess(attr, cred, W_OK)) {
    return Status::Error(EACCES, "truncate: no write permission");
  }
  using Time = SetAttrRequest::Time;
  if ((req.atime_how == Time::kClient || req.mtime_how == Time::kClient) && !owner) {
    return Status::Error(EPERM, "utimes: only the owner may set explicit times");
  }
  if ((req.atime_how == Time::kServerNow || req.mtime_how == Time::kServerNow) && !owner &&
      !MayAccess(attr, cred, W_OK)) {
    return Status::Error(EACCES, "utimes: no write permission");
  }
  // A size change is a write: it takes the set-id bits a write would (ModeAfterWrite).
  if (req.size && !req.mode) {
    if (const uint32_t mode = ModeAfterWrite(attr, cred); mode != attr.mode) req.mode = mode;
  }
  return Status::Ok();
}

uint32_t ModeAfterWrite(const Attr& attr, const Cred& cred) {
  if (cred.uid == 0 || attr.type != FileType::kReg) return attr.mode;
  uint32_t mode = attr.mode & ~uint32_t{S_ISUID};
  if ((mode & S_ISGID) != 0 && ((mode & S_IXGRP) != 0 || !InGroup(cred, attr.gid))) {
    mode &= ~uint32_t{S_ISGID};
  }
  return mode;
}

Status CheckSticky(const Attr& dir, const Attr& victim, const Cred& cred) {
  if ((dir.mode & S_ISVTX) == 0 || cred.uid == 0 || cred.uid == victim.uid || cred.uid == dir.uid) {
    return Status::Ok();
  }
  return Status::Error(EPERM, "sticky directory: not the owner");
}

}  // namespace ovl::nfs
