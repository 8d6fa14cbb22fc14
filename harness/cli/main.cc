// harness: reads a topology, plans the run and executes it (see docs/topology.md).
#include <iostream>
#include <string>
#include <vector>

#include "cli/app.h"
#include "cli/run_command.h"
#include "image/image_command.h"
#include "report/diff.h"
#include "runner/runner.h"

int main(int argc, char** argv) {
  // `harness image build|list|clean` and `harness clean` (the libvirt backend's guest image and
  // leftovers of killed runs) take their own arguments.
  const std::string sub = argc > 1 ? argv[1] : "";
  if (sub == "image" || sub == "clean") {
    std::vector<std::string> args(argv + 2, argv + argc);
    return sub == "image" ? ovl::image::ImageCommand(args, std::cout, std::cerr)
                          : ovl::image::CleanCommand(args, std::cout, std::cerr);
  }
  return ovl::cli::HarnessMain(argc, argv, std::cout, std::cerr, ovl::cli::RunCommand,
                               ovl::runner::RenderReport, ovl::report::DiffMain);
}
