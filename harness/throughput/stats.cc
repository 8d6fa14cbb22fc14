#include "throughput/stats.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <exception>
#include <limits>

namespace ovl::throughput {
namespace {

using nlohmann::json;

constexpr uint64_t kSub = 32;  // buckets per power of two
constexpr int kSubBits = 5;
// Values below kSub have a bucket each; above, 32 per power of two up to 2^63.
constexpr size_t kBuckets = kSub + (64 - kSubBits) * kSub;

size_t BucketOf(uint64_t v) {
  if (v < kSub) return v;
  const int e = std::bit_width(v) - 1;            // >= kSubBits
  const uint64_t mantissa = v >> (e - kSubBits);  // in [kSub, 2 kSub)
  return kSub + static_cast<size_t>(e - kSubBits) * kSub + (mantissa - kSub);
}

// The middle of bucket `b`, in nanoseconds.
double MiddleOf(size_t b) {
  if (b < kSub) return static_cast<double>(b);
  const int e = static_cast<int>((b - kSub) / kSub) + kSubBits;
  const uint64_t mantissa = (b - kSub) % kSub + kSub;
  const double width = std::ldexp(1.0, e - kSubBits);
  return static_cast<double>(mantissa) * width + width / 2;
}

Status Invalid(const std::string& what) {
  return Status::Error(EINVAL, "load report: " + what);
}

}  // namespace

LatencyHistogram::LatencyHistogram() : buckets_(kBuckets, 0) {}

void LatencyHistogram::Record(uint64_t ns, uint64_t count) {
  buckets_[BucketOf(ns)] += count;
  count_ += count;
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (size_t i = 0; i < kBuckets; ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
}

double LatencyHistogram::PercentileUs(double q) const {
  if (count_ == 0) return 0;
  const uint64_t rank =
      std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_))));
  uint64_t seen = 0;
  for (size_t i = 0; i < kBuckets; ++i) {
    seen += buckets_[i];
    if (seen >= rank) return MiddleOf(i) / 1000.0;
  }
  return MiddleOf(kBuckets - 1) / 1000.0;
}

json LatencyHistogram::ToJson() const {
  json out = json::array();
  for (size_t i = 0; i < kBuckets; ++i) {
    if (buckets_[i] != 0) out.push_back({i, buckets_[i]});
  }
  return out;
}

Result<LatencyHistogram> LatencyHistogram::FromJson(const json& j) {
  if (!j.is_array()) return Invalid("latency must be a list");
  LatencyHistogram h;
  for (const json& e : j) {
    if (!e.is_array() || e.size() != 2 || !e[0].is_number_unsigned() ||
        !e[1].is_number_unsigned() || e[0].get<uint64_t>() >= kBuckets) {
      return Invalid("latency entries are [bucket, count]");
    }
    h.buckets_[e[0].get<size_t>()] += e[1].get<uint64_t>();
    h.count_ += e[1].get<uint64_t>();
  }
  return h;
}

json ToJson(const LoadReport& r) {
  json by_op = json::object();
  for (const auto& [name, c] : r.by_op) {
    by_op[name] = {{"ok", c.ok}, {"errors", c.errors}, {"latency", c.latency.ToJson()}};
  }
  json runs = json::array();
  for (const OkRun& run : r.ok_runs) runs.push_back({run.first_ms, run.length, run.done_ms});
  json fails = json::array();
  for (const auto& [first, length] : r.fail_runs) fails.push_back({first, length});
  return {{"ops", r.ops},
          {"errors", r.errors},
          {"bytes", r.bytes},
          {"seconds", r.seconds},
          {"request_seconds", r.request_seconds},
          {"start_ns", r.start_ns},
          {"reconnects", r.reconnects},
          {"first_error", r.first_error},
          {"latency", r.latency.ToJson()},
          {"p50_us", r.latency.PercentileUs(0.5)},
          {"p99_us", r.latency.PercentileUs(0.99)},
          {"by_op", by_op},
          {"timeline_ms", static_cast<uint64_t>(r.timeline_bucket.count())},
          {"timeline", r.timeline},
          {"ok_runs", runs},
          {"fail_runs", fails}};
}

Status CheckClientClock(double client_seconds, double runner_seconds) {
  const double slack = 0.02 * runner_seconds + 0.25;
  if (client_seconds <= runner_seconds + slack && client_seconds >= runner_seconds - slack) {
    return Status::Ok();
  }
  char buf[200];
  std::snprintf(buf, sizeof buf,
                "the client's clock ran %s: it took %.3f s for a request the harness timed at "
                "%.3f s, so its rates are not used",
                client_seconds > runner_seconds ? "fast" : "slow", client_seconds, runner_seconds);
  return Status::Error(ERANGE, buf);
}

