// A libvirt storage pool (type dir) on one host: where a remote host keeps a run's disks and the
// guest image, since the harness host's files are not visible there (docs/vms.md, "Several
// hosts"). Every transfer goes through the libvirt connection (virStorageVolUpload/Download over
// a stream), never through a channel of the harness's own.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "backend/libvirt/hypervisor.h"
#include "base/status.h"

namespace ovl::backend::libvirt {

class StoragePool {
 public:
  // The pool `name` of `hv`'s host; defines it (a dir pool at `path`, on that host), builds and
  // starts it when it is not there or not running. `hv` must outlive the pool.
  static Result<StoragePool> Ensure(Hypervisor* hv, const std::string& name,
                                    const std::string& path);

  const std::string& name() const { return name_; }
  // The path of volume `volume` on the pool's host; ENOENT when there is none.
  Result<std::string> Path(const std::string& volume);
  // A new qcow2 volume of `bytes` whose backing file is the raw image at `backing` (a path on
  // the pool's host); its path there.
  Result<std::string> CreateOverlay(const std::string& volume, const std::string& backing,
                                    uint64_t bytes);
  // A new raw volume holding the local file `local_path` (uploaded through a sparse stream, so
  // the holes of an image cost nothing); its path on the pool's host.
  Result<std::string> Upload(const std::string& volume, const std::string& local_path);
  // The content of volume `volume`, at most `max_bytes` of it (EFBIG beyond).
  Result<std::string> Download(const std::string& volume, size_t max_bytes);
  // Deletes volume `volume`; a volume that is not there is not an error.
  Status Delete(const std::string& volume);
  // The names of the pool's volumes that start with `prefix`.
  Result<std::vector<std::string>> List(const std::string& prefix);

 private:
  StoragePool(Hypervisor* hv, std::string name) : hv_(hv), name_(std::move(name)) {}

  Hypervisor* hv_;
  std::string name_;
};

}  // namespace ovl::backend::libvirt
