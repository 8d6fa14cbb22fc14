// Verdicts of a run (model/verdict.h, LLVM lit's result kinds): what the model said about each
// case, turned into what the run reports given what the topology expected.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "model/verdict.h"
#include "topology/topology.h"

namespace ovl::runner {

using model::Verdict;
using model::VerdictName;

// One case as reported.
struct CaseReport {
  std::string id;
  std::string server;
  std::string variant;
  std::string scenario;
  std::string fault;  // "" when the scenario has no fault expansion
  std::string access;
  std::string nfs_version;      // of a kernel mount (plan::Case::nfs_version); "" otherwise
  std::string expect = "pass";  // the server's expectation: "pass", or "fail" (negative control)
  std::string kernel;           // the kernel release the server ran on; baselines match on it
  Verdict verdict = Verdict::kUnresolved;
  bool model_failed = false;  // the model found a MUST violation
  std::string explanation;    // first finding, or the UNSUPPORTED / UNRESOLVED reason
  std::string note;           // what the run itself says of a judged case (the mixed workload:
                              // faults injected); the explanation of a pass
  nlohmann::json findings = nlohmann::json::array();  // every finding (MUST and MAY)
  nlohmann::json sweep;  // the corrupted-handle sweep's counts (Judgement::sweep); null: none
  std::string log_tail;  // server/agent log tail for failures
  // The server kernel's lines during the case, the first model::kMaxCaseKernelLines of them,
  // and how many there were (model::CaseVerdict).
  std::vector<std::string> kernel_lines;
  uint64_t kernel_lines_total = 0;
  double seconds = 0;
  uint64_t ops = 0;
  uint64_t seed = 0;
};

// The verdict of a case from the model's result, the server's expectation and whether a
// baseline lists the case as a known failure. A negative control (expect: fail) must fail
// somewhere, not everywhere: its failing cases are XFAIL, its passing ones PASS, and
// BlindControls() checks that each control failed at least once. A baselined case is XFAIL
// when it fails and XPASS when it passes (the baseline line is then stale), unless the baseline
// says the failure shows only sometimes: then a pass is a PASS.
enum class Known { kNo, kAlways, kSometimes };
Verdict Decide(bool model_failed, topology::Expect expect, Known known);

// Negative-control servers (those whose cases expect "fail") of which no case that ran failed:
// each one means the oracle missed a weakness it exists to catch (listed in results.json and
// junit.xml, exit code 1).
std::vector<std::string> BlindControls(const std::vector<CaseReport>& cases);

// 0 every verdict as expected; 1 a correctness failure (FAIL, XPASS or a blind control);
// 3 infrastructure (UNRESOLVED) when nothing worse happened.
int ExitCode(const std::vector<CaseReport>& cases, const std::vector<std::string>& blind_controls);

}  // namespace ovl::runner
