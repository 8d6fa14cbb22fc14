// A fixture: the initial content of the lower layers of a test case, as data. The backend
// materialises it into real lower directories (backend/fixture_disk.h); the model takes its
// merged view as the initial state. File contents are derived from (seed, path, size)
// (ops/fixture_gen.h), so a fixture description stays small and both sides agree on every byte.
// Its YAML/JSON form is in ops/fixture_json.h. Pure: no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/status.h"

namespace ovl::ops {

struct FixtureEntry {
  enum class Kind { kFile, kDir, kHardlink, kSymlink };
  Kind kind = Kind::kFile;
  std::string path;  // relative, '/'-separated
  std::string to;    // kHardlink: existing file path; kSymlink: link target
  uint64_t size = 0;
  int layer = 0;  // 0 = top-most lower layer
  uint32_t mode = 0644;
};

struct Fixture {
  int layers = 1;
  uint64_t seed = 1;
  std::vector<FixtureEntry> entries;  // explicit and generated, in creation order
};

// Whether `path` is relative, '/'-separated, and names something below a layer's root (no empty,
// "." or ".." component).
bool ValidLayerPath(const std::string& path);

// The mode an entry of `kind` has when none is given: 0644 files, 0755 dirs, 0777 symlinks.
uint32_t DefaultMode(FixtureEntry::Kind kind);

// EINVAL "fixture: <what>": the error of a fixture that cannot be built.
Status FixtureError(const std::string& what);

// Builds a fixture entry by entry, adding implied parent dirs and checking each layer's
// namespace (no duplicate paths, parents are dirs, hard links name an earlier file). The
// fixture's `layers` and `seed` are set before the first Add.
class FixtureBuilder {
 public:
  explicit FixtureBuilder(Fixture* f) : f_(f), layers_(f->layers) {}

  const Fixture& fixture() const { return *f_; }
  // Appends `e` (and its missing parent dirs) to the fixture. EINVAL naming `where` when `e`
  // breaks the layer's namespace; the fixture is then unchanged but for implied parents.
  [[nodiscard]] Status Add(FixtureEntry e, const std::string& where);

 private:
  Status AddParents(const std::string& path, int layer, const std::string& where);

  struct Known {
    FixtureEntry::Kind kind;
    size_t index;      // in f_->entries
    std::string file;  // files and hard links: the path of the file entry they are
  };
  Fixture* f_;
  std::vector<std::map<std::string, Known>> layers_;
};

// The merged (union) view of a fixture: every visible path with its object. Paths that are hard
// links of one file share an object number.
struct MergedEntry {
  std::string path;
  FixtureEntry::Kind kind;  // kFile, kDir or kSymlink
  int object = 0;           // same number = same object (hard links)
  std::string data;         // kFile: content; kSymlink: target
  uint32_t mode = 0;
};
// Sorted by path. A hard link whose other name is hidden by a higher layer still counts as one
// object with the visible names only; fixtures should avoid that shape.
std::vector<MergedEntry> MergedView(const Fixture& f);

}  // namespace ovl::ops
