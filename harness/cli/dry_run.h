// `harness run --dry-run`: the resolved plan as text (and as JSON with --json), nothing started.
#pragma once

#include <ostream>
#include <string>

#include "plan/plan.h"
#include "runner/run_request.h"
#include "topology/topology.h"

namespace ovl::cli {

// The plan as text: servers, clients, links and ports, the fault schedule with times, the cases
// in run order, and the seed.
std::string FormatPlan(const runner::RunOptions& options, const topology::Topology& topology,
                       const plan::Plan& plan);

// Prints FormatPlan to `out` and, with options.json, writes the plan JSON there. Returns 0, or 2
// (reported on `err`) when the JSON file cannot be written.
int PrintDryRun(const runner::RunOptions& options, const topology::Topology& topology,
                const plan::Plan& plan, std::ostream& out, std::ostream& err);

}  // namespace ovl::cli
