// The scenario phase of a run: every case of the plan (times --repeat), each run by
// case_runner, recorded in the history and judged live from its own events (the verdicts of the
// run come from the history file afterwards: runner/analyze.h). Cases run in lanes: the cases of VM
// servers that share no client VM run concurrently, one lane per group of servers and clients that
// do share (under TCG a case is mostly waiting on guests booting and replying, so one lane per
// server pays); every case of a local server runs in one lane, one case at a time, as before.
// Within a lane, cases keep plan order; the reports come back in plan order whatever the lanes'
// timing.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "backend/nodes.h"
#include "ops/history_file.h"
#include "plan/plan.h"
#include "runner/case_runner.h"
#include "runner/results.h"
#include "workload/workloads.h"

namespace ovl::runner {

struct ScenarioPhaseContext {
  const plan::Plan* plan = nullptr;
  uint64_t repeat = 1;
  bool keep = false;   // keep each case's layers
  bool tty = false;    // progress on one rewritten line
  bool quiet = false;  // no progress and no case lines (explore's shrink candidates)
  const backend::Nodes* nodes = nullptr;
  const workload::Workloads* workloads = nullptr;  // the parsed scenarios and the baselines
  ops::HistoryWriter* history = nullptr;
  const RunClock* clock = nullptr;
  std::string run_dir;                             // layers go under <run_dir>/servers/
  const std::atomic<bool>* interrupted = nullptr;  // once set, the remaining cases are skipped
};

struct ScenarioPhaseResult {
  std::vector<CaseReport> cases;                  // plan order, round by round
  std::map<std::string, PhaseThroughput> phases;  // "scenarios:<server>"
};

// Runs the phase; prints a line per case that did not pass (every case when not a tty). The
// reports of cases run to their end hold CaseReport::log_tail, the server's log tail then, kept
// by the judgement only when the case failed.
ScenarioPhaseResult RunScenarioPhase(const ScenarioPhaseContext& ctx);

// The lanes of `plan`: lists of indexes into plan.cases that may run concurrently with each
// other (see above). Exposed for tests.
std::vector<std::vector<size_t>> CaseLanes(const plan::Plan& plan);

}  // namespace ovl::runner
