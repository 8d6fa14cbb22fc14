// Seeded fixture content (ops/fixture.h): the bytes of every file, and the entries of a
// fixture's `generate:` block (ops/fixture_json.h). Both draw from base/prng.h, so a seed gives
// the same fixture on every host and in every release (harness/ops/seed_stability_test.cc).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/status.h"
#include "ops/fixture.h"

namespace ovl::ops {

// The bytes of the file created for a kFile entry at `path` of `size` bytes in a fixture of
// `seed`.
std::string FixtureFileData(uint64_t seed, const std::string& path, uint64_t size);

// What a `generate:` block asks for: dirs g000.. (each inside the root or an earlier one), files
// f0000.. (in a random dir, on a random layer, `size` bytes each or uniform in [0, max_size]) and
// hard links h0000.. to distinct files (same layer, random dir).
struct FixtureGenerate {
  uint64_t files = 0;
  uint64_t dirs = 0;
  std::optional<uint64_t> size;  // every file this size; else uniform in [0, max_size]
  uint64_t max_size = 0;
  uint64_t hardlinks = 0;
};

// Adds the entries `g` describes to the fixture `b` builds, drawn from the fixture's seed. EINVAL
// ("fixture: generate: ...") for more hard links than files or an absurd entry count.
[[nodiscard]] Status GenerateEntries(const FixtureGenerate& g, FixtureBuilder* b);

}  // namespace ovl::ops
