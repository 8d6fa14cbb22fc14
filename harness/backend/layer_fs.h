// Layer setups of the local backend: where each layer of a server lives (a directory on the
// harness's filesystem, a tmpfs, a loop-mounted ext4 or xfs image), lower-only exports and a
// nested lower layer (an overlay mount of its own two layers). Everything made here is undone
// by the destructors, in reverse order, on every exit path the process survives (teardown,
// errors, Ctrl-C); mounts left by a killed harness carry its pid in their mount point's name,
// so `harness clean` finds them (CleanDeadRunMounts in backend/local_nodes.h).
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "ops/fixture.h"
#include "topology/topology.h"

namespace ovl::backend {

// One filesystem made for layers, mounted at <parent>/ovlnfs-layerfs-<pid>-<name>: a tmpfs, or
// a sparse image file <parent>/<name>.img formatted with mkfs.ext4 / mkfs.xfs and mounted
// through an auto-clearing loop device.
class LayerFsMount {
 public:
  // Makes and mounts it; `kind` is tmpfs, ext4 or xfs. The errno of the step that failed,
  // naming it; ENOENT when mkfs is missing.
  static Result<std::unique_ptr<LayerFsMount>> Make(topology::LayerFs kind,
                                                    const std::string& parent,
                                                    const std::string& name);
  // Remove(), errors ignored.
  ~LayerFsMount();
  LayerFsMount(const LayerFsMount&) = delete;
  LayerFsMount& operator=(const LayerFsMount&) = delete;

  // The mount point: the root of the new filesystem.
  const std::string& path() const { return path_; }
  // Detaches the mount (its loop device clears itself once nothing uses it) and removes the
  // mount point and, unless `keep_image`, the image. Idempotent.
  Status Remove(bool keep_image = false);

 private:
  LayerFsMount(topology::LayerFs kind, std::string path, std::string image)
      : kind_(kind), path_(std::move(path)), image_(std::move(image)) {}

  topology::LayerFs kind_;
  std::string path_;
  std::string image_;  // empty for tmpfs
  bool mounted_ = false;
};

// Makes `image`, a new sparse file, and formats it as `kind` (ext4 or xfs; EINVAL otherwise),
// mkfs's output to `log`: a layer filesystem for a loop mount here or a VM's disk
// (backend/libvirt/vm_nodes.cc). ENOENT when mkfs is missing.
[[nodiscard]] Status MakeLayerFsImage(topology::LayerFs kind, const std::string& image,
                                      const std::string& log);

// The directories of one server's layers, as the overlay mount and ovlnfsd take them.
struct LayerDirs {
  std::vector<std::string> lowers;  // top-most first
  std::string upper;                // empty: a lower-only export
  std::string work;                 // the upper's work dir; ovlnfsd's state dir when lower-only
};

// All layers of one server under `dir`: lower0..N-1, upper and work, each on the filesystem the
// topology names, filled from the fixture.
class LayerStack {
 public:
  // Makes them (removing what `dir` held). Layer i of the fixture goes to lowers[i]; the
  // topology's layer count is a minimum (a scenario's fixture may bring more layers, which then
  // live on the harness's filesystem), and layers beyond the fixture's stay empty. Nested:
  // lowers[0] is a read-only overlay mount of <dir>/nested-top and <dir>/nested-bottom, which holds
  // the fixture's layer 0 while nested-top repeats its directories (so they merge), mounted with
  // nfs_export so the outer layer can decode handles on it.
  static Result<std::unique_ptr<LayerStack>> Make(const topology::ServerSpec& spec,
                                                  const ops::Fixture& fixture,
                                                  const std::string& dir);
  // Remove(false), errors ignored.
  ~LayerStack();
  LayerStack(const LayerStack&) = delete;
  LayerStack& operator=(const LayerStack&) = delete;

  const LayerDirs& dirs() const { return dirs_; }
  // Unmounts everything made here, innermost first, keeping the image files when `keep`.
  // Idempotent; the first error.
  Status Remove(bool keep);

 private:
  LayerStack() = default;
  Status MountNested(const std::string& top, const std::string& bottom, const std::string& at);

  LayerDirs dirs_;
  std::vector<std::unique_ptr<LayerFsMount>> mounts_;
  std::string nested_mount_;  // the inner overlay's mount point, when mounted
};

// MountOverlayAs (overlay_mount.h) named OverlayMountSource(getpid()), so that `harness clean`
// finds it.
Status MountOverlay(const std::string& at, const std::string& options, std::string* notes);

// The pid in a layer filesystem's mount point name ("ovlnfs-layerfs-<pid>-lower1"), or nullopt
// when `mount_point` names no such mount.
std::optional<pid_t> LayerFsOwner(const std::string& mount_point);

}  // namespace ovl::backend
