// What a load measures and how the runner combines the clients of a job: a latency histogram,
// a timeline of successful operations, the milliseconds in which some operation succeeded
// (recovery after a fault), and per-procedure counts. All times of different clients compare
// because they are read from one clock: CLOCK_MONOTONIC (std::chrono::steady_clock) of the host.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "throughput/load_spec.h"

namespace ovl::throughput {

// Latencies in nanoseconds, in log-linear buckets (32 per power of two: within 3%).
class LatencyHistogram {
 public:
  LatencyHistogram();

  // Counts `count` operations that took `ns` nanoseconds each.
  void Record(uint64_t ns, uint64_t count = 1);
  void Merge(const LatencyHistogram& other);
  uint64_t count() const { return count_; }
  // The q-quantile (0 < q <= 1) in microseconds, the middle of its bucket; 0 when empty.
  double PercentileUs(double q) const;

  // Sparse form: [[bucket, count], ...].
  nlohmann::json ToJson() const;
  static Result<LatencyHistogram> FromJson(const nlohmann::json& j);

 private:
  std::vector<uint64_t> buckets_;
  uint64_t count_ = 0;
};

struct OpCount {
  uint64_t ok = 0;
  uint64_t errors = 0;
  LatencyHistogram latency;  // of the successful ones
};

struct OkRun {
  uint64_t first_ms = 0;  // the first millisecond of the run
  uint64_t length = 0;    // milliseconds in the run
  uint64_t done_ms = 0;   // end of the millisecond in which the op begun in first_ms completed
  bool operator==(const OkRun&) const = default;
};

// One client's answer to a load request.
struct LoadReport {
  uint64_t ops = 0;     // completed successfully
  uint64_t errors = 0;  // answered with an error, or cut off by a fault
  uint64_t bytes = 0;   // data read and written by successful operations
  double seconds = 0;   // of the timed part
  // The client's clock from taking the request to answering it (set by the agent): the runner
  // holds it against its own timing of the request (CheckClientClock).
  double request_seconds = 0;
  int64_t start_ns = 0;  // steady clock at the start of the timed part
  uint64_t reconnects = 0;
  std::string first_error;
  LatencyHistogram latency;  // of the successful operations
  std::map<std::string, OpCount> by_op;
  milliseconds timeline_bucket{1000};
  std::vector<uint64_t> timeline;  // successful operations per bucket, from start_ns
  // Maximal runs of milliseconds (from start_ns) in each of which some operation began that
  // then succeeded, with when the first of them completed. Filled when the request asked for
  // ok_runs (SecondsToFirstOk).
  std::vector<OkRun> ok_runs;
  // [first ms, length]: maximal runs of milliseconds in which some operation was cut off (by
  // when that became known). Filled with ok_runs.
  std::vector<std::pair<uint64_t, uint64_t>> fail_runs;
};

nlohmann::json ToJson(const LoadReport& report);

// Rates divide by the client's seconds, and a client in a VM keeps its own clock. OK when the
// client's `client_seconds` for a request and the runner's `runner_seconds` for the same request
// agree within 2% + 250 ms (the channel's round trip); else an error saying the client's clock
// ran fast or slow, so that no rate is taken from it.
Status CheckClientClock(double client_seconds, double runner_seconds);
// EINVAL naming the field when `j` is not a report.
Result<LoadReport> LoadReportFromJson(const nlohmann::json& j);

// Fills a LoadReport as operations complete; times are nanoseconds since the start.
class LoadRecorder {
 public:
  LoadRecorder(milliseconds bucket, bool ok_runs, int64_t start_ns);

  // How an operation ended: it succeeded, the server answered with an error, or no answer
  // came (a fault cut it off).
  enum class Ending { kOk, kError, kCutOff };
  void Record(LoadOp op, uint64_t begin_ns, uint64_t end_ns, Ending ending, uint64_t bytes,
              const std::string& error);
  void CountReconnect() { ++report_.reconnects; }
  // The report, with `seconds` set to `elapsed_ns`.
  LoadReport Finish(uint64_t elapsed_ns);

 private:
  // Marks millisecond `ms` in `runs` (ms never decreases by more than the current run).
  static void Mark(std::vector<std::pair<uint64_t, uint64_t>>* runs, uint64_t ms);

  LoadReport report_;
  bool ok_runs_;
};

// A job over all its clients.
// One procedure's share of a job, over all clients.
struct OpSummary {
  uint64_t ok = 0;
  uint64_t errors = 0;
  double p50_us = 0;
  double p99_us = 0;
};

struct JobSummary {
  std::map<std::string, OpSummary> by_op;
  uint64_t ops = 0;
  uint64_t errors = 0;
  uint64_t bytes = 0;
  double seconds = 0;  // the longest client's
  double ops_per_s = 0;
  double mb_per_s = 0;  // 10^6 bytes per second
  double p50_us = 0;
  double p99_us = 0;
};
JobSummary Summarize(const std::vector<LoadReport>& clients);

// The clients' timelines added up, bucket by bucket from the earliest start, as (seconds from
// that start, successful operations per second). Clients must share one bucket width.
std::vector<std::pair<double, double>> MergedTimeline(const std::vector<LoadReport>& clients);

// How long the clients took to recover from a fault that began at `fault_ns` (steady clock):
// seconds until the first operation (on any client) that began after the fault and after the
// last operation it cut off, and succeeded (errors the server answered with are no outage).
// Cut-offs count from the fault until `until_ns` (the next fault, or the end); so does the
// search for that operation. To the millisecond: operations begun in the millisecond the fault
// or the last cut-off fell in do not count. nullopt when none succeeded in time. Needs ok_runs
// and fail_runs. With `over_ns` (when the fault's action returned: a VM destroyed and booted
// again) the operation must also begin after it: one that slipped in before a VM actually went
// down is no recovery, and a hard-mounted client's operations block rather than fail.
std::optional<double> SecondsToFirstOk(const std::vector<LoadReport>& clients, int64_t fault_ns,
                                       int64_t until_ns, int64_t over_ns = 0);

}  // namespace ovl::throughput
