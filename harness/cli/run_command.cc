#include "cli/run_command.h"

#include <iostream>

#include "cli/dry_run.h"
#include "runner/runner.h"

namespace ovl::cli {

int RunCommand(const RunOptions& options, const topology::Topology& topology,
               const plan::Plan& plan) {
  if (options.dry_run) return PrintDryRun(options, topology, plan, std::cout, std::cerr);
  return runner::ExecutePlan(options, topology, plan);
}

}  // namespace ovl::cli
