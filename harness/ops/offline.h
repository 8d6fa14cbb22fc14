// Offline edits: changes the harness makes to a server's layers on disk while the server is
// stopped (workloads/scenarios `{offline: ...}` steps, docs/scenarios.md). The vocabulary the
// scenario parser, the backends (which apply an edit), the runner (which records it in the
// history) and the model (which applies its effect on the merged view) share. Pure: no I/O.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace ovl::ops {

struct OfflineEdit {
  enum class Kind {
    kRemoveUpper,  // unlink the copied-up file `path` from the upper layer; its index entry stays
    kRenameLower,  // rename `path` to `path2` in the lower layer holding it
    kRemoveLower,  // remove `path` (a subtree) from the lower layer holding it
    kLinkLower,    // hard link `path2` to the file `path` inside the lower layer holding it
    kCopyLayers,   // copy every layer to a new filesystem (a new UUID) and serve the copies
    // copy the lower dir `path` and its ancestors up through an overlay mounted without index
    // and nfs_export: merge dirs with no index entry, as an overlay used before nfs_export was
    // turned on has them (fstests overlay/054)
    kCopyUpUnindexed,
  };
  Kind kind = Kind::kRemoveUpper;
  std::string path;    // relative to the layer's root, '/'-separated
  std::string path2;   // kRenameLower, kLinkLower: the new name
  bool crash = false;  // how the server stops first: killed (true) or a clean stop
  bool operator==(const OfflineEdit&) const = default;
};

// "remove-upper", "rename-lower", "remove-lower", "link-lower", "copy-layers",
// "copy-up-unindexed".
std::string_view OfflineKindName(OfflineEdit::Kind kind);
std::optional<OfflineEdit::Kind> OfflineKindFromName(std::string_view name);
// "remove-upper, rename-lower, ...": every name, for error messages.
std::string OfflineKindNames();
// Whether the kind takes path (all but copy-layers) and path2 (rename-lower, link-lower).
bool OfflineNeedsPath(OfflineEdit::Kind kind);
bool OfflineNeedsPath2(OfflineEdit::Kind kind);
// Whether the edit changes a lower layer (the lower-unchanged check ends there).
bool OfflineChangesLower(OfflineEdit::Kind kind);

// {"edit": KIND, "path": P, "path2": P2, "stop": "crash"|"clean"}: the form in history.jsonl.
nlohmann::json OfflineEditToJson(const OfflineEdit& edit);
// EINVAL naming what is wrong when `j` is not such an object.
ovl::Result<OfflineEdit> OfflineEditFromJson(const nlohmann::json& j);

// "rename-lower d -> e (crash)": one line for logs and findings.
std::string DescribeOfflineEdit(const OfflineEdit& edit);

}  // namespace ovl::ops
