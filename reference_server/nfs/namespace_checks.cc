#include "nfs/namespace_checks.h"

#include <unistd.h>

#include "nfs/access.h"

namespace ovl::nfs {

namespace {

bool IsEmpty(const SetAttrRequest& req) {
  using Time = SetAttrRequest::Time;
  return !req.mode && !req.uid && !req.gid && !req.size && req.atime_how == Time::kDontChange &&
         req.mtime_how == Time::kDontChange;
}

Result<Attr> EntryAttr(UnionFs& fs, const Node& dir, const std::string& name) {
  OVL_ASSIGN_OR_RETURN(Node node, fs.Lookup(dir, name));
  return fs.GetAttr(node);
}

}  // namespace

Status CheckStickyEntry(UnionFs& fs, const Cred& cred, const Node& dir, const Attr& dir_attr,
                        const std::string& name, bool must_exist) {
  if ((dir_attr.mode & S_ISVTX) == 0 || cred.uid == 0) return Status::Ok();
  Result<Attr> victim = EntryAttr(fs, dir, name);
  if (!victim.ok()) {
    return must_exist || victim.status().code() != ENOENT ? victim.status() : Status::Ok();
  }
  return CheckSticky(dir_attr, *victim, cred);
}

Status CheckMoveToNewParent(UnionFs& fs, const Cred& cred, const Node& from_dir,
                            const std::string& name) {
  if (cred.uid == 0) return Status::Ok();
  OVL_ASSIGN_OR_RETURN(Attr moved, EntryAttr(fs, from_dir, name));
  if (moved.type == FileType::kDir && !MayAccess(moved, cred, W_OK)) {
    return Status::Error(EACCES, "no write permission on the moved directory");
  }
  return Status::Ok();
}

Status ApplyInitialAttrs(UnionFs& fs, const Node& node, const Cred& cred, SetAttrRequest req) {
  req.mode.reset();  // already given to the union at creation
  if (IsEmpty(req)) return Status::Ok();
  OVL_ASSIGN_OR_RETURN(Attr attr, fs.GetAttr(node));
  OVL_RETURN_IF_ERROR(CheckSetAttr(attr, cred, req));
  return fs.SetAttr(node, req);
}

}  // namespace ovl::nfs
