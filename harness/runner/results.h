// Writers of a finished run's results: results.json (schema_version 1), junit.xml and the
// terminal's verdict table. They read the reports; they never run anything.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "base/status.h"
#include "runner/verdict.h"
#include "throughput/stats.h"

namespace ovl::runner {

// Throughput of one phase of the run (a server's scenario cases, the mixed workload...).
struct PhaseThroughput {
  std::string name;
  uint64_t ops = 0;
  uint64_t bytes = 0;  // data read + written
  double seconds = 0;
};

// One throughput job on one server (or on the physical reference), over all its clients.
struct JobThroughput {
  std::string job;      // "seq-read"
  std::string variant;  // the server's variant, or "physical"
  std::string server;   // the server's name, or "physical"
  std::string unit;     // the figure the job is judged by: "MB/s" or "ops/s"
  uint64_t clients = 0;
  uint64_t ops = 0;     // successful operations
  uint64_t errors = 0;  // failed or cut-off operations
  uint64_t bytes = 0;   // data read + written
  double seconds = 0;
  double ops_per_s = 0;
  double mb_per_s = 0;  // 10^6 bytes per second
  double p50_us = 0;
  double p99_us = 0;
  std::string error;             // non-empty: the job could not run here, and why
  std::string engine = "agent";  // what generated the load: "agent" or "fio"
  std::map<std::string, throughput::OpSummary> by_op;  // by procedure ("getattr", "read", ...)
};

// Successful operations per second of a job on a server, from the start of its clients.
struct TimelinePoint {
  std::string server;
  std::string job;  // "<job>@faults" for the run under faults
  double t = 0;     // seconds from the job's start
  double ops_per_s = 0;
};

// A fault struck during the run under faults, and how long until an operation succeeded again.
struct FaultRecovery {
  std::string server;
  std::string variant;
  std::string job;           // "<job>@faults", as in the timeline
  std::string fault;         // crash, reboot, evict
  double t = 0;              // seconds from the job's start, as in the timeline
  double fault_seconds = 0;  // how long injecting the fault took (a restart included)
  // From the fault's start to the first successful operation after it (any client); absent
  // when none succeeded before the job ended.
  std::optional<double> seconds_to_first_ok;
  std::string error;  // non-empty: the fault could not be injected
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
  std::vector<JobThroughput> jobs;
  std::vector<TimelinePoint> timeline;
  std::vector<FaultRecovery> recovery;
  // `harness explore`'s generated cases, shrunk failures and disagreements (runner/explore.h,
  // docs/explore.md); null for other runs.
  nlohmann::json explore;
};

nlohmann::json ResultsJson(const RunSummary& run);
// The inverse of ResultsJson (for `harness report`); EINVAL naming what is wrong.
ovl::Result<RunSummary> SummaryFromJson(const nlohmann::json& j);

// Reads and decodes <run_dir>/results.json (`harness report`, `harness analyze`).
ovl::Result<RunSummary> ReadResultsJson(const std::string& run_dir);
// One <testsuite> per server, one <testcase> per case; failures carry the explanation and the
// log tail in system-out.
std::string JunitXml(const RunSummary& run);
// Scenarios x servers, each cell the verdicts of the scenario's fault expansions.
void PrintVerdictTable(const RunSummary& run, std::ostream& out);

// The line of a case as it is decided: every case, or on a terminal (`tty`, where a progress
// line is rewritten in place) only FAIL and UNRESOLVED.
void PrintCaseLine(const CaseReport& r, bool tty, std::ostream& out);

// The table, the count of each verdict, the seed, time and exit code, and where the results are.
void PrintRunSummary(const RunSummary& run, const std::string& dir, std::ostream& out);

// Writes one output file of a run atomically; a failure is said on `err`, naming the file.
// Returns whether it was written.
[[nodiscard]] bool WriteOutput(const std::string& path, const std::string& text, std::ostream& err);

// Extra copies of the outputs (--json, --junit); empty paths are not written.
struct OutputCopies {
  std::string json;
  std::string junit;
};

// Writes results.json and junit.xml into `dir` (and their copies), then report.html rendered
// from the files just written, as `harness report` does later. Every file is tried; a page that
// cannot be rendered is said on `err` but is not a write failure. Returns whether all were
// written.
[[nodiscard]] bool WriteRunOutputs(const std::string& dir, const RunSummary& run,
                                   const OutputCopies& copies, std::ostream& err);

// Renders report.html from `dir`'s files and writes it there (see WriteRunOutputs).
[[nodiscard]] bool WriteReportHtml(const std::string& dir, std::ostream& err);

}  // namespace ovl::runner
