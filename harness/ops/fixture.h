// A fixture: the initial content of the lower layers of a test case, as data. The backend
// materialises it into real lower directories; the model takes its merged view as the initial
// state. File contents are derived from (seed, path, size), so a fixture description stays small
// and both sides agree on every byte.
//
// YAML/JSON form (in a scenario file or a topology):
//   fixture:
//     layers: 2                 # number of lower layers (default 1)
//     seed: 7                   # content seed (default: the run seed)
//     entries:
//       - {file: a, size: 4096}             # layer 0 (top-most) unless `layer:` says otherwise
//       - {file: d/x, size: 10, layer: 1}
//       - {dir: empty}
//       - {hardlink: b, to: a}               # another name of an existing file, same layer
//       - {symlink: s, to: a}
//     generate: {files: 100, dirs: 10, max_size: 65536, hardlinks: 5}   # optional, seeded
//
// `generate` makes dirs g000.. (each inside the root or an earlier one), files f0000.. (in a
// random dir, on a random layer, `size` bytes each or uniform in [0, max_size]) and hard links
// h0000.. to distinct files (same layer, random dir). Modes are octal in YAML (0644); defaults
// are 0644 for files, 0755 for dirs.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
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

// The bytes of the file created for `entry` (kFile).
std::string FixtureFileData(uint64_t seed, const std::string& path, uint64_t size);

// Parses the JSON form, expanding `generate` with a PRNG seeded by `seed`; errors name the bad
// entry. Hard links must follow their target in the same layer; parent dirs are implied.
ovl::Result<Fixture> FixtureFromJson(const nlohmann::json& j, uint64_t default_seed);
nlohmann::json FixtureToJson(const Fixture& f);

// Creates the fixture in `lower_dirs` (one per layer, top-most first; must exist and be empty).
Status Materialize(const Fixture& f, const std::vector<std::string>& lower_dirs);

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

// Checks that `lower_dirs` still hold exactly what Materialize made (lower layers are read-only
// to an overlay: a copy-up must never write them). EIO naming the first difference.
Status VerifyLowerLayers(const Fixture& f, const std::vector<std::string>& lower_dirs);

}  // namespace ovl::ops
