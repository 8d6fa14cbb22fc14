// harness: reads a topology, plans the run and executes it (see docs/topology.md).
#include <iostream>

#include "cli/app.h"
#include "cli/image_command.h"
#include "cli/run_command.h"
#include "report/diff.h"
#include "runner/analyze.h"
#include "runner/runner.h"

int main(int argc, char** argv) {
  ovl::cli::Commands commands;
  commands.run = ovl::cli::RunCommand;
  commands.report = ovl::runner::RenderReport;
  commands.analyze = ovl::runner::AnalyzeRunDir;
  commands.diff = ovl::report::DiffMain;
  commands.image = ovl::cli::ImageCommand;
  commands.clean = ovl::cli::CleanCommand;
  return ovl::cli::HarnessMain(argc, argv, std::cout, std::cerr, commands);
}
