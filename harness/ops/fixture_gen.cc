#include "ops/fixture_gen.h"

#include <cstdio>
#include <utility>
#include <vector>

#include "base/prng.h"
#include "ops/ops.h"

namespace ovl::ops {
namespace {

using EntryKind = FixtureEntry::Kind;

std::string Name(char prefix, uint64_t i, int width) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%c%0*llu", prefix, width, static_cast<unsigned long long>(i));
  return buf;
}

std::string Join(const std::string& dir, const std::string& name) {
  return dir.empty() ? name : dir + "/" + name;
}

}  // namespace

std::string FixtureFileData(uint64_t seed, const std::string& path, uint64_t size) {
  return Prng::Bytes(seed ^ (DataDigest(path) * 0x9e3779b97f4a7c15ull), size);
}

Status GenerateEntries(const FixtureGenerate& g, FixtureBuilder* b) {
  if (g.hardlinks > g.files) return FixtureError("generate: more hardlinks than files");
  if (g.files > 1000000 || g.dirs > 100000) return FixtureError("generate: too many entries");
  const Fixture& f = b->fixture();
  Prng rng(f.seed ^ 0x67656e6572617465ull);  // "generate": a stream apart from file data
  std::vector<std::string> dir_paths{""};
  for (uint64_t i = 0; i < g.dirs; ++i) {
    dir_paths.push_back(Join(dir_paths[rng.Below(dir_paths.size())], Name('g', i, 3)));
  }
  // Dirs live on every layer where something is put into them (implied); empty ones on layer 0.
  for (size_t i = 1; i < dir_paths.size(); ++i) {
    OVL_RETURN_IF_ERROR(b->Add({EntryKind::kDir, dir_paths[i], "", 0, 0, 0755}, "generate"));
  }
  std::vector<std::pair<std::string, int>> made;  // path, layer
  for (uint64_t i = 0; i < g.files; ++i) {
    FixtureEntry e{EntryKind::kFile,
                   Join(dir_paths[rng.Below(dir_paths.size())], Name('f', i, 4)),
                   "",
                   0,
                   static_cast<int>(rng.Below(f.layers)),
                   0644};
    e.size = g.size ? *g.size : rng.Below(g.max_size + 1);
    made.emplace_back(e.path, e.layer);
    OVL_RETURN_IF_ERROR(b->Add(std::move(e), "generate"));
  }
  for (uint64_t i = 0; i < g.hardlinks; ++i) {
    const size_t pick = i + rng.Below(made.size() - i);  // partial Fisher-Yates: distinct files
    std::swap(made[i], made[pick]);
    OVL_RETURN_IF_ERROR(
        b->Add({EntryKind::kHardlink, Join(dir_paths[rng.Below(dir_paths.size())], Name('h', i, 4)),
                made[i].first, 0, made[i].second, 0644},
               "generate"));
  }
  return Status::Ok();
}

}  // namespace ovl::ops
