// `harness diff RUN_A RUN_B`: what changed from run A (the reference, e.g. the last good nightly)
// to run B. Verdicts are compared per case id with the "#N" repeat suffix dropped; throughput per
// phase or job and metric, against a noise threshold taken from the runs' own repeats.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "report/run_data.h"

namespace ovl::report {

// Exit codes of `harness diff`.
inline constexpr int kDiffOk = 0;
inline constexpr int kDiffRegressed = 1;  // new failures, a new blind control, or slower
inline constexpr int kDiffBadInput = 2;   // a run directory without a valid results.json

struct VerdictChange {
  std::string id;                 // case id without the repeat suffix
  std::vector<std::string> a, b;  // the verdict of each repeat (empty: not in that run)
  std::string explanation;        // of the worst verdict in B (in A when B has none)
};

enum class Judgement {
  kNotEnoughRepeats,  // neither run measured it twice: no noise estimate
  kWithinNoise,
  kRegression,
  kImprovement,
};

struct ThroughputChange {
  std::string key;     // Measurement::key
  std::string metric;  // kOpsPerS...
  Stats a, b;
  double threshold = 0;  // 3 x the larger standard deviation of the two runs' repeats
  Judgement judgement = Judgement::kNotEnoughRepeats;
};

struct RunDiff {
  std::vector<VerdictChange> new_failures;   // FAIL in B, something else (or absent) in A
  std::vector<VerdictChange> fixes;          // FAIL -> PASS/XPASS, XFAIL -> XPASS
  std::vector<VerdictChange> flaky;          // verdicts differ between repeats in A or in B
  std::vector<VerdictChange> other_changes;  // any other verdict change
  std::vector<std::string> new_blind_controls, no_longer_blind;
  size_t in_both = 0, only_a = 0, only_b = 0;  // case ids
  std::vector<ThroughputChange> throughput;
  std::vector<std::string> measured_only_a, measured_only_b;  // "<key> <metric>"

  // New failures, new blind controls or throughput regressions.
  bool Regressed() const;
};

// Compares `a` (before) with `b` (after). A case that is flaky in either run is listed only as
// flaky, never as a new failure or a fix. A throughput change is significant when it exceeds 3
// standard deviations of the repeats (the larger of the two runs' spreads); when neither run
// measured it at least twice there is no noise estimate and it is not judged. A significant drop
// in ops/s or MB/s, or rise in latency, is a regression.
RunDiff DiffRuns(const RunFiles& a, const RunFiles& b);

// The diff as readable text tables, ending with a one-line result.
void PrintDiff(const RunFiles& a, const RunFiles& b, const RunDiff& diff, std::ostream& out);

// `harness diff`: loads both run directories, prints the diff to `out`. Returns kDiffRegressed
// when RunDiff::Regressed(), kDiffBadInput (message on `err`) when a directory cannot be read,
// kDiffOk otherwise.
int DiffMain(const std::string& run_a, const std::string& run_b, std::ostream& out,
             std::ostream& err);

}  // namespace ovl::report
