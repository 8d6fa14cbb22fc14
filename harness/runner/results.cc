#include "runner/results.h"

#include <algorithm>
#include <iomanip>
#include <map>
#include <set>
#include <sstream>

namespace ovl::runner {
namespace {

std::string XmlEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default:
        // XML 1.0 forbids most control characters, even escaped.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') {
          out += '?';
        } else {
          out += c;
        }
    }
  }
  return out;
}

Verdict VerdictFromName(const std::string& name) {
  for (Verdict v : {Verdict::kPass, Verdict::kFail, Verdict::kXFail, Verdict::kXPass,
                    Verdict::kUnsupported, Verdict::kUnresolved}) {
    if (VerdictName(v) == name) return v;
  }
  return Verdict::kUnresolved;
}

// Short cell text: "PASS", "PASS 3", "FAIL 1/3", "XFAIL 2/3", "UNSUP".
std::string Cell(const std::vector<const CaseReport*>& cases) {
  std::map<Verdict, int> n;
  for (const auto* c : cases) n[c->verdict]++;
  const int total = static_cast<int>(cases.size());
  for (Verdict worst : {Verdict::kFail, Verdict::kXPass, Verdict::kUnresolved, Verdict::kXFail}) {
    if (n[worst]) return VerdictName(worst) + " " + std::to_string(n[worst]) + "/" + std::to_string(total);
  }
  if (n[Verdict::kPass]) {
    return total == 1 ? "PASS" : "PASS " + std::to_string(n[Verdict::kPass]) + "/" + std::to_string(total);
  }
  return "UNSUP";
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
                     {"verdict", VerdictName(c.verdict)},
                     {"model_failed", c.model_failed},
                     {"explanation", c.explanation},
                     {"findings", c.findings},
                     {"log_tail", c.log_tail},
                     {"seconds", c.seconds},
                     {"ops", c.ops},
                     {"seed", c.seed}});
  }
  j["summary"] = counts;
  j["blind_controls"] = run.blind_controls;
  j["cases"] = cases;
  // The verdict matrix: scenario -> server -> cell text and per-fault verdicts.
  nlohmann::json matrix = nlohmann::json::object();
  for (const auto& c : run.cases) {
    matrix[c.scenario][c.server][c.fault.empty() ? "-" : c.fault] = VerdictName(c.verdict);
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
  j["throughput"] = {{"phases", phases}};
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
      r.verdict = VerdictFromName(c.at("verdict"));
      r.model_failed = c.at("model_failed");
      r.explanation = c.at("explanation");
      r.findings = c.at("findings");
      r.log_tail = c.at("log_tail");
      r.seconds = c.at("seconds");
      r.ops = c.at("ops");
      r.seed = c.at("seed");
      run.cases.push_back(std::move(r));
    }
    for (const auto& p : j.at("throughput").at("phases")) {
      run.phases.push_back({p.at("name"), p.at("ops"), p.at("bytes"), p.at("seconds")});
    }
  } catch (const nlohmann::json::exception& e) {
    return Status::Error(EINVAL, std::string("results.json: ") + e.what());
  }
  return run;
}

std::string JunitXml(const RunSummary& run) {
  std::map<std::string, std::vector<const CaseReport*>> by_server;
  for (const auto& c : run.cases) by_server[c.server].push_back(&c);
  std::ostringstream x;
  x << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  x << "<testsuites name=\"" << XmlEscape(run.topology) << "\" time=\"" << run.seconds << "\">\n";
  for (const auto& [server, cases] : by_server) {
    const bool blind =
        std::find(run.blind_controls.begin(), run.blind_controls.end(), server) != run.blind_controls.end();
    int failures = blind ? 1 : 0, skipped = 0, errors = 0;
    for (const auto* c : cases) {
      failures += c->verdict == Verdict::kFail || c->verdict == Verdict::kXPass;
      skipped += c->verdict == Verdict::kUnsupported;
      errors += c->verdict == Verdict::kUnresolved;
    }
    x << "  <testsuite name=\"" << XmlEscape(server) << "\" tests=\"" << cases.size() + (blind ? 1 : 0)
      << "\" failures=\"" << failures << "\" errors=\"" << errors << "\" skipped=\"" << skipped
      << "\">\n";
    for (const auto* c : cases) {
      x << "    <testcase classname=\"" << XmlEscape(server + "." + c->scenario) << "\" name=\""
        << XmlEscape(c->id) << "\" time=\"" << c->seconds << "\">\n";
      const std::string msg = XmlEscape(VerdictName(c->verdict) + ": " + c->explanation);
      switch (c->verdict) {
        case Verdict::kFail:
        case Verdict::kXPass:
          x << "      <failure message=\"" << msg << "\">" << XmlEscape(c->findings.dump(2))
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
      if (!c->log_tail.empty()) x << "      <system-out>" << XmlEscape(c->log_tail) << "</system-out>\n";
      x << "    </testcase>\n";
    }
    if (blind) {
      x << "    <testcase classname=\"" << XmlEscape(server) << "\" name=\"negative-control\">\n"
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
    if (std::find(servers.begin(), servers.end(), c.server) == servers.end()) servers.push_back(c.server);
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
  for (size_t i = 0; i < servers.size(); ++i) out << "  " << std::setw(static_cast<int>(w[i])) << servers[i];
  out << "\n";
  for (const auto& s : scenarios) {
    out << std::setw(static_cast<int>(w0)) << s;
    for (size_t i = 0; i < servers.size(); ++i) {
      auto it = cells[s].find(servers[i]);
      out << "  " << std::setw(static_cast<int>(w[i])) << (it == cells[s].end() ? "-" : Cell(it->second));
    }
    out << "\n";
  }
  for (const auto& b : run.blind_controls) {
    out << "negative control '" << b << "' passed every case: the oracle is blind to it\n";
  }
}

}  // namespace ovl::runner
