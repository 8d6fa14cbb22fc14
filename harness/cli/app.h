// The `harness` command line: validate, list, report, diff, run, image and clean. Kept apart
// from main() so tests can drive it with their own output streams and stand-ins for the commands.
#pragma once

#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "cli/run_command.h"

namespace ovl::cli {

using RunFunction =
    std::function<int(const RunOptions&, const topology::Topology&, const plan::Plan&)>;
// Re-renders the report of a finished run directory (`harness report RUN_DIR`).
using ReportFunction =
    std::function<int(const std::string& run_dir, std::ostream& out, std::ostream& err)>;
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

// Parses `argv` and runs the subcommand, writing to `out` and `err`. `run` receives a loaded
// topology and its plan (`harness run`); `report` serves `harness report`, `diff` `harness
// diff`, `image` `harness image` and `clean` `harness clean`; their results are the exit code.
// A null function makes its subcommand a usage error. Returns the exit code.
int HarnessMain(int argc, const char* const* argv, std::ostream& out, std::ostream& err,
                const RunFunction& run, const ReportFunction& report = nullptr,
                const DiffFunction& diff = nullptr, const ForwardFunction& image = nullptr,
                const ForwardFunction& clean = nullptr);

}  // namespace ovl::cli
