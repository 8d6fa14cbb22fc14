// What the commands that bring nodes up share (`harness run`, `guest`, `explore`): Ctrl-C and
// SIGTERM handling, the node options of a run directory, and the end of a run (the judgement
// from history.jsonl and the output files).
#pragma once

#include <atomic>
#include <string>

#include "backend/nodes.h"
#include "ops/history_file.h"
#include "runner/results.h"
#include "runner/run_dir.h"
#include "workload/baseline.h"

namespace ovl::runner {

// While alive, SIGINT and SIGTERM set Interrupted() instead of ending the process, so a run
// stops between steps and tears down in order; the old handlers come back at its end. The
// constructor clears the flag.
class InterruptGuard {
 public:
  InterruptGuard();
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

 private:
  struct Saved;
  Saved* saved_;
};

// Set once Ctrl-C or SIGTERM arrived under an InterruptGuard.
std::atomic<bool>& Interrupted();

// The node options of a run in `dir`: binaries (OVL_OVLNFSD, OVL_AGENT, OVL_GUESTD override the
// built ones), the host's CPUs as boot parallelism, Interrupted() as the stop flag.
backend::NodeOptions NodeOptionsFor(const RunDir& dir);

// The end of a run whose nodes are stopped: judges every case of `run` from `history`'s file
// (a verdict that differs from the live one is an infrastructure error), makes an interrupted
// run or one whose history is incomplete exit 3, writes results.json, junit.xml, report.html
// (and `copies`) and prints the summary. Returns the exit code.
int FinishRun(const RunDir& dir, const ops::HistoryWriter& history,
              const workload::Baselines& baselines, const OutputCopies& copies, RunSummary run);

}  // namespace ovl::runner
