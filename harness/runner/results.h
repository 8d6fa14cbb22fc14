// Writers of a finished run's results: results.json (schema_version 1), junit.xml and the
// terminal's verdict table. They read the reports; they never run anything.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "runner/verdict.h"

namespace ovl::runner {

// Throughput of one phase of the run (a server's scenario cases, the mixed workload...).
struct PhaseThroughput {
  std::string name;
  uint64_t ops = 0;
  uint64_t bytes = 0;  // data read + written
  double seconds = 0;
};

struct RunSummary {
  std::string run_id;
  std::string topology;
  uint64_t seed = 0;
  std::string started;  // ISO 8601 UTC
  double seconds = 0;
  int exit_code = 0;
  std::vector<CaseReport> cases;
  std::vector<std::string> blind_controls;
  std::vector<PhaseThroughput> phases;
};

nlohmann::json ResultsJson(const RunSummary& run);
// The inverse of ResultsJson (for `harness report`); EINVAL naming what is wrong.
ovl::Result<RunSummary> SummaryFromJson(const nlohmann::json& j);
// One <testsuite> per server, one <testcase> per case; failures carry the explanation and the
// log tail in system-out.
std::string JunitXml(const RunSummary& run);
// Scenarios x servers, each cell the verdicts of the scenario's fault expansions.
void PrintVerdictTable(const RunSummary& run, std::ostream& out);

}  // namespace ovl::runner
