// The persistent index in W/index: one entry per lower-origin object that was copied up or
// removed, named by the hex of the origin's ovl_fb. A non-directory entry is a hard link to the
// upper inode (and carries the union link count); a directory entry is an empty directory whose
// trusted.overlay.upper names the upper dir; a whiteout is a tombstone: the object is gone and its
// handle must stay STALE forever.
#pragma once

#include <sys/stat.h>

#include <optional>
#include <string>

#include "base/status.h"
#include "fs/fs_env.h"
#include "union/layers.h"
#include "union/ovl_fh.h"

namespace ovl {

enum class IndexKind { kNone, kTombstone, kFile, kDir };

struct IndexEntry {
  IndexKind kind = IndexKind::kNone;
  struct stat st {};   // of the entry itself (kFile: the upper inode)
  std::optional<OvlFb> upper_dir;  // kDir: trusted.overlay.upper
};

class IndexStore {
 public:
  IndexStore(FsEnv* env, LayerSet* layers) : env_(env), layers_(layers) {}

  // What the index holds under `name`.
  Result<IndexEntry> Lookup(const std::string& name) const;
  // Renames the scratch object W/work/`temp` to W/index/`name` (EEXIST when taken) and makes the
  // index directory durable.
  Status Install(const std::string& temp, const std::string& name);
  // Makes W/index/`name` a tombstone (whiteout), replacing whatever is there, durably.
  Status MakeTombstone(const std::string& name);
  // Index entry for a copied-up directory: an empty dir pointing at `upper_dir`; an existing
  // entry for the same origin is replaced.
  Status CreateDirEntry(const std::string& name, const OvlFb& upper_dir);

  // The union link count of a copied-up non-directory: trusted.overlay.nlink ("L+n"/"U+n",
  // kernel format) resolved against `lower_nlink` or the entry's own link count.
  int UnionNlink(const IndexEntry& entry, const std::string& name, int lower_nlink) const;
  // Stores `nlink` as "L%+d" relative to `lower_nlink` on W/index/`name`.
  Status SetUnionNlink(const std::string& name, int nlink, int lower_nlink);

  // A link-count change that goes with a name change (a LINK, or removing one of several names)
  // cannot be one system call. Begin records the new count and the name change durably; End
  // stores the count and drops the record. After a crash, RecoverNlinkIntents looks at the name:
  // if its change happened, the count is applied, otherwise the record is dropped.
  // `parent_relpath` is the upper directory holding `entry_name`; `change` says how to tell that
  // the name change happened. A `new_nlink` of 0 means the object loses its last name: End (or
  // recovery) writes the tombstone.
  enum class NameChange : char {
    kLinked = '+',    // the upper name becomes a link to the index entry
    kUnlinked = '-',  // the upper name stops being a link to it
    kCovered = 'w',   // an upper entry (whiteout or other object) appears over a lower name
  };
  Status BeginNlinkChange(const std::string& name, int new_nlink, int lower_nlink,
                          const std::string& parent_relpath, const std::string& entry_name,
                          NameChange change);
  Status EndNlinkChange(const std::string& name, int new_nlink, int lower_nlink);
  // A record that cannot be completed (unreadable, not a regular file, or its change fails) is
  // dropped, leaving the count as it was, and named through `log` (which may be empty).
  Status RecoverNlinkIntents(const LogFn& log);

  // A copied-up file whose lower origin has one link, copied up through a handle (no name known),
  // has an index entry and no upper name. Kernel overlayfs takes such an entry for an orphan
  // and whiteouts it at mount, so a second "holding" link in W/ovlnfsd/linkup keeps its link
  // count above one until the object gets an upper name or dies.
  Status AddHoldingLink(const std::string& name);
  // Drops the holding link of `name`, if any.
  Status DropHoldingLink(const std::string& name);

  // Crash recovery of one entry (see RecoverLayers).
  Status RecoverEntry(const std::string& name);

 private:
  Result<int> OriginNlink(const std::string& name) const;
  // Completes the intent record W/ovlnfsd/pending/`name` if its name change happened.
  Status ReplayIntent(const std::string& name);
  // Stores `new_nlink` durably, or the tombstone when it is 0.
  Status ApplyNlink(const std::string& name, int new_nlink, int lower_nlink);
  FsEnv* env_;
  LayerSet* layers_;
};

// Formats/parses kernel overlayfs's trusted.overlay.nlink value.
std::string FormatNlinkXattr(int nlink, int lower_nlink);
// nullopt when malformed.
std::optional<int> ParseNlinkXattr(const std::string& value, int lower_nlink, int upper_nlink);

}  // namespace ovl
