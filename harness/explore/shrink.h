// Shrinking a failing generated case to a small one that fails the same way, as property-based
// testing does (docs/explore.md): fewer steps, fewer faults, fewer and smaller fixture entries,
// shorter data, one client, one layer. Every candidate is a whole case run again by the caller's
// `Oracle` (on the same server variant); a candidate is kept when it fails with the same finding
// rule. Pure: the oracle is the only way out, so the shrinker is tested on a model of a failing
// history with no process.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "explore/case_doc.h"

namespace ovl::explore {

// Runs a candidate and returns what identifies its failure (the runner's: the first MUST
// finding's rule and operation kind, "stale-handle getattr"), or nullopt when it passes, is not
// a valid scenario, or could not be decided.
using Oracle = std::function<std::optional<std::string>(const CaseDoc& candidate)>;

struct ShrinkLimits {
  std::chrono::milliseconds budget{std::chrono::minutes(5)};  // wall time for all candidates
  uint64_t max_candidates = 2000;
};

struct ShrinkResult {
  CaseDoc smallest;         // fails with `rule`; the input when nothing smaller did
  std::string rule;         // the finding rule every kept candidate failed with
  uint64_t candidates = 0;  // candidates run through the oracle
  uint64_t kept = 0;        // of them, the ones that failed the same way
  double seconds = 0;
  bool stopped_early = false;  // the budget or max_candidates ended it before a fixed point
};

// Shrinks `failing`, which fails with `rule`, until no candidate the passes make fails the same
// way, or the limits are reached. The candidate ids are failing.id + "-s<n>"; the result keeps
// failing.id + "-min" so it can be written beside the original.
ShrinkResult Shrink(const CaseDoc& failing, const std::string& rule, const Oracle& oracle,
                    const ShrinkLimits& limits);

}  // namespace ovl::explore
