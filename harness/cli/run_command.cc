#include "cli/run_command.h"

#include <iostream>

#include "cli/dry_run.h"
#include "runner/runner.h"

namespace ovl::cli {

int RunCommand(const runner::RunRequest& request) {
  if (request.options.dry_run) {
    return PrintDryRun(request.options, request.topology, request.plan, std::cout, std::cerr);
  }
  return runner::ExecutePlan(request);
}

}  // namespace ovl::cli
