// RunRequest: everything `harness run` hands the runner, read and validated before anything
// starts: the command line's options, the topology, the workloads (scenarios, throughput jobs,
// baselines: workload/workloads.h) and the plan, which carries every server and client with its
// resolved spec. The runner reads no input file and looks nothing up in the topology by name.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "plan/plan.h"
#include "topology/topology.h"
#include "workload/workloads.h"

namespace ovl::runner {

struct RunOptions {
  std::filesystem::path topology;                 // the topology file, for the manifest
  std::optional<uint64_t> seed;                   // --seed (already applied to the plan)
  std::filesystem::path results_dir = "results";  // --results: runs land in <dir>/<run-id>/
  std::vector<std::string> only;                  // --only (already applied to the plan)
  bool dry_run = false;                           // --dry-run: print the plan, start nothing
  bool keep = false;                              // --keep: leave nodes and work dirs after the run
  std::optional<std::filesystem::path> junit;     // --junit: also write JUnit XML here
  std::optional<std::filesystem::path> json;      // --json: also write results (dry run: the plan)
  uint64_t repeat = 1;                            // --repeat: run the plan this many times
};

struct RunRequest {
  RunOptions options;
  topology::Topology topology;
  workload::Workloads workloads;
  plan::Plan plan;
};

}  // namespace ovl::runner
