// The `harness` command line: validate, list, report, diff, run, image and clean. Kept apart
// from main() so tests can drive it with their own output streams and stand-ins for the commands.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "runner/explore.h"
#include "runner/run_request.h"
#include "workload/baseline.h"

namespace ovl::cli {

using RunFunction = std::function<int(const runner::RunRequest&)>;
// Boots one server VM of a topology and runs a shell script in it (`harness guest`): the request
// (its topology, plan and --results), the server's name, the script's text and its time bound.
using GuestFunction = std::function<int(const runner::RunRequest&, const std::string& server,
                                        const std::string& script, std::chrono::seconds timeout)>;
// Runs generated cases on a topology's servers and shrinks what fails (`harness explore`).
using ExploreFunction =
    std::function<int(const runner::RunRequest&, const runner::ExploreOptions&)>;
// Re-renders the report of a finished run directory (`harness report RUN_DIR`).
using ReportFunction =
    std::function<int(const std::string& run_dir, std::ostream& out, std::ostream& err)>;
// Re-judges a finished run directory's history with the current model and `baselines`
// (`harness analyze RUN_DIR`).
using AnalyzeFunction =
    std::function<int(const std::string& run_dir, const workload::Baselines& baselines,
                      std::ostream& out, std::ostream& err)>;
// Compares two finished run directories (`harness diff RUN_A RUN_B`).
using DiffFunction = std::function<int(const std::string& run_a, const std::string& run_b,
                                       std::ostream& out, std::ostream& err)>;

// A subcommand that parses its own arguments (`harness image ...`, `harness clean ...`): it gets
// every argument after its name.
using ForwardFunction =
    std::function<int(const std::vector<std::string>& args, std::ostream& out, std::ostream& err)>;

// Exit codes (docs/design.md, "Exit codes") that the front end itself produces.
inline constexpr int kExitOk = 0;
inline constexpr int kExitUsage = 2;  // usage, catalogue or topology error

// The commands HarnessMain dispatches to; a null one makes its subcommand a usage error.
// The CPU count of each libvirt host of a topology that answers (placement weights, plan.h).
using HostCpusFunction =
    std::function<std::map<std::string, unsigned>(const topology::Topology&, std::ostream& err)>;

struct Commands {
  RunFunction run;             // `harness run`: a validated topology, its workloads and plan
  GuestFunction guest;         // `harness guest`
  ExploreFunction explore;     // `harness explore`
  ReportFunction report;       // `harness report`
  AnalyzeFunction analyze;     // `harness analyze`, with the validated workloads' baselines
  DiffFunction diff;           // `harness diff`
  ForwardFunction image;       // `harness image`
  ForwardFunction clean;       // `harness clean`
  HostCpusFunction host_cpus;  // run and explore on several libvirt hosts (unset: 1 CPU each)
};

// Parses `argv` and runs the subcommand, writing to `out` and `err`. Every command that reads
// workloads (validate, list scenarios, run, analyze) loads all of them first, scenarios, jobs and
// baselines, and stops with every error (exit 2) before doing anything else. Returns the exit
// code.
int HarnessMain(int argc, const char* const* argv, std::ostream& out, std::ostream& err,
                const Commands& commands);

}  // namespace ovl::cli
