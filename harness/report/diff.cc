#include "report/diff.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace ovl::report {
namespace {

using nlohmann::json;

// A throughput change beyond this many standard deviations of the repeats is significant.
constexpr double kNoiseSigmas = 3;

struct CaseVerdicts {
  std::vector<std::string> verdicts;  // one per repeat
  std::string worst_explanation;
  int worst = kUnknownSeverity + 1;
};

// Base case id -> its repeats' verdicts, in first-seen order of the ids.
std::vector<std::pair<std::string, CaseVerdicts>> ByCase(const json& results) {
  std::vector<std::pair<std::string, CaseVerdicts>> out;
  std::map<std::string, size_t> index;
  for (const auto& c : results.value("cases", json::array())) {
    if (!c.is_object()) continue;
    const std::string id = BaseCaseId(c.value("id", ""));
    auto [it, fresh] = index.emplace(id, out.size());
    if (fresh) out.push_back({id, {}});
    CaseVerdicts& cv = out[it->second].second;
    const std::string verdict = c.value("verdict", "");
    cv.verdicts.push_back(verdict);
    if (Severity(verdict) < cv.worst) {
      cv.worst = Severity(verdict);
      cv.worst_explanation = c.value("explanation", "");
    }
  }
  return out;
}

bool Mixed(const std::vector<std::string>& v) {
  return std::any_of(v.begin(), v.end(), [&](const std::string& x) { return x != v.front(); });
}

std::set<std::string> Strings(const json& results, const char* key) {
  std::set<std::string> out;
  for (const auto& s : results.value(key, json::array())) {
    if (s.is_string()) out.insert(s.get<std::string>());
  }
  return out;
}

// "PASS", "PASS x2 FAIL": the verdicts of a case's repeats with their counts, worst last.
std::string Verdicts(const std::vector<std::string>& v) {
  if (v.empty()) return "-";
  std::map<int, std::pair<std::string, int>> counts;
  for (const auto& x : v) {
    auto& slot = counts[-Severity(x)];
    slot.first = x;
    slot.second++;
  }
  std::string out;
  for (const auto& [severity, vc] : counts) {
    if (!out.empty()) out += " ";
    out += vc.first + (vc.second > 1 ? " x" + std::to_string(vc.second) : "");
  }
  return out;
}

std::string Shorten(const std::string& s, size_t max) {
  std::string line = s.substr(0, s.find('\n'));
  return line.size() > max ? line.substr(0, max - 3) + "..." : line;
}

// Prints rows as left-aligned columns, two spaces apart, the first row a header.
void PrintTable(const std::vector<std::vector<std::string>>& rows, std::ostream& out) {
  std::vector<size_t> w;
  for (const auto& r : rows) {
    w.resize(std::max(w.size(), r.size()));
    for (size_t i = 0; i < r.size(); ++i) w[i] = std::max(w[i], r[i].size());
  }
  for (const auto& r : rows) {
    std::string line = "  ";
    for (size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size()) line += std::string(w[i] - r[i].size() + 2, ' ');
    }
    out << line << "\n";
  }
}

void PrintChanges(const char* title, const char* column, const std::vector<VerdictChange>& list,
                  std::ostream& out) {
  out << "\n" << title << " (" << list.size() << ")" << (list.empty() ? ": none\n" : ":\n");
  if (list.empty()) return;
  std::vector<std::vector<std::string>> rows = {{"case", "A", "B", column}};
  for (const auto& c : list) {
    rows.push_back({c.id, Verdicts(c.a), Verdicts(c.b), Shorten(c.explanation, 110)});
  }
  PrintTable(rows, out);
}

std::string Value(const Stats& s) {
  std::string out = FormatNumber(s.mean);
  if (s.n > 1) out += " +- " + FormatNumber(s.sd);
  return out + " (n=" + std::to_string(s.n) + ")";
}

