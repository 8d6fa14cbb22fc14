#include "report/run_data.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>

namespace ovl::report {
namespace {

Result<nlohmann::json> ReadJson(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::Error(ENOENT, path + ": cannot be read");
  auto j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded()) return Status::Error(EINVAL, path + ": not JSON");
  return j;
}

// The variant of each server, from the cases (phases name only the server).
std::map<std::string, std::string> ServerVariants(const nlohmann::json& results) {
  std::map<std::string, std::string> out;
  auto cases = results.find("cases");
  if (cases == results.end() || !cases->is_array()) return out;
  for (const auto& c : *cases) {
    if (c.is_object()) out.emplace(FieldText(c, "server"), FieldText(c, "variant"));
  }
  return out;
}

// With `--repeat`, a server's "scenarios:<server>" phase is one sum over every round. Its cases
// (ids ending in "#<round>") carry ops and seconds, the same sums per round: the ops/s of each
// round, whose spread is the noise `harness diff` judges against. Servers with one round: none.
std::map<std::string, std::vector<double>> ScenarioOpsPerRound(const nlohmann::json& results) {
  std::map<std::string, std::map<std::string, std::pair<double, double>>> rounds;
  for (const auto& c : results.value("cases", nlohmann::json::array())) {
    if (!c.is_object()) continue;
    const std::string id = FieldText(c, "id"), base = BaseCaseId(id);
    const double ops = FieldNumber(c, "ops"), seconds = FieldNumber(c, "seconds");
    if (base == id || std::isnan(ops) || std::isnan(seconds)) continue;
    auto& r = rounds[FieldText(c, "server")][id.substr(base.size() + 1)];
    r.first += ops;
    r.second += seconds;
  }
  std::map<std::string, std::vector<double>> out;
  for (const auto& [server, per_round] : rounds) {
    if (per_round.size() < 2) continue;
    for (const auto& [round, sums] : per_round) {
      if (sums.second > 0) out[server].push_back(sums.first / sums.second);
    }
  }
  return out;
}

Measurement& Slot(std::vector<Measurement>& all, const std::string& key) {
  for (auto& m : all) {
    if (m.key == key) return m;
  }
  all.push_back({});
  all.back().key = key;
  return all.back();
}

void Add(Measurement& m, const char* metric, double v) {
  if (!std::isnan(v)) m.samples[metric].push_back(v);
}

}  // namespace

Result<RunFiles> LoadRunFiles(const std::string& dir) {
  RunFiles run;
  run.dir = dir;
  OVL_ASSIGN_OR_RETURN(run.results, ReadJson(dir + "/results.json"));
  if (!run.results.is_object() || run.results.value("schema_version", 0) != 1) {
    return Status::Error(EINVAL, dir + "/results.json: not schema_version 1");
  }
  const std::string where = dir + "/results.json: ";
  if (!run.results.contains("run_id") || !run.results["run_id"].is_string()) {
    return Status::Error(EINVAL, where + "no \"run_id\" string");
  }
  if (!run.results.contains("cases") || !run.results["cases"].is_array()) {
    return Status::Error(EINVAL, where + "no \"cases\" array");
  }
  // Reporters index cases by id and verdict; a case without them is a broken file.
  for (const auto& c : run.results["cases"]) {
    if (!c.is_object() || !c.contains("id") || !c["id"].is_string() || !c.contains("verdict") ||
        !c["verdict"].is_string()) {
      return Status::Error(EINVAL, where + "a case without \"id\" and \"verdict\" strings");
    }
  }
  auto manifest = ReadJson(dir + "/manifest.json");
  run.manifest = manifest.ok() && manifest->is_object() ? *manifest : nlohmann::json::object();
  return run;
}

std::string BaseCaseId(const std::string& id) {
  const size_t hash = id.rfind('#');
  if (hash == std::string::npos || hash + 1 == id.size()) return id;
  for (size_t i = hash + 1; i < id.size(); ++i) {
    if (id[i] < '0' || id[i] > '9') return id;
  }
  return id.substr(0, hash);
}

int Severity(const std::string& verdict) {
  const std::optional<model::Verdict> v = model::VerdictFromName(verdict);
  return v ? model::VerdictSeverity(*v) : kUnknownSeverity;
}

