// The seam between the command line and the executor: `harness run` parses its options, loads
// the topology and the workloads, plans, and hands the RunRequest to RunCommand, which prints the
// plan for --dry-run and otherwise calls runner::ExecutePlan (harness/runner/runner.h).
#pragma once

#include "runner/run_request.h"

namespace ovl::cli {

// Runs the request (or prints its plan, for a dry run). Returns the process exit code
// (docs/design.md, "Exit codes": 0 as expected, 1 correctness failure, 2 usage/topology error,
// 3 infrastructure error).
int RunCommand(const runner::RunRequest& request);

}  // namespace ovl::cli
