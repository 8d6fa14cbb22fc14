// Permission checks of the procedures that change names, shared by the NFSv3 and NFSv4
// programs: the sticky-directory rule for an entry, the rule for moving a directory, and the
// attributes a create-type call sets beyond the mode.
#pragma once

#include <string>

#include "base/status.h"
#include "union/union_fs.h"

namespace ovl::nfs {

// The sticky-directory rule (access.h: CheckSticky) for removing or replacing the entry `name`
// of `dir` (attributes `dir_attr`). A missing entry passes unless `must_exist`.
Status CheckStickyEntry(UnionFs& fs, const Cred& cred, const Node& dir, const Attr& dir_attr,
                        const std::string& name, bool must_exist);

// Moving the directory `from_dir`/`name` to another parent rewrites its "..", which needs
// write permission on it (EACCES), unless the caller is root. Other types always pass.
Status CheckMoveToNewParent(UnionFs& fs, const Cred& cred, const Node& from_dir,
                            const std::string& name);

// Applies the attributes a create-type call sent beyond the mode it passed to the union
// (`req.mode` is ignored), checked like SETATTR (access.h: CheckSetAttr).
Status ApplyInitialAttrs(UnionFs& fs, const Node& node, const Cred& cred, SetAttrRequest req);

}  // namespace ovl::nfs
