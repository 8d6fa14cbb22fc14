// harness: reads a topology, plans the run and executes it (see docs/topology.md).
#include <iostream>

#include "cli/app.h"
#include "cli/run_command.h"
#include "cli/image_command.h"
#include "report/diff.h"
#include "runner/runner.h"

int main(int argc, char** argv) {
  return ovl::cli::HarnessMain(argc, argv, std::cout, std::cerr, ovl::cli::RunCommand,
                               ovl::runner::RenderReport, ovl::report::DiffMain,
                               ovl::cli::ImageCommand, ovl::cli::CleanCommand);
}
