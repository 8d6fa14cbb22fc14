// The YAML/JSON form of a fixture (ops/fixture.h), in a scenario file or a topology:
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
// `generate` is expanded on parsing (ops/fixture_gen.h: FixtureGenerate). Modes are octal in
// YAML (0644); defaults are 0644 for files, 0755 for dirs.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>

#include "base/status.h"
#include "ops/fixture.h"

namespace ovl::ops {

// Parses the JSON form, expanding `generate` with a PRNG seeded by the fixture's seed
// (`default_seed` when it names none); errors name the bad entry. Hard links must follow their
// target in the same layer; parent dirs are implied.
ovl::Result<Fixture> FixtureFromJson(const nlohmann::json& j, uint64_t default_seed);
// The JSON form of `f` with every entry listed (generated ones too), so FixtureFromJson gives `f`
// back.
nlohmann::json FixtureToJson(const Fixture& f);

}  // namespace ovl::ops