Result<LoadReport> LoadReportFromJson(const json& j) {
  if (!j.is_object()) return Invalid("not an object");
  LoadReport r;
  try {
    r.ops = j.at("ops").get<uint64_t>();
    r.errors = j.at("errors").get<uint64_t>();
    r.bytes = j.at("bytes").get<uint64_t>();
    r.seconds = j.at("seconds").get<double>();
    r.request_seconds = j.at("request_seconds").get<double>();
    r.start_ns = j.at("start_ns").get<int64_t>();
    r.reconnects = j.at("reconnects").get<uint64_t>();
    r.first_error = j.at("first_error").get<std::string>();
    for (const auto& [name, c] : j.at("by_op").items()) {
      OpCount& op = r.by_op[name];
      op.ok = c.at("ok").get<uint64_t>();
      op.errors = c.at("errors").get<uint64_t>();
      if (c.contains("latency")) {
        Result<LatencyHistogram> latency = LatencyHistogram::FromJson(c["latency"]);
        if (!latency.ok()) return latency.status();
        op.latency = std::move(latency).value();
      }
    }
    const uint64_t bucket = j.at("timeline_ms").get<uint64_t>();
    if (bucket == 0) return Invalid("timeline_ms must be positive");
    r.timeline_bucket = milliseconds(bucket);
    r.timeline = j.at("timeline").get<std::vector<uint64_t>>();
    for (const json& run : j.at("ok_runs")) {
      if (!run.is_array() || run.size() != 3) return Invalid("ok_runs are [first, length, done]");
      r.ok_runs.push_back({run[0].get<uint64_t>(), run[1].get<uint64_t>(), run[2].get<uint64_t>()});
    }
    r.fail_runs = j.at("fail_runs").get<std::vector<std::pair<uint64_t, uint64_t>>>();
  } catch (const std::exception& e) {
    return Invalid(e.what());
  }
  OVL_ASSIGN_OR_RETURN(r.latency, LatencyHistogram::FromJson(j.at("latency")));
  return r;
}

LoadRecorder::LoadRecorder(milliseconds bucket, bool ok_runs, int64_t start_ns)
    : ok_runs_(ok_runs) {
  report_.timeline_bucket = bucket;
  report_.start_ns = start_ns;
}

void LoadRecorder::Record(LoadOp op, uint64_t begin_ns, uint64_t end_ns, Ending ending,
                          uint64_t bytes, const std::string& error) {
  OpCount& c = report_.by_op[LoadOpName(op)];
  if (ending != Ending::kOk) {
    ++c.errors;
    ++report_.errors;
    if (report_.first_error.empty()) report_.first_error = LoadOpName(op) + ": " + error;
    if (ok_runs_ && ending == Ending::kCutOff) Mark(&report_.fail_runs, end_ns / 1'000'000);
    return;
  }
  ++c.ok;
  ++report_.ops;
  report_.bytes += bytes;
  report_.latency.Record(end_ns - begin_ns);
  c.latency.Record(end_ns - begin_ns);
  const uint64_t bucket_ns = static_cast<uint64_t>(report_.timeline_bucket.count()) * 1'000'000;
  const size_t b = end_ns / bucket_ns;
  if (report_.timeline.size() <= b) report_.timeline.resize(b + 1, 0);
  ++report_.timeline[b];
  if (!ok_runs_) return;
  const uint64_t ms = begin_ns / 1'000'000;
  auto& runs = report_.ok_runs;
  // Operations of one client begin in order, but a redial may come between two of them.
  if (!runs.empty() && ms < runs.back().first_ms + runs.back().length) return;  // marked
  if (!runs.empty() && ms == runs.back().first_ms + runs.back().length) {
    ++runs.back().length;
  } else {
    runs.push_back({ms, 1, end_ns / 1'000'000 + 1});
  }
}

void LoadRecorder::Mark(std::vector<std::pair<uint64_t, uint64_t>>* runs, uint64_t ms) {
  if (!runs->empty() && ms < runs->back().first + runs->back().second) return;  // marked
  if (!runs->empty() && ms == runs->back().first + runs->back().second) {
    ++runs->back().second;
  } else {
    runs->emplace_back(ms, 1);
  }
}

LoadReport LoadRecorder::Finish(uint64_t elapsed_ns) {
  report_.seconds = static_cast<double>(elapsed_ns) / 1e9;
  // Buckets up to the end, so that a client that stopped succeeding shows zeros.
  const uint64_t bucket_ns = static_cast<uint64_t>(report_.timeline_bucket.count()) * 1'000'000;
  const size_t buckets = (elapsed_ns + bucket_ns - 1) / bucket_ns;
  if (report_.timeline.size() < buckets) report_.timeline.resize(buckets, 0);
  return report_;
}

