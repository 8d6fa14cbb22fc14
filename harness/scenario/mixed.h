// The mixed workload: several clients at once creating, writing, renaming, linking, unlinking,
// reading back and holding handles, while faults strike at random moments.
//
// Each client works only inside its own subtree (<export>/<client>/...), made for it in the
// fixture. That is what keeps the workload judgeable: a client runs one operation at a time, so
// the history of its subtree is sequential, and the model can replay it exactly, forking only
// on the one operation a fault cut off, even when faults strike mid-operation. With shared
// names the model would have to consider every interleaving of concurrent operations.
// Cross-client semantics (one client holding a handle while another renames or removes) are the
// two-clients scenario's job. The history's case event says `"disjoint_clients": true` so the
// model judges each client's subtree on its own.
//
// Generation is static and seeded: a small model of each subtree, assuming every operation
// succeeds, picks plausible operations (names that exist, dirs that are empty, ...). When a
// fault makes reality differ, later operations may fail; the model judges those results too.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "ops/fixture.h"
#include "ops/ops.h"

namespace ovl::scenario {

// The scenario name of mixed-workload cases in histories.
inline constexpr char kMixedScenario[] = "mixed";

struct MixedOptions {
  uint64_t seed = 1;
  std::vector<std::string> clients;  // agent instance names; each gets <client>/ as its subtree
  uint64_t ops = 1000;               // over all clients (split evenly, rounded up)
  int layers = 1;                    // lower layers of the fixture
  uint64_t files_per_client = 12;    // initial lower files per client
  uint64_t dirs_per_client = 3;      // initial lower dirs per client, besides its root
  uint64_t hardlinks_per_client = 2;
  uint64_t max_file_size = 16384;  // initial files; writes add at most 8 KiB each
};

struct MixedWorkload {
  ops::Fixture fixture;
  // Per client (options.clients order), that client's operations in order. op.client is the
  // client's name; seqs are unique over all clients.
  std::vector<std::vector<ops::Op>> ops;
};

// Deterministic in `options` (every choice drawn from options.seed). EINVAL when a client name
// is not usable as a path component or the layer count is out of range.
ovl::Result<MixedWorkload> MakeMixedWorkload(const MixedOptions& options);

}  // namespace ovl::scenario
