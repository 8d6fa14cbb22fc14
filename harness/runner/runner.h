// ExecutePlan: a real `harness run`. Opens the run directory, brings up every node of the plan on
// its backend, runs the scenario, mixed and throughput phases while recording history.jsonl,
// stops the nodes, judges every case from the history with the model (runner/analyze.h), and
// writes results/<run-id>/ (manifest.json, results.json, junit.xml, report.html, history.jsonl,
// logs/). Everything it started is stopped and unmounted on every way out, Ctrl-C included.
#pragma once

#include <chrono>
#include <ostream>
#include <string>

#include "runner/run_request.h"

namespace ovl::runner {

// Returns the exit code (0 as expected, 1 correctness failure, 3 infrastructure error). A run
// that cannot write its history or an output file (manifest.json, results.json, junit.xml,
// report.html, the --json/--junit copies) exits 3 and names the file on stderr; a history write
// failure stops the run at that point.
int ExecutePlan(const RunRequest& request);

// `harness guest TOPOLOGY SERVER SCRIPT`: boots server `server` of `request.plan` alone (a VM
// server, with no links and no clients), as a run would, in a run directory of its own (its
// console log), runs `script` in it (ServerNode::RunScript) and prints the script's output.
// Returns the script's exit code; 2 when `server` is not a VM server of the plan; 3 when the VM
// does not boot (its console tail on stderr) or the script does not end within `timeout`. The
// VM goes on every way out; Ctrl-C is seen once the script has ended.
int RunGuestScript(const RunRequest& request, const std::string& server, const std::string& script,
                   std::chrono::seconds timeout);

// `harness report RUN_DIR`: reads RUN_DIR/results.json, writes RUN_DIR/junit.xml and
// RUN_DIR/report.html again and prints the verdict table. Exit code: the run's own, 2 when
// RUN_DIR holds no valid results, 3 when junit.xml or report.html cannot be written.
int RenderReport(const std::string& run_dir, std::ostream& out, std::ostream& err);

}  // namespace ovl::runner
