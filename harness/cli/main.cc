// harness: reads a topology, plans the run and executes it (see docs/topology.md).
#include <signal.h>

#include <iostream>

#include "cli/app.h"
#include "cli/image_command.h"
#include "cli/run_command.h"
#include "report/diff.h"
#include "runner/analyze.h"
#include "runner/explore.h"
#include "runner/runner.h"

namespace {

void IgnorePipeSignal(int) {}

}  // namespace

int main(int argc, char** argv) {
  // A reader that goes away (`harness run ... | head`) must not end a run half-way, with its
  // servers, VMs and mounts left up: writes to it fail instead, and the run goes on and cleans
  // up. A handler, not SIG_IGN, so that the processes the harness starts get the default back
  // at exec.
  struct sigaction sa {};
  sa.sa_handler = IgnorePipeSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGPIPE, &sa, nullptr);
  ovl::cli::Commands commands;
  commands.run = ovl::cli::RunCommand;
  commands.guest = ovl::runner::RunGuestScript;
  commands.explore = ovl::runner::ExploreTopology;
  commands.report = ovl::runner::RenderReport;
  commands.analyze = ovl::runner::AnalyzeRunDir;
  commands.diff = ovl::report::DiffMain;
  commands.image = ovl::cli::ImageCommand;
  commands.clean = ovl::cli::CleanCommand;
  commands.host_cpus = ovl::cli::HostCpus;
  return ovl::cli::HarnessMain(argc, argv, std::cout, std::cerr, commands);
}