std::string JudgementText(const ThroughputChange& c) {
  switch (c.judgement) {
    case Judgement::kNotEnoughRepeats:
      return "not enough repeats to judge";
    case Judgement::kWithinNoise:
      return "within noise (3 sd = " + FormatNumber(c.threshold) + ")";
    case Judgement::kRegression:
      return "REGRESSION (3 sd = " + FormatNumber(c.threshold) + ")";
    case Judgement::kImprovement:
      return "improvement (3 sd = " + FormatNumber(c.threshold) + ")";
  }
  return "";
}

std::string Header(const RunFiles& r) {
  const json& j = r.results;
  return r.dir + "\n     run " + FieldText(j, "run_id") + ", topology " + FieldText(j, "topology") +
         ", seed " + FieldText(j, "seed") + ", exit code " + FieldText(j, "exit_code") + ", " +
         std::to_string(j["cases"].size()) + " cases";
}

}  // namespace

bool RunDiff::Regressed() const {
  return !new_failures.empty() || !new_blind_controls.empty() ||
         std::any_of(throughput.begin(), throughput.end(), [](const ThroughputChange& c) {
           return c.judgement == Judgement::kRegression;
         });
}

RunDiff DiffRuns(const RunFiles& a, const RunFiles& b) {
  RunDiff d;
  const auto ca = ByCase(a.results), cb = ByCase(b.results);
  std::map<std::string, const CaseVerdicts*> in_a;
  for (const auto& [id, v] : ca) in_a[id] = &v;
  std::set<std::string> seen;
  for (const auto& [id, vb] : cb) {
    seen.insert(id);
    auto it = in_a.find(id);
    VerdictChange change{id, it == in_a.end() ? std::vector<std::string>{} : it->second->verdicts,
                         vb.verdicts, vb.worst_explanation};
    if (it == in_a.end()) {
      ++d.only_b;
      if (!Mixed(vb.verdicts) && vb.verdicts.front() == "FAIL") d.new_failures.push_back(change);
      continue;
    }
    ++d.in_both;
    const auto& va = it->second->verdicts;
    if (Mixed(va) || Mixed(vb.verdicts)) {
      d.flaky.push_back(change);
      continue;
    }
    const std::string& before = va.front();
    const std::string& after = vb.verdicts.front();
    if (before == after) continue;
    if (after == "FAIL") {
      d.new_failures.push_back(change);
    } else if ((before == "FAIL" && (after == "PASS" || after == "XPASS")) ||
               (before == "XFAIL" && after == "XPASS")) {
      d.fixes.push_back(change);
    } else {
      d.other_changes.push_back(change);
    }
  }
  for (const auto& [id, v] : ca) d.only_a += !seen.count(id);
  // Runs list cases in their shuffled plan order; sorted by id, related cases sit together.
  for (auto* list : {&d.new_failures, &d.fixes, &d.flaky, &d.other_changes}) {
    std::sort(list->begin(), list->end(),
              [](const VerdictChange& x, const VerdictChange& y) { return x.id < y.id; });
  }

  const auto blind_a = Strings(a.results, "blind_controls");
  const auto blind_b = Strings(b.results, "blind_controls");
  for (const auto& s : blind_b) {
    if (!blind_a.count(s)) d.new_blind_controls.push_back(s);
  }
  for (const auto& s : blind_a) {
    if (!blind_b.count(s)) d.no_longer_blind.push_back(s);
  }

  const auto ma = Measurements(a.results), mb = Measurements(b.results);
  for (const auto& m : mb) {
    auto it =
        std::find_if(ma.begin(), ma.end(), [&](const Measurement& x) { return x.key == m.key; });
    for (const char* metric : kMetrics) {
      if (!m.samples.count(metric)) continue;
      if (it == ma.end() || !it->samples.count(metric)) {
        d.measured_only_b.push_back(m.key + " " + metric);
        continue;
      }
      ThroughputChange c{m.key, metric, StatsOf(it->samples.at(metric)),
                         StatsOf(m.samples.at(metric))};
      if (c.a.n >= 2 || c.b.n >= 2) {
        c.threshold = kNoiseSigmas * std::max(c.a.sd, c.b.sd);
        const double delta = c.b.mean - c.a.mean;
        if (std::fabs(delta) <= c.threshold) {
          c.judgement = Judgement::kWithinNoise;
        } else {
          c.judgement = (delta < 0) != LowerIsBetter(metric) ? Judgement::kRegression
                                                             : Judgement::kImprovement;
        }
      }
      d.throughput.push_back(c);
    }
  }
  for (const auto& m : ma) {
    auto it =
        std::find_if(mb.begin(), mb.end(), [&](const Measurement& x) { return x.key == m.key; });
    for (const char* metric : kMetrics) {
      if (m.samples.count(metric) && (it == mb.end() || !it->samples.count(metric))) {
        d.measured_only_a.push_back(m.key + " " + metric);
      }
    }
  }
  return d;
}

