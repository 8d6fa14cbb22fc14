#include "runner/results.h"

#include <algorithm>
#include <fstream>
#include <iomanip>
#include <map>
#include <set>
#include <sstream>

#include "base/markup.h"
#include "model/verdict.h"
#include "report/html_report.h"
#include "runner/run_dir.h"

namespace ovl::runner {
namespace {

// Short cell text: "PASS", "PASS 3", "FAIL 1/3", "XFAIL 2/3", "UNSUP".
std::string Cell(const std::vector<const CaseReport*>& cases) {
  std::map<Verdict, int> n;
  for (const auto* c : cases) n[c->verdict]++;
  const int total = static_cast<int>(cases.size());
  // The kinds worse than PASS, worst first (model/verdict.h).
  for (Verdict worst : model::kVerdictsBySeverity) {
    if (worst == Verdict::kPass) break;
    if (n[worst])
      return VerdictName(worst) + " " + std::to_string(n[worst]) + "/" + std::to_string(total);
  }
  if (n[Verdict::kPass]) {
    return total == 1 ? "PASS"
                      : "PASS " + std::to_string(n[Verdict::kPass]) + "/" + std::to_string(total);
  }
  return "UNSUP";
}

nlohmann::json ThroughputJobsJson(const std::vector<JobThroughput>& jobs) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : jobs) {
    nlohmann::json e = {{"job", r.job},           {"variant", r.variant},
                        {"server", r.server},     {"unit", r.unit},
                        {"clients", r.clients},   {"ops", r.ops},
                        {"errors", r.errors},     {"bytes", r.bytes},
                        {"seconds", r.seconds},   {"ops_per_s", r.ops_per_s},
                        {"mb_per_s", r.mb_per_s}, {"p50_us", r.p50_us},
                        {"p99_us", r.p99_us},     {"engine", r.engine}};
    if (!r.error.empty()) e["error"] = r.error;
    for (const auto& [name, op] : r.by_op) {
      e["by_op"][name] = {
          {"ops", op.ok}, {"errors", op.errors}, {"p50_us", op.p50_us}, {"p99_us", op.p99_us}};
    }
    out.push_back(std::move(e));
  }
  return out;
}

nlohmann::json TimelineJson(const std::vector<TimelinePoint>& timeline) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& p : timeline) {
    out.push_back({{"server", p.server}, {"job", p.job}, {"t", p.t}, {"ops_per_s", p.ops_per_s}});
  }
  return out;
}

nlohmann::json RecoveryJson(const std::vector<FaultRecovery>& recovery) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : recovery) {
    nlohmann::json e = {{"server", r.server},
                        {"variant", r.variant},
                        {"job", r.job},
                        {"fault", r.fault},
                        {"t", r.t},
                        {"fault_seconds", r.fault_seconds},
                        {"seconds_to_first_ok", nullptr}};
    if (r.seconds_to_first_ok) e["seconds_to_first_ok"] = *r.seconds_to_first_ok;
    if (!r.error.empty()) e["error"] = r.error;
    out.push_back(std::move(e));
  }
  return out;
}

// The throughput jobs, timeline and recovery of `t` ("throughput"); results written before
// they existed have none of these keys.
void ThroughputFromJson(const nlohmann::json& t, RunSummary* run) {
  for (const auto& e : t.value("jobs", nlohmann::json::array())) {
    JobThroughput r;
    r.job = e.at("job");
    r.variant = e.at("variant");
    r.server = e.at("server");
    r.unit = e.at("unit");
    r.engine = e.value("engine", "agent");  // runs from before fio
    const nlohmann::json by_op = e.value("by_op", nlohmann::json::object());
    for (const auto& [name, op] : by_op.items()) {
      r.by_op[name] = {op.at("ops"), op.at("errors"), op.at("p50_us"), op.at("p99_us")};
    }
    r.clients = e.at("clients");
    r.ops = e.at("ops");
    r.errors = e.at("errors");
    r.bytes = e.at("bytes");
    r.seconds = e.at("seconds");
    r.ops_per_s = e.at("ops_per_s");
    r.mb_per_s = e.at("mb_per_s");
    r.p50_us = e.at("p50_us");
    r.p99_us = e.at("p99_us");
    r.error = e.value("error", "");
    run->jobs.push_back(std::move(r));
  }
  for (const auto& e : t.value("timeline", nlohmann::json::array())) {
    run->timeline.push_back({e.at("server"), e.at("job"), e.at("t"), e.at("ops_per_s")});
  }
  for (const auto& e : t.value("recovery", nlohmann::json::array())) {
    FaultRecovery r;
    r.server = e.at("server");
    r.variant = e.at("variant");
    r.job = e.at("job");
    r.fault = e.at("fault");
    r.t = e.at("t");
    r.fault_seconds = e.at("fault_seconds");
    if (!e.at("seconds_to_first_ok").is_null()) r.seconds_to_first_ok = e.at("seconds_to_first_ok");
    r.error = e.value("error", "");
    run->recovery.push_back(std::move(r));
  }
}

}  // namespace

