// The real directories behind a union and the work-dir state that makes handles persistent.
//
// Work dir layout (the first two are kernel overlayfs's own, so layers stay interchangeable):
//   W/work/              scratch space: copy-ups and new objects are built here, then renamed in
//   W/index/             index entries named by the hex of an origin's ovl_fb
//   (docs/handle-format.md) W/ovlnfsd/identity   export UUID (16 bytes) + handle MAC key (16
//   bytes), made once W/ovlnfsd/pending/   intent records of link-count changes in progress (see
//   IndexStore) W/ovlnfsd/linkup/    holding links of index entries that have no upper name yet
#pragma once

#include <sys/types.h>

#include <array>
#include <functional>
#include <string>
#include <vector>

#include "base/fd.h"
#include "base/siphash.h"
#include "base/status.h"
#include "fs/fs_env.h"
#include "union/handle_codec.h"
#include "union/ovl_fh.h"

namespace ovl {

struct Layer {
  std::string path;  // canonical absolute path, as /proc/self/fd reports it
  Fd root;           // O_RDONLY | O_DIRECTORY
  dev_t dev = 0;
  FsUuid fs_uuid{};
};

struct LayerSet {
  std::vector<Layer> lowers;  // top-most first; index = layer number in handles
  Layer upper;
  Fd work;     // W
  Fd temp;     // W/work
  Fd index;    // W/index
  Fd pending;  // W/ovlnfsd/pending
  Fd linkup;   // W/ovlnfsd/linkup
  std::array<uint8_t, 16> export_uuid{};
  SipKey mac_key{};
  bool single_device = true;  // every layer on one filesystem: inode numbers are unique as-is

  const Layer& layer(uint8_t n) const { return n == kUpperLayer ? upper : lowers.at(n); }
  bool valid_layer(uint8_t n) const { return n == kUpperLayer || n < lowers.size(); }
};

// Opens and validates the layers, creates the work-dir structure and the export identity on
// first use, and ties the upper dir to its lower stack the way kernel overlayfs does
// (trusted.overlay.origin on the upper root, trusted.overlay.upper on the index dir), refusing a
// work/upper dir that belongs to another stack. The work and upper dirs are the server's own
// even when the export is read-only to clients. An empty `upper_dir` is a lower-only union: the
// upper is then W/ovlnfsd/upper, an empty dir of the server's own that the caller must never
// write (UnionOptions::upper_dir).
Result<LayerSet> OpenLayers(FsEnv* env, const std::vector<std::string>& lower_dirs,
                            const std::string& upper_dir, const std::string& work_dir);

// Where start-up notes go (one line each, e.g. an intent record it had to discard).
using LogFn = std::function<void(const std::string&)>;

// Crash recovery, run before serving: empties W/work (half-made copy-ups and new objects),
// replays intent records (one it cannot complete is dropped and named through `log`, which may
// be empty), turns orphan index entries (no name left in the union) into tombstones and drops
// directory index entries whose upper dir is gone. Never opens a FIFO, socket or device node.
Status RecoverLayers(FsEnv* env, LayerSet& layers, const LogFn& log);

// Removes dirfd/name and, for a directory, everything below it.
Status RemoveTree(FsEnv* env, int dirfd, const std::string& name);

// Makes the entry dirfd/name durable. A regular file or directory is opened and fsynced; a
// symlink, FIFO, socket or device node is never opened (a FIFO blocks the opener, a device runs
// its driver, the others cannot be opened): the fsync of dirfd carries it instead.
Status SyncEntry(FsEnv* env, int dirfd, const std::string& name);

// A fresh unique name for a scratch object in W/work.
std::string TempName();

}  // namespace ovl