std::string SeverityName(int severity) {
  return severity >= 0 && severity < kUnknownSeverity
             ? model::VerdictName(model::kVerdictsBySeverity[severity])
             : "";
}

std::string FieldText(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

double FieldNumber(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : NAN;
}

bool LowerIsBetter(const std::string& metric) {
  return metric == kP50Ms || metric == kP99Ms;
}

std::vector<Measurement> Measurements(const nlohmann::json& results) {
  std::vector<Measurement> all;
  const auto variants = ServerVariants(results);
  const nlohmann::json throughput = results.value("throughput", nlohmann::json::object());
  if (!throughput.is_object()) return all;
  for (const auto& p : throughput.value("phases", nlohmann::json::array())) {
    if (!p.is_object()) continue;
    const std::string name = BaseCaseId(FieldText(p, "name"));
    Measurement& m = Slot(all, name);
    const size_t colon = name.find(':');
    m.group = name.substr(0, colon);
    m.server = colon == std::string::npos ? "" : name.substr(colon + 1);
    auto v = variants.find(m.server);
    m.variant = v == variants.end() ? "" : v->second;
    Add(m, kOpsPerS, FieldNumber(p, "ops_per_s"));
    Add(m, kMBPerS, FieldNumber(p, "mb_per_s"));
  }
  for (auto& [server, per_round] : ScenarioOpsPerRound(results)) {
    auto m = std::find_if(all.begin(), all.end(),
                          [&](const Measurement& x) { return x.key == "scenarios:" + server; });
    // Only where the phase itself was written once (the rounds' sum), never over real repeats.
    if (m != all.end() && m->samples[kOpsPerS].size() == 1) m->samples[kOpsPerS] = per_round;
  }
  for (const auto& job : throughput.value("jobs", nlohmann::json::array())) {
    if (!job.is_object()) continue;
    // fio's figures are another measurement than the agent's: a group of their own.
    std::string name = FieldText(job, "job");
    const std::string server = FieldText(job, "server");
    if (FieldText(job, "engine") == "fio") name += " (fio)";
    Measurement& m = Slot(all, name + " on " + server);
    m.job = true;
    m.group = name;
    m.server = server;
    m.variant = FieldText(job, "variant");
    if (m.variant.empty()) {
      auto v = variants.find(server);
      if (v != variants.end()) m.variant = v->second;
    }
    m.error = FieldText(job, "error");
    if (!m.error.empty()) continue;
    // A job is judged by its unit (MB/s for streaming, ops/s otherwise); the other figure is a
    // by-product (the MB/s of a metadata mix) that would only add noise to charts and diffs.
    const std::string unit = FieldText(job, "unit");
    if (unit != kMBPerS) Add(m, kOpsPerS, FieldNumber(job, "ops_per_s"));
    if (unit != kOpsPerS) Add(m, kMBPerS, FieldNumber(job, "mb_per_s"));
    Add(m, kP50Ms, FieldNumber(job, "p50_us") / 1000);
    Add(m, kP99Ms, FieldNumber(job, "p99_us") / 1000);
  }
  return all;
}

Stats StatsOf(const std::vector<double>& values) {
  Stats s;
  s.n = values.size();
  if (values.empty()) return s;
  s.min = s.max = values[0];
  double sum = 0;
  for (double v : values) {
    sum += v;
    s.min = std::min(s.min, v);
    s.max = std::max(s.max, v);
  }
  s.mean = sum / s.n;
  if (s.n > 1) {
    double sq = 0;
    for (double v : values) sq += (v - s.mean) * (v - s.mean);
    s.sd = std::sqrt(sq / (s.n - 1));
  }
  return s;
}

std::string FormatNumber(double v) {
  char buf[64];
  const double a = std::fabs(v);
  if (a >= 1000) {
    snprintf(buf, sizeof buf, "%.0f", v);
  } else if (a >= 100) {
    snprintf(buf, sizeof buf, "%.1f", v);
  } else if (a >= 1) {
    snprintf(buf, sizeof buf, "%.2f", v);
  } else {
    snprintf(buf, sizeof buf, "%.3g", v);
  }
  return buf;
}

}  // namespace ovl::report