nlohmann::json ResultsJson(const RunSummary& run) {
  nlohmann::json j;
  j["schema_version"] = 1;
  j["run_id"] = run.run_id;
  j["topology"] = run.topology;
  j["seed"] = run.seed;
  j["started"] = run.started;
  j["seconds"] = run.seconds;
  j["exit_code"] = run.exit_code;
  std::map<std::string, int> counts;
  nlohmann::json cases = nlohmann::json::array();
  for (const auto& c : run.cases) {
    counts[VerdictName(c.verdict)]++;
    cases.push_back({{"id", c.id},
                     {"server", c.server},
                     {"variant", c.variant},
                     {"scenario", c.scenario},
                     {"fault", c.fault},
                     {"access", c.access},
                     {"nfs_version", c.nfs_version},
                     {"expect", c.expect},
                     {"kernel", c.kernel},
                     {"verdict", VerdictName(c.verdict)},
                     {"model_failed", c.model_failed},
                     {"explanation", c.explanation},
                     {"note", c.note},
                     {"findings", c.findings},
                     {"sweep", c.sweep},
                     {"log_tail", c.log_tail},
                     {"kernel_lines", c.kernel_lines},
                     {"kernel_lines_total", c.kernel_lines_total},
                     {"seconds", c.seconds},
                     {"ops", c.ops},
                     {"seed", c.seed}});
  }
  j["summary"] = counts;
  j["blind_controls"] = run.blind_controls;
  j["cases"] = cases;
  if (!run.explore.is_null()) j["explore"] = run.explore;
  // The verdict matrix: scenario -> server -> cell text and per-fault verdicts.
  nlohmann::json matrix = nlohmann::json::object();
  for (const auto& c : run.cases) {
    const std::string line = model::MatrixLine(c.fault, c.nfs_version);
    matrix[c.scenario][c.server][line.empty() ? "-" : line] = VerdictName(c.verdict);
  }
  j["matrix"] = matrix;
  nlohmann::json phases = nlohmann::json::array();
  for (const auto& p : run.phases) {
    const double s = p.seconds > 0 ? p.seconds : 1e-9;
    phases.push_back({{"name", p.name},
                      {"ops", p.ops},
                      {"bytes", p.bytes},
                      {"seconds", p.seconds},
                      {"ops_per_s", p.ops / s},
                      {"mb_per_s", p.bytes / s / 1e6}});
  }
  j["throughput"] = {{"phases", phases},
                     {"jobs", ThroughputJobsJson(run.jobs)},
                     {"timeline", TimelineJson(run.timeline)},
                     {"recovery", RecoveryJson(run.recovery)}};
  return j;
}

ovl::Result<RunSummary> SummaryFromJson(const nlohmann::json& j) {
  if (!j.is_object() || j.value("schema_version", 0) != 1) {
    return Status::Error(EINVAL, "results.json: not schema_version 1");
  }
  RunSummary run;
  try {
    run.run_id = j.at("run_id");
    run.topology = j.at("topology");
    run.seed = j.at("seed");
    run.started = j.at("started");
    run.seconds = j.at("seconds");
    run.exit_code = j.at("exit_code");
    run.blind_controls = j.at("blind_controls").get<std::vector<std::string>>();
    for (const auto& c : j.at("cases")) {
      CaseReport r;
      r.id = c.at("id");
      r.server = c.at("server");
      r.variant = c.at("variant");
      r.scenario = c.at("scenario");
      r.fault = c.at("fault");
      r.access = c.at("access");
      r.nfs_version = c.value("nfs_version", "");
      // Absent from runs made before `harness analyze` existed.
      r.expect = c.value("expect", "pass");
      r.kernel = c.value("kernel", "");
      r.verdict =
          model::VerdictFromName(c.at("verdict").get<std::string>()).value_or(Verdict::kUnresolved);
      r.model_failed = c.at("model_failed");
      r.explanation = c.at("explanation");
      r.note = c.value("note", "");
      r.findings = c.at("findings");
      r.sweep = c.value("sweep", nlohmann::json());  // absent from runs before the sweep
      r.log_tail = c.at("log_tail");
      // Absent from runs made before kernel logs were captured.
      r.kernel_lines = c.value("kernel_lines", std::vector<std::string>{});
      r.kernel_lines_total = c.value("kernel_lines_total", uint64_t{0});
      r.seconds = c.at("seconds");
      r.ops = c.at("ops");
      r.seed = c.at("seed");
      run.cases.push_back(std::move(r));
    }
    for (const auto& p : j.at("throughput").at("phases")) {
      run.phases.push_back({p.at("name"), p.at("ops"), p.at("bytes"), p.at("seconds")});
    }
    ThroughputFromJson(j.at("throughput"), &run);
    run.explore = j.value("explore", nlohmann::json());
  } catch (const nlohmann::json::exception& e) {
    return Status::Error(EINVAL, std::string("results.json: ") + e.what());
  }
  return run;
}

