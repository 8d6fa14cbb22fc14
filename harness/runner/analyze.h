// Judging a run from its history, the way Jepsen's checker works: history.jsonl is the single
// source of truth. A run judges its cases here, from the file it wrote, once they have all run;
// `harness analyze RUN_DIR` does the same later, with the model and baselines of that day, and
// rewrites the run's verdicts and reports.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "ops/history.h"
#include "runner/results.h"
#include "workload/baseline.h"

namespace ovl::runner {

// The live judgement of one case run to its end, from its own events as they were recorded:
// what the run prints as the case ends. JudgeRun's judgement from the file must agree.
void JudgeCaseEvents(const std::vector<ops::Event>& events, const workload::Baselines& baselines,
                     CaseReport* r);

// Judges every case of `run` that ran to its end in `history` (its "end" event says "done"):
// the model's verdict, then the expectation (CaseReport::expect) and `baselines` decide the
// reported verdict (runner/judge.h). Cases that did not run to their end keep what the run said
// of them. Then recomputes the blind controls and the exit code; an exit code of 3 the run
// already had (interrupted, an output not written) stays unless the verdicts now say 1.
// Returns the indexes in run->cases of the cases it judged.
std::vector<size_t> JudgeRun(const std::vector<ops::Event>& history,
                             const workload::Baselines& baselines, RunSummary* run);

// `harness analyze RUN_DIR`: reads RUN_DIR/results.json and RUN_DIR/history.jsonl, judges them
// with JudgeRun, rewrites results.json, junit.xml and report.html and prints the verdict table.
// Returns the run's new exit code; 2 when RUN_DIR holds no valid results or history; 3 when an
// output cannot be written.
int AnalyzeRunDir(const std::string& run_dir, const workload::Baselines& baselines,
                  std::ostream& out, std::ostream& err);

}  // namespace ovl::runner
