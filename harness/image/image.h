// Guest images: built once from a recipe with mmdebstrap and mkfs.ext4 -d (no loop mount, no
// root-only mount tricks), cached under <cache>/images/<recipe hash>/ together with the kernels
// and initrds extracted from the built tree (never the host's).
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "base/status.h"
#include "image/recipe.h"

namespace ovl::image {

// Where images, VM disks and probe results live unless the topology or --cache-dir says.
inline constexpr const char* kDefaultCacheDir = "/var/cache/ovlnfs-harness";

struct KernelFiles {
  std::string series;   // "6.1"
  std::string release;  // "6.1.0-56-amd64"
  std::string vmlinuz;  // absolute paths in the image dir
  std::string initrd;
};

struct GuestImage {
  std::string hash;
  std::string dir;
  std::string rootfs;  // raw ext4 image: the read-only base of every VM's qcow2 overlay
  std::vector<KernelFiles> kernels;
  uint64_t bytes = 0;  // disk space the image dir takes
  std::string built;   // UTC time of the build

  // The kernel of `series`, or nullptr.
  const KernelFiles* Kernel(const std::string& series) const;
};

// The cached image of `recipe`, built first when absent (or when `force`). Concurrent callers
// wait on a lock file rather than building twice. Progress lines go to `log`; the tools' own
// output to <image dir>/build.log.
Result<GuestImage> EnsureImage(const Recipe& recipe, const std::string& cache_dir, bool force,
                               std::ostream& log);

// Every complete image under `cache_dir`, by build time.
Result<std::vector<GuestImage>> ListImages(const std::string& cache_dir);

// Removes every image (and any half-built one) under `cache_dir`; returns how many went.
Result<int> RemoveImages(const std::string& cache_dir);

// Makes the raw ext4 image `image` of `size` bytes (sparse) holding the tree `src_dir`, with
// mkfs.ext4 -d; the tool's output is appended to `log_path`.
Status MakeExt4(const std::string& src_dir, const std::string& image, uint64_t size,
                const std::string& label, const std::string& log_path);

}  // namespace ovl::image
