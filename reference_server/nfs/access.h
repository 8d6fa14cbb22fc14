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
// truncate and utimensat: EPERM for ownership rules (a uid or gid in `req` needs the owner even
// when it equals the current one), EACCES for missing write permission.
// Like chmod(2), drops S_ISGID from req->mode when a non-root owner is not in the file's group.
// Like truncate(2), a size change without a mode sets req->mode to ModeAfterWrite when that
// differs from attr.mode.
Status CheckSetAttr(const Attr& attr, const Cred& cred, SetAttrRequest& req);

// The mode a write or a size change by `cred` leaves on an object with `attr`. As in Linux for a
// caller without CAP_FSETID (here: any uid but 0), a regular file loses S_ISUID, and S_ISGID
// when group execute is set or the caller is not in the file's group (set-gid without group
// execute marks mandatory locking, which a group member keeps). Other types keep their mode.
uint32_t ModeAfterWrite(const Attr& attr, const Cred& cred);

// The sticky-directory rule for removing or replacing `victim` in `dir`: in a sticky directory
// only root, the victim's owner or the directory's owner may do it (EPERM otherwise).
Status CheckSticky(const Attr& dir, const Attr& victim, const Cred& cred);

}  // namespace ovl::nfs
