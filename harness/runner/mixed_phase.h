// The mixed phase of a run: the seeded mixed workload (scenario/mixed.h, run by
// runner/mixed_runner.h) on every server its faults target (every server when it has none), one
// case "<server>/mixed" each, recorded in the history and judged like the scenario phase's
// cases (runner/analyze.h).
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "backend/nodes.h"
#include "ops/history_file.h"
#include "plan/plan.h"
#include "runner/case_runner.h"
#include "runner/results.h"
#include "workload/baseline.h"

namespace ovl::runner {

struct MixedPhaseContext {
  const plan::Plan* plan = nullptr;
  const backend::Nodes* nodes = nullptr;
  const workload::Baselines* baselines = nullptr;
  bool keep = false;  // keep the layers
  bool tty = false;   // progress on one rewritten line
  ops::HistoryWriter* history = nullptr;
  const RunClock* clock = nullptr;
  std::string run_dir;                             // layers go under <run_dir>/servers/
  const std::atomic<bool>* interrupted = nullptr;  // once set, no further server starts
};

struct MixedPhaseResult {
  std::vector<CaseReport> cases;        // one per server
  std::vector<PhaseThroughput> phases;  // "mixed:<server>"
};

// Runs the phase when the plan enables it; prints a line per case that did not pass (every case
// when not a tty).
MixedPhaseResult RunMixedPhase(const MixedPhaseContext& ctx);

// The scheduled faults of `server`'s mixed run: those that target it, and the client-evict
// faults whose client (a topology client name) has an instance among its mixed clients.
std::vector<plan::FaultEvent> MixedFaults(const plan::Plan& plan, const std::string& server);

}  // namespace ovl::runner
