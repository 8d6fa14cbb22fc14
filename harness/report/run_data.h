// A finished run directory as the report and `harness diff` read it: results.json (schema 1) and
// manifest.json, plus the throughput measurements flattened out of results.json. Works on the
// JSON itself, not on runner::RunSummary, and tolerates missing throughput keys, so results
// written before throughput jobs existed still render and compare.
//
// Throughput keys read (runner/results.h writes them; all but "phases" may be absent):
//   phases[]:   {name: "<kind>:<server>[#N]", ops_per_s, mb_per_s}
//   jobs[]:     {job, server, variant, unit: "ops/s"|"MB/s", ops_per_s, mb_per_s, p50_us,
//                p99_us, error?}   a job with an error could not run: its zeros are not measured
//   timeline[]: {server, job, t, ops_per_s}   one point per interval of a job's run
//   recovery[]: {server, variant, job, fault, t, fault_seconds, seconds_to_first_ok|null, error?}
// Entries sharing a name (phases, after dropping a "#N" repeat suffix) or a job and server
// (jobs) are repeated measurements of one thing.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/status.h"
#include "model/verdict.h"

namespace ovl::report {

struct RunFiles {
  std::string dir;
  nlohmann::json results;   // results.json, schema_version 1
  nlohmann::json manifest;  // manifest.json; an empty object when the run has none
};

// Reads `dir`/results.json (required, schema_version 1) and `dir`/manifest.json (optional).
// EINVAL/ENOENT naming the file and what is wrong.
Result<RunFiles> LoadRunFiles(const std::string& dir);

// A case id without the "#N" suffix `harness run --repeat` adds.
std::string BaseCaseId(const std::string& id);

// The severity of the verdict named `verdict`: its position in model::kVerdictsBySeverity (lower
// is worse); kUnknownSeverity for any other string.
inline constexpr int kUnknownSeverity = model::kVerdictCount;
int Severity(const std::string& verdict);
// The name of the verdict of `severity`; "" for kUnknownSeverity.
std::string SeverityName(int severity);

// j[key] as text: a string as it is, any other value as JSON, "" when missing or null. Reporters
// show whatever a field holds rather than failing on a type another module chose.
std::string FieldText(const nlohmann::json& j, const char* key);
// j[key] when it is a number, NaN otherwise.
double FieldNumber(const nlohmann::json& j, const char* key);

// Metric names, as shown in tables and charts.
inline constexpr const char* kOpsPerS = "ops/s";
inline constexpr const char* kMBPerS = "MB/s";
inline constexpr const char* kP50Ms = "p50 ms";
inline constexpr const char* kP99Ms = "p99 ms";
// Every metric, in the order reports list them.
inline constexpr const char* kMetrics[] = {kOpsPerS, kMBPerS, kP50Ms, kP99Ms};
// Latencies get worse as they grow; throughputs as they shrink.
bool LowerIsBetter(const std::string& metric);

// One measured thing (a phase or a job on a server) over every repeat in a run.
struct Measurement {
  std::string key;    // phase name or "<job> on <server>", without a repeat suffix
  std::string group;  // the chart category: phase kind ("scenarios", "mixed") or job name
  std::string server;
  std::string variant;  // "" when unknown
  bool job = false;     // from throughput.jobs (else a phase)
  std::string error;    // a job that could not run here, and why (it then has no samples)
  // metric -> one value per repeat, in results.json order.
  std::map<std::string, std::vector<double>> samples;
};

// Every phase and job of `results`, in first-seen order. Variants of phases come from the cases
// of the same server. With `--repeat`, the ops/s of a "scenarios:<server>" phase are per round,
// from the cases' ops and seconds (the phase itself sums every round).
std::vector<Measurement> Measurements(const nlohmann::json& results);

struct Stats {
  size_t n = 0;
  double mean = 0;
  double sd = 0;  // sample standard deviation; 0 when n < 2
  double min = 0;
  double max = 0;
};
Stats StatsOf(const std::vector<double>& values);

// A readable number for tables: 12345.6 -> "12346", 213.18 -> "213.2", 1.2868 -> "1.29",
// 0.028175 -> "0.0282".
std::string FormatNumber(double v);

}  // namespace ovl::report