ovl::Result<RunSummary> ReadResultsJson(const std::string& run_dir) {
  std::ifstream in(run_dir + "/results.json");
  const nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded()) return Status::Error(EINVAL, "not JSON");
  return SummaryFromJson(j);
}

std::string JunitXml(const RunSummary& run) {
  std::map<std::string, std::vector<const CaseReport*>> by_server;
  for (const auto& c : run.cases) by_server[c.server].push_back(&c);
  std::ostringstream x;
  x << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  x << "<testsuites name=\"" << EscapeMarkup(run.topology) << "\" time=\"" << run.seconds
    << "\">\n";
  for (const auto& [server, cases] : by_server) {
    const bool blind = std::find(run.blind_controls.begin(), run.blind_controls.end(), server) !=
                       run.blind_controls.end();
    int failures = blind ? 1 : 0, skipped = 0, errors = 0;
    for (const auto* c : cases) {
      failures += c->verdict == Verdict::kFail || c->verdict == Verdict::kXPass;
      skipped += c->verdict == Verdict::kUnsupported;
      errors += c->verdict == Verdict::kUnresolved;
    }
    x << "  <testsuite name=\"" << EscapeMarkup(server) << "\" tests=\""
      << cases.size() + (blind ? 1 : 0) << "\" failures=\"" << failures << "\" errors=\"" << errors
      << "\" skipped=\"" << skipped << "\">\n";
    for (const auto* c : cases) {
      x << "    <testcase classname=\"" << EscapeMarkup(server + "." + c->scenario) << "\" name=\""
        << EscapeMarkup(c->id) << "\" time=\"" << c->seconds << "\">\n";
      const std::string msg = EscapeMarkup(VerdictName(c->verdict) + ": " + c->explanation);
      switch (c->verdict) {
        case Verdict::kFail:
        case Verdict::kXPass:
          x << "      <failure message=\"" << msg << "\">" << EscapeMarkup(c->findings.dump(2))
            << "</failure>\n";
          break;
        case Verdict::kUnresolved:
          x << "      <error message=\"" << msg << "\"/>\n";
          break;
        case Verdict::kUnsupported:
          x << "      <skipped message=\"" << msg << "\"/>\n";
          break;
        default:
          break;
      }
      if (!c->log_tail.empty())
        x << "      <system-out>" << EscapeMarkup(c->log_tail) << "</system-out>\n";
      x << "    </testcase>\n";
    }
    if (blind) {
      x << "    <testcase classname=\"" << EscapeMarkup(server) << "\" name=\"negative-control\">\n"
        << "      <failure message=\"negative control passed every case: the oracle did not "
           "catch the weakness it exists to catch\"/>\n    </testcase>\n";
    }
    x << "  </testsuite>\n";
  }
  x << "</testsuites>\n";
  return x.str();
}

