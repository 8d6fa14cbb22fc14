// Permission policy. ovlnfsd runs as root, so it checks every call against the caller's
// (squashed) credential itself, with POSIX rules on the union's attributes. MayAccess, declared
// in union/union_fs.h, is implemented in access.cc.
#pragma once

#include <cstdint>

#include "base/status.h"
#include "union/union_fs.h"

namespace ovl::nfs {

// True when `gid` is the caller's primary or one of its supplementary groups.
// READ and WRITE permission as knfsd grants it: the file's owner may always read and write it
// (NFSD_MAY_OWNER_OVERRIDE), so a client that creates a file read-only can still fill it, as it
// could through the open file it holds locally. Everyone else gets MayAccess.
bool MayReadWrite(const Attr& attr, const Cred& cred, int want);

bool InGroup(const Cred& cred, uint32_t gid);

// The subset of `requested` (ACCESS3_* bits) that `cred` holds on an object with `attr`.
// On a read-only export MODIFY, EXTEND and DELETE are never granted.
uint32_t Access3Mask(const Attr& attr, const Cred& cred, uint32_t requested, bool read_only);

// Whether `cred` may apply `req` to an object with `attr`, by the rules of chmod, chown,
// truncate and utimensat: EPERM for ownership rules, EACCES for missing write permission.
// Like chmod(2), drops S_ISGID from req->mode when a non-root owner is not in the file's group.
Status CheckSetAttr(const Attr& attr, const Cred& cred, SetAttrRequest& req);

// The sticky-directory rule for removing or replacing `victim` in `dir`: in a sticky directory
// only root, the victim's owner or the directory's owner may do it (EPERM otherwise).
Status CheckSticky(const Attr& dir, const Attr& victim, const Cred& cred);

}  // namespace ovl::nfs
