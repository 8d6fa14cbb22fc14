// ExecutePlan: a real `harness run`. Brings up every server and agent of the plan on its
// backend, runs the cases in plan order while recording history.jsonl, judges each case with the
// model, and writes results/<run-id>/ (manifest.json, results.json, junit.xml, report.html,
// history.jsonl, logs/). Everything it started is stopped and unmounted on every way out, Ctrl-C
// included.
#pragma once

#include <ostream>
#include <string>

#include "cli/run_command.h"
#include "plan/plan.h"
#include "topology/topology.h"

namespace ovl::runner {

// Returns the exit code (0 as expected, 1 correctness failure, 3 infrastructure error).
int ExecutePlan(const cli::RunOptions& options, const topology::Topology& topology,
                const plan::Plan& plan);

// `harness report RUN_DIR`: reads RUN_DIR/results.json, writes RUN_DIR/junit.xml and
// RUN_DIR/report.html again and prints the verdict table. Exit code: the run's own, or 2 when
// RUN_DIR holds no valid results.
int RenderReport(const std::string& run_dir, std::ostream& out, std::ostream& err);

}  // namespace ovl::runner