void PrintVerdictTable(const RunSummary& run, std::ostream& out) {
  std::vector<std::string> servers, scenarios;
  std::map<std::string, std::map<std::string, std::vector<const CaseReport*>>> cells;
  for (const auto& c : run.cases) {
    if (std::find(servers.begin(), servers.end(), c.server) == servers.end())
      servers.push_back(c.server);
    if (std::find(scenarios.begin(), scenarios.end(), c.scenario) == scenarios.end()) {
      scenarios.push_back(c.scenario);
    }
    cells[c.scenario][c.server].push_back(&c);
  }
  std::sort(scenarios.begin(), scenarios.end());
  size_t w0 = 8;
  for (const auto& s : scenarios) w0 = std::max(w0, s.size());
  std::vector<size_t> w;
  for (const auto& s : servers) w.push_back(std::max<size_t>(s.size(), 11));
  out << std::left << std::setw(static_cast<int>(w0)) << "scenario";
  for (size_t i = 0; i < servers.size(); ++i)
    out << "  " << std::setw(static_cast<int>(w[i])) << servers[i];
  out << "\n";
  for (const auto& s : scenarios) {
    out << std::setw(static_cast<int>(w0)) << s;
    for (size_t i = 0; i < servers.size(); ++i) {
      auto it = cells[s].find(servers[i]);
      out << "  " << std::setw(static_cast<int>(w[i]))
          << (it == cells[s].end() ? "-" : Cell(it->second));
    }
    out << "\n";
  }
  for (const auto& b : run.blind_controls) {
    out << "negative control '" << b << "' passed every case: the oracle is blind to it\n";
  }
}

void PrintCaseLine(const CaseReport& r, bool tty, std::ostream& out) {
  if (tty && r.verdict != Verdict::kFail && r.verdict != Verdict::kUnresolved) return;
  if (tty) out << "\r\033[K";
  out << VerdictName(r.verdict) << ": " << r.id;
  if (r.verdict != Verdict::kPass && !r.explanation.empty()) {
    out << " -- " << r.explanation.substr(0, r.explanation.find('\n'));
  }
  out << "\n" << std::flush;
}

// What `harness explore` found: each shrunk failure with its file (its cases are too many for the
// verdict table).
void PrintExplored(const nlohmann::json& explore, const std::string& dir, std::ostream& out) {
  out << "explore: " << explore.value("generated", 0) << " generated cases in "
      << static_cast<int>(explore.value("generating_seconds", 0.0)) << " s\n";
  for (const auto& s : explore.value("shrunk", nlohmann::json::array())) {
    out << "  " << s.value("server", "") << ": " << s.value("rule", "") << " in "
        << s.value("case", "") << ", shrunk " << s.value("steps_before", 0) << " -> "
        << s.value("steps_after", 0) << " steps, replay " << s.value("replay_verdict", "") << ": "
        << dir << "/" << s.value("file", "") << "\n";
  }
}

void PrintRunSummary(const RunSummary& run, const std::string& dir, std::ostream& out) {
  out << "\n";
  if (run.explore.is_object()) {
    PrintExplored(run.explore, dir, out);
  } else {
    PrintVerdictTable(run, out);
  }
  std::map<std::string, int> counts;
  for (const auto& c : run.cases) counts[VerdictName(c.verdict)]++;
  out << "\n";
  for (const auto& [v, n] : counts) out << v << ": " << n << "  ";
  out << "\nharness: seed " << run.seed << ", " << run.seconds << " s, exit code " << run.exit_code
      << "\nharness: results in " << dir << "\n";
}

bool WriteOutput(const std::string& path, const std::string& text, std::ostream& err) {
  Status st = WriteFileAtomic(path, text);
  if (!st.ok()) err << "harness: cannot write " << path << ": " << st.ToString() << "\n";
  return st.ok();
}

bool WriteReportHtml(const std::string& dir, std::ostream& err) {
  std::string chart_note;
  auto html = report::RenderRunDirectory(dir, &chart_note);
  bool ok = true;
  if (html.ok()) {
    ok = WriteOutput(dir + "/report.html", *html, err);
  } else {
    err << "harness: report.html: " << html.status().message() << "\n";
  }
  if (!chart_note.empty()) err << "harness: report.html without charts: " << chart_note << "\n";
  return ok;
}

bool WriteRunOutputs(const std::string& dir, const RunSummary& run, const OutputCopies& copies,
                     std::ostream& err) {
  const std::string results = ResultsJson(run).dump(2);
  const std::string junit = JunitXml(run);
  bool ok = WriteOutput(dir + "/results.json", results, err);
  ok &= WriteOutput(dir + "/junit.xml", junit, err);
  if (!copies.json.empty()) ok &= WriteOutput(copies.json, results, err);
  if (!copies.junit.empty()) ok &= WriteOutput(copies.junit, junit, err);
  return WriteReportHtml(dir, err) && ok;
}

}  // namespace ovl::runner
