// The seam between the command line and the executor: `harness run` parses its options into
// RunOptions, loads and plans, then hands all three to RunCommand. RunCommand prints the plan for
// --dry-run and otherwise calls runner::ExecutePlan (harness/runner/runner.h).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "plan/plan.h"
#include "topology/topology.h"

namespace ovl::cli {

struct RunOptions {
  std::filesystem::path topology;                 // the topology file
  std::filesystem::path workloads_dir;            // the catalogue that was loaded
  std::optional<uint64_t> seed;                   // --seed (already applied to the plan)
  std::filesystem::path results_dir = "results";  // --results: runs land in <dir>/<run-id>/
  std::vector<std::string> only;                  // --only (already applied to the plan)
  bool dry_run = false;                           // --dry-run: print the plan, start nothing
  bool keep = false;                              // --keep: leave nodes and work dirs after the run
  std::optional<std::filesystem::path> junit;     // --junit: also write JUnit XML here
  std::optional<std::filesystem::path> json;      // --json: also write results (dry run: the plan)
  uint64_t repeat = 1;                            // --repeat: run the plan this many times
};

// Runs `plan` (or prints it, for a dry run). Returns the process exit code (docs/design.md, "Exit
// codes": 0 as expected, 1 correctness failure, 2 usage/topology error, 3 infrastructure error).
int RunCommand(const RunOptions& options, const topology::Topology& topology,
               const plan::Plan& plan);

}  // namespace ovl::cli