JobSummary Summarize(const std::vector<LoadReport>& clients) {
  JobSummary s;
  LatencyHistogram all;
  std::map<std::string, LatencyHistogram> by_op;
  for (const LoadReport& r : clients) {
    for (const auto& [name, c] : r.by_op) {
      s.by_op[name].ok += c.ok;
      s.by_op[name].errors += c.errors;
      by_op[name].Merge(c.latency);
    }
    s.ops += r.ops;
    s.errors += r.errors;
    s.bytes += r.bytes;
    s.seconds = std::max(s.seconds, r.seconds);
    all.Merge(r.latency);
  }
  if (s.seconds > 0) {
    s.ops_per_s = static_cast<double>(s.ops) / s.seconds;
    s.mb_per_s = static_cast<double>(s.bytes) / s.seconds / 1e6;
  }
  s.p50_us = all.PercentileUs(0.5);
  s.p99_us = all.PercentileUs(0.99);
  for (auto& [name, op] : s.by_op) {
    op.p50_us = by_op[name].PercentileUs(0.5);
    op.p99_us = by_op[name].PercentileUs(0.99);
  }
  return s;
}

std::vector<std::pair<double, double>> MergedTimeline(const std::vector<LoadReport>& clients) {
  if (clients.empty()) return {};
  int64_t first = std::numeric_limits<int64_t>::max();
  for (const LoadReport& r : clients) first = std::min(first, r.start_ns);
  const int64_t bucket_ns = clients.front().timeline_bucket.count() * 1'000'000;
  std::vector<uint64_t> sum;
  for (const LoadReport& r : clients) {
    // Clients start within moments of each other: shift each to the nearest bucket.
    const size_t shift = static_cast<size_t>((r.start_ns - first + bucket_ns / 2) / bucket_ns);
    if (sum.size() < shift + r.timeline.size()) sum.resize(shift + r.timeline.size(), 0);
    for (size_t i = 0; i < r.timeline.size(); ++i) sum[shift + i] += r.timeline[i];
  }
  const double width = static_cast<double>(bucket_ns) / 1e9;
  std::vector<std::pair<double, double>> out;
  for (size_t i = 0; i < sum.size(); ++i) {
    out.emplace_back(static_cast<double>(i) * width, static_cast<double>(sum[i]) / width);
  }
  return out;
}

std::optional<double> SecondsToFirstOk(const std::vector<LoadReport>& clients, int64_t fault_ns,
                                       int64_t until_ns, int64_t over_ns) {
  constexpr int64_t kMs = 1'000'000;
  // The end of the fault, or of the last millisecond with a failure in [fault, until).
  int64_t quiet_ns = std::max(fault_ns, over_ns);
  for (const LoadReport& r : clients) {
    for (const auto& [first, length] : r.fail_runs) {
      // The milliseconds of this run that end by `until_ns`: one holding the next fault's start
      // is that fault's.
      const int64_t last_ms =
          std::min(static_cast<int64_t>(first + length), (until_ns - r.start_ns) / kMs);
      if (last_ms <= static_cast<int64_t>(first)) continue;
      const int64_t end = r.start_ns + last_ms * kMs;
      if (end > fault_ns) quiet_ns = std::max(quiet_ns, end);
    }
  }
  std::optional<int64_t> first_ok_end_ns;
  for (const LoadReport& r : clients) {
    // The first whole millisecond of this client after the fault and its failures.
    const int64_t after = quiet_ns - r.start_ns;
    const int64_t from_ms = after < 0 ? 0 : after / kMs + 1;
    for (const OkRun& run : r.ok_runs) {
      const auto first = static_cast<int64_t>(run.first_ms);
      if (first + static_cast<int64_t>(run.length) <= from_ms) continue;
      const int64_t begin_ms = std::max(first, from_ms);
      if (r.start_ns + begin_ms * kMs >= until_ns) break;
      // Inside a run, the op begun in a millisecond completed before the next one began, in
      // the following millisecond at the latest.
      const int64_t done_ms = first >= from_ms ? static_cast<int64_t>(run.done_ms) : from_ms + 1;
      const int64_t end_ns = r.start_ns + done_ms * kMs;
      if (!first_ok_end_ns || end_ns < *first_ok_end_ns) first_ok_end_ns = end_ns;
      break;
    }
  }
  if (!first_ok_end_ns) return std::nullopt;
  return static_cast<double>(*first_ok_end_ns - fault_ns) / 1e9;
}

}  // namespace ovl::throughput
