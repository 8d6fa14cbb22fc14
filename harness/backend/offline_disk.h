// Offline edits (ops/offline.h) applied to a stopped server's layers on disk. Part of the
// fixture-on-disk library, so the local backend and a guest's ovl-guestd apply them alike.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "ops/offline.h"

namespace ovl::backend {

// The layers an offline edit changes (the work dir is the server's own business).
struct EditableLayers {
  std::vector<std::string> lowers;  // top-most first
  std::string upper;                // empty: a lower-only export
  std::string work;                 // the upper's work dir (copy-up-unindexed mounts with it)
  std::string mount_source;         // the source name of that mount (`harness clean` finds it)
};

// Applies `edit` to `dirs` (no server may be using them):
//   remove-upper  unlinks upper/path, which must be a regular file (its index entry stays)
//   rename-lower  renames path to path2 in every lower layer holding path
//   remove-lower  removes the subtree path from every lower layer holding it
//   link-lower    links path2 to path in the top-most lower layer holding path
//   copy-up-unindexed  mounts an overlay of the layers with index=off,nfs_export=off (the
//                 kernel's; mount(2) needs root), changes nothing but the ctime of the dir path
//                 (a chmod to its own mode copies it and its ancestors up), and unmounts it;
//                 kErrNotSupp for a lower-only export
// ENOENT naming the path when no layer holds it; the errno of the failed call otherwise;
// kErrNotSupp for copy-layers, which needs a new filesystem (the node's job).
[[nodiscard]] Status ApplyOfflineEdit(const ops::OfflineEdit& edit, const EditableLayers& dirs);

// kErrNotSupp, saying why, for an edit of the lower layers of a server whose lower layer 0 is a
// nested overlay mount (`nested`); OK otherwise.
[[nodiscard]] Status RefuseNestedLowerEdit(bool nested, const ops::OfflineEdit& edit);

}  // namespace ovl::backend