void PrintDiff(const RunFiles& a, const RunFiles& b, const RunDiff& d, std::ostream& out) {
  out << "harness diff\n  A: " << Header(a) << "\n  B: " << Header(b)
      << "\n\nVerdicts: " << d.in_both << " cases in both runs, " << d.only_a << " only in A, "
      << d.only_b << " only in B.\n";
  PrintChanges("New failures", "explanation (B)", d.new_failures, out);
  PrintChanges("Fixes", "explanation (B)", d.fixes, out);
  PrintChanges("Flaky (verdicts differ between repeats)", "worst explanation (B)", d.flaky, out);
  PrintChanges("Other verdict changes", "explanation (B)", d.other_changes, out);
  for (const auto& s : d.new_blind_controls) {
    out << "\nNegative control " << s << " is BLIND in B: it passed every case\n";
  }
  for (const auto& s : d.no_longer_blind) {
    out << "\nNegative control " << s << " was blind in A and catches its weakness in B\n";
  }

  out << "\nThroughput (significant: beyond 3 standard deviations of the repeats of a run, the "
         "larger of A's and B's):\n";
  if (d.throughput.empty()) {
    out << "  no measurement in both runs\n";
  } else {
    std::vector<std::vector<std::string>> rows = {
        {"measurement", "metric", "A", "B", "change", "judgement"}};
    for (const auto& c : d.throughput) {
      std::string change = "-";
      if (c.a.mean != 0) {
        char buf[32];
        snprintf(buf, sizeof buf, "%+.1f%%", 100 * (c.b.mean - c.a.mean) / std::fabs(c.a.mean));
        change = buf;
      }
      rows.push_back({c.key, c.metric, Value(c.a), Value(c.b), change, JudgementText(c)});
    }
    PrintTable(rows, out);
  }
  for (const auto& m : d.measured_only_a) out << "  only in A: " << m << "\n";
  for (const auto& m : d.measured_only_b) out << "  only in B: " << m << "\n";

  const size_t slower = std::count_if(d.throughput.begin(), d.throughput.end(), [](const auto& c) {
    return c.judgement == Judgement::kRegression;
  });
  out << "\nResult: ";
  if (d.Regressed()) {
    out << "REGRESSION: " << d.new_failures.size() << " new failure(s), "
        << d.new_blind_controls.size() << " new blind control(s), " << slower
        << " throughput regression(s)\n";
  } else {
    out << "no regression (" << d.fixes.size() << " fix(es), " << d.flaky.size()
        << " flaky case(s))\n";
  }
}

int DiffMain(const std::string& run_a, const std::string& run_b, std::ostream& out,
             std::ostream& err) {
  auto a = LoadRunFiles(run_a);
  auto b = a.ok() ? LoadRunFiles(run_b) : Result<RunFiles>(a.status());
  if (!b.ok()) {
    err << "harness diff: " << b.status().message() << "\n";
    return kDiffBadInput;
  }
  const RunDiff d = DiffRuns(*a, *b);
  PrintDiff(*a, *b, d, out);
  return d.Regressed() ? kDiffRegressed : kDiffOk;
}

}  // namespace ovl::report
