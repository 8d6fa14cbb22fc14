#include "report/html_report.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "model/verdict.h"
#include "report/assets.h"
#include "report/explore_html.h"
#include "report/html.h"
#include "report/throughput_html.h"

namespace ovl::report {
namespace {

using nlohmann::json;

constexpr size_t kFindingsShown = 20;

// Verdicts that come with an explanation worth reading (PASS has none, UNSUPPORTED its reason).
bool Explained(const std::string& v) {
  return v == "FAIL" || v == "XPASS" || v == "UNRESOLVED" || v == "XFAIL";
}

struct Case {
  const json* j = nullptr;
  size_t index = 0;
  std::string id, server, variant, scenario, fault, verdict, explanation, nfs_version;
  std::string Anchor() const { return "case-" + std::to_string(index); }
};

std::vector<Case> Cases(const json& results) {
  std::vector<Case> out;
  size_t index = 0;
  auto all = results.find("cases");  // by reference: Case keeps pointers into it
  if (all == results.end() || !all->is_array()) return out;
  for (const auto& c : *all) {
    if (!c.is_object()) continue;
    out.push_back({&c, index++, FieldText(c, "id"), FieldText(c, "server"), FieldText(c, "variant"),
                   FieldText(c, "scenario"), FieldText(c, "fault"), FieldText(c, "verdict"),
                   FieldText(c, "explanation"), FieldText(c, "nfs_version")});
  }
  return out;
}

std::string FirstLine(const std::string& s, size_t max = 240) {
  std::string line = s.substr(0, s.find('\n'));
  return line.size() > max ? line.substr(0, max) + "..." : line;
}

std::string Duration(double s) {
  char buf[64];
  if (s < 60) {
    snprintf(buf, sizeof buf, "%.1f s", s);
  } else if (s < 3600) {
    snprintf(buf, sizeof buf, "%d min %02d s", static_cast<int>(s) / 60, static_cast<int>(s) % 60);
  } else {
    snprintf(buf, sizeof buf, "%d h %02d min", static_cast<int>(s) / 3600,
             static_cast<int>(s) / 60 % 60);
  }
  return buf;
}

std::string ExitMeaning(int code) {
  switch (code) {
    case 0:
      return "every verdict as expected";
    case 1:
      return "correctness failure or regression";
    case 2:
      return "usage or topology error";
    case 3:
      return "infrastructure error";
    default:
      return "unknown";
  }
}

void Row(std::ostringstream& h, const std::string& key, const std::string& value) {
  h << "<tr><th>" << EscapeMarkup(key) << "</th><td>" << EscapeMarkup(value) << "</td></tr>\n";
}

// "accel" at the top of the manifest or one level down (libvirt settings, versions...).
std::string Accel(const json& manifest) {
  if (manifest.contains("accel")) return FieldText(manifest, "accel");
  for (const auto& [key, value] : manifest.items()) {
    if (value.is_object() && value.contains("accel")) return FieldText(value, "accel");
  }
  return "";
}

void Header(const RunFiles& run, const std::vector<Case>& cases, std::ostringstream& h) {
  const json& r = run.results;
  const json& m = run.manifest;
  const int exit_code = r.contains("exit_code") && r["exit_code"].is_number_integer()
                            ? r["exit_code"].get<int>()
                            : -1;
  h << "<h1>harness run " << EscapeMarkup(FieldText(r, "run_id"))
    << "</h1>\n<p><span class=\"badge exit-" << (exit_code >= 0 && exit_code <= 3 ? exit_code : 3)
    << "\">exit code " << exit_code << ": " << ExitMeaning(exit_code) << "</span> ";
  std::map<std::string, int> counts;
  for (const auto& c : cases) counts[c.verdict]++;
  for (int severity = 0; severity < kUnknownSeverity; ++severity) {
    const std::string v = SeverityName(severity);
    if (counts[v]) {
      h << "<span class=\"badge " << VerdictClass(v) << "\">" << v << " " << counts[v] << "</span>";
    }
  }
  h << "</p>\n<div class=\"grid\"><div><h3>Run</h3><table class=\"kv\">\n";
  Row(h, "topology", FieldText(r, "topology"));
  Row(h, "seed", FieldText(r, "seed"));
  Row(h, "run id", FieldText(r, "run_id"));
  Row(h, "started", FieldText(r, "started"));
  Row(h, "duration",
      r.contains("seconds") && r["seconds"].is_number() ? Duration(r["seconds"].get<double>())
                                                        : "");
  Row(h, "exit code", std::to_string(exit_code) + " (" + ExitMeaning(exit_code) + ")");
  Row(h, "cases", std::to_string(cases.size()));
  h << "</table></div>\n<div><h3>Environment</h3><table class=\"kv\">\n";
  if (m.empty()) Row(h, "manifest", "no manifest.json in the run directory");
  const json host = m.value("host", json::object());
  if (host.is_object()) {
    if (host.contains("kernel")) Row(h, "host kernel", FieldText(host, "kernel"));
    if (host.contains("machine")) Row(h, "machine", FieldText(host, "machine"));
    if (host.contains("nodename")) Row(h, "host", FieldText(host, "nodename"));
  }
  const json versions = m.value("versions", json::object());
  if (versions.is_object()) {
    for (const auto& [key, value] : versions.items()) {
      if (key == "accel") continue;
      std::string label = key;
      std::replace(label.begin(), label.end(), '_', ' ');
      Row(h, label, value.is_string() ? value.get<std::string>() : value.dump());
    }
  }
  const std::string accel = Accel(m);
  if (!accel.empty()) Row(h, "accel", accel);
  for (const json& lh : m.value("libvirt_hosts", json::array())) {
    if (!lh.is_object()) continue;
    std::string text = FieldText(lh, "uri");
    for (const char* key : {"hostname", "versions", "kernel", "accel"}) {
      if (lh.contains(key)) text += " \u00b7 " + FieldText(lh, key);
    }
    if (lh.contains("cpus")) text += " \u00b7 " + lh["cpus"].dump() + " CPUs";
    std::string lanes;
    for (const auto* key : {"servers", "clients"}) {
      for (const json& n : lh.value(key, json::array())) {
        lanes += (lanes.empty() ? "" : ", ") + (n.is_string() ? n.get<std::string>() : n.dump());
      }
    }
    text += " \u00b7 runs: " + (lanes.empty() ? std::string("nothing") : lanes);
    if (lh.contains("failure")) text += " \u00b7 FAILED: " + FieldText(lh, "failure");
    Row(h, "libvirt host " + FieldText(lh, "name"), text);
  }
  if (m.contains("command")) Row(h, "command", FieldText(m, "command"));
  if (m.contains("topology") && m["topology"].is_object()) {
    Row(h, "topology file",
        FieldText(m["topology"], "file") + " (fnv1a64 " + FieldText(m["topology"], "fnv1a64") +
            ")");
  }
  static const std::set<std::string> kShown = {"run_id",   "started", "command",
                                               "topology", "seed",    "host",
                                               "versions", "accel",   "libvirt_hosts"};
  // Keys other modules add later: objects one level flattened ("libvirt uri"), accel shown above.
  for (const auto& [key, value] : m.items()) {
    if (kShown.count(key)) continue;
    if (!value.is_object()) {
      Row(h, key, value.is_string() ? value.get<std::string>() : value.dump());
      continue;
    }
    for (const auto& [sub, v] : value.items()) {
      if (sub != "accel") Row(h, key + " " + sub, v.is_string() ? v.get<std::string>() : v.dump());
    }
  }
  h << "</table></div></div>\n";
}

// One line of a matrix cell: a fault expansion's verdicts, linked to the first explained case.
std::string FaultLine(const std::string& fault, const std::vector<const Case*>& cases) {
  std::map<int, int> counts;  // severity -> cases
  const Case* explained = nullptr;
  std::vector<std::string> titles;
  for (const auto* c : cases) {
    counts[Severity(c->verdict)]++;
    if (Explained(c->verdict) &&
        (!explained || Severity(c->verdict) < Severity(explained->verdict))) {
      explained = c;
    }
    const std::string t = c->verdict + ": " + FirstLine(c->explanation, 200);
    if (c->verdict != "PASS" && std::find(titles.begin(), titles.end(), t) == titles.end() &&
        titles.size() < 3) {
      titles.push_back(t);
    }
  }
  std::string text = fault.empty() ? "" : fault + " ";
  for (const auto& [severity, n] : counts) {
    if (severity != counts.begin()->first) text += " ";
    text += severity < kUnknownSeverity ? SeverityName(severity) : "?";
    if (n > 1) text += "\u00d7" + std::to_string(n);
  }
  std::string title;
  for (const auto& t : titles) title += (title.empty() ? "" : "\n") + t;
  const int worst = counts.begin()->first;
  const std::string cls = "f badge " + VerdictClass(SeverityName(worst));
  std::string out = explained ? "<a class=\"" + cls + "\" href=\"#" + explained->Anchor() + "\""
                              : "<span class=\"" + cls + "\"";
  if (!title.empty()) out += " title=\"" + EscapeMarkup(title) + "\"";
  out += ">" + EscapeMarkup(text) + (explained ? "</a>" : "</span>");
  if (counts.size() > 1) {
    out += "<span class=\"flaky\" title=\"verdicts differ between repeats\">flaky</span>";
  }
  return out;
}

// Servers that are negative controls: XFAIL cases not excused by a baseline ("known failure").
std::map<std::string, std::vector<const Case*>> ControlCatches(const std::vector<Case>& cases) {
  std::map<std::string, std::vector<const Case*>> out;
  for (const auto& c : cases) {
    if (c.verdict == "XFAIL" && c.explanation.rfind("known failure (", 0) != 0) {
      out[c.server].push_back(&c);
    }
  }
  return out;
}

void Matrix(const std::vector<Case>& cases, const std::vector<std::string>& servers,
            const std::set<std::string>& blind, std::ostringstream& h) {
  std::map<std::string, std::string> variant;
  std::map<std::string, std::map<std::string, std::vector<const Case*>>> cells;
  for (const auto& c : cases) {
    variant.emplace(c.server, c.variant);
    cells[c.scenario][c.server].push_back(&c);
  }
  const auto controls = ControlCatches(cases);
  h << "<h2 id=\"matrix\">Verdict matrix</h2>\n<p class=\"legend\">";
  for (int severity = 0; severity < kUnknownSeverity; ++severity) {
    const std::string v = SeverityName(severity);
    h << "<span class=\"badge " << VerdictClass(v) << "\">" << v << "</span>";
  }
  h << " <span class=\"note\">Each cell lists the scenario's fault expansions; hover for the "
       "explanation, click to jump to the findings.</span></p>\n<table class=\"matrix\"><tr><th>"
       "scenario</th>";
  for (const auto& s : servers) {
    h << "<th>" << EscapeMarkup(s) << "<div class=\"variant\">" << EscapeMarkup(variant[s])
      << "</div>";
    if (blind.count(s)) {
      h << "<div class=\"control\">negative control: BLIND</div>";
    } else if (controls.count(s)) {
      h << "<div class=\"control\">negative control</div>";
    }
    h << "</th>";
  }
  h << "</tr>\n";
  for (const auto& [scenario, row] : cells) {
    h << "<tr><td class=\"scenario\">" << EscapeMarkup(scenario) << "</td>";
    for (const auto& s : servers) {
      auto it = row.find(s);
      if (it == row.end()) {
        h << "<td></td>";
        continue;
      }
      std::map<std::string, std::vector<const Case*>> by_fault;
      int worst = kUnknownSeverity;
      for (const auto* c : it->second) {
        by_fault[model::MatrixLine(c->fault, c->nfs_version)].push_back(c);
        worst = std::min(worst, Severity(c->verdict));
      }
      const std::string worst_name = SeverityName(worst);
      h << "<td class=\"" << VerdictClass(worst_name) << "\">";
      if (worst_name == "UNSUPPORTED") {
        h << "<span class=\"f\" title=\""
          << EscapeMarkup(FirstLine(it->second.front()->explanation)) << "\">UNSUPPORTED</span>";
      } else {
        for (const auto& [fault, fcases] : by_fault) h << FaultLine(fault, fcases);
      }
      h << "</td>";
    }
    h << "</tr>\n";
  }
  h << "</table>\n";
}

// The shrunk generated case of each server (results.json "explore", docs/explore.md).
std::map<std::string, std::string> ShrunkFiles(const json& results) {
  std::map<std::string, std::string> out;
  const json explore = results.value("explore", json::object());
  for (const json& s : explore.value("shrunk", json::array())) {
    std::string& file = out[FieldText(s, "server")];
    if (file.empty()) file = FieldText(s, "file") + " (" + FieldText(s, "steps_after") + " steps)";
  }
  return out;
}

void Controls(const std::vector<Case>& cases, const std::set<std::string>& blind,
              const json& results, std::ostringstream& h) {
  h << "<h2 id=\"controls\">Negative controls</h2>\n<p class=\"note\">Servers declared "
       "<code>expect: fail</code>: each must fail somewhere, or the oracle is blind to the "
       "weakness it exists to show.</p>\n";
  for (const auto& b : blind) {
    h << "<div class=\"alarm\"><b>" << EscapeMarkup(b)
      << "</b> passed every case: the oracle did not catch the weakness this control exists "
         "to show (BLIND, exit code 1).</div>\n";
  }
  const auto controls = ControlCatches(cases);
  if (controls.empty() && blind.empty()) {
    h << "<p>No negative control in this run.</p>\n";
    return;
  }
  if (controls.empty()) return;
  // The mutation score: of the servers that must fail (planted bugs, whole-design controls),
  // how many some case caught (docs/planted-bugs.md).
  std::set<std::string> all(blind.begin(), blind.end());
  for (const auto& [server, caught] : controls) all.insert(server);
  h << "<p><b>Mutation score</b>: " << controls.size() << " of " << all.size()
    << " negative controls caught (" << (100 * controls.size() / all.size()) << "%).</p>\n";
  std::map<std::string, int> totals;
  for (const auto& c : cases) totals[c.server]++;
  const std::map<std::string, std::string> shrunk = ShrunkFiles(results);
  h << "<table><tr><th>control</th><th>variant</th><th>caught in</th><th>scenarios that caught "
       "it</th><th>shrunk generated case</th></tr>\n";
  for (const auto& [server, caught] : controls) {
    // Catalogue scenarios by name; generated cases (explore.md: ids "gen-...") by count.
    std::set<std::string> scenarios;
    size_t generated = 0;
    for (const auto* c : caught) {
      if (c->scenario.rfind("gen-", 0) == 0) {
        ++generated;
      } else {
        scenarios.insert(c->scenario);
      }
    }
    std::string list;
    for (const auto& s : scenarios) list += (list.empty() ? "" : ", ") + s;
    if (generated > 0) {
      list += (list.empty() ? "" : "; ") + std::to_string(generated) + " generated cases";
    }
    h << "<tr><td>" << EscapeMarkup(server) << "</td><td>" << EscapeMarkup(caught.front()->variant)
      << "</td><td class=\"num\">" << caught.size() << " of " << totals[server] << " cases</td><td>"
      << EscapeMarkup(list) << "</td><td>"
      << EscapeMarkup(shrunk.count(server) ? shrunk.at(server) : "") << "</td></tr>\n";
  }
  h << "</table>\n";
}

// "BADHANDLE 120, STALE 3, same-object 40": what a case's corrupted handles got (results.json
// "sweep", runner/judge.h).
std::string SweepOutcomes(const json& sweep) {
  std::string out;
  const json outcomes = sweep.value("outcomes", json::object());
  for (const auto& [answer, n] : outcomes.items()) {
    out += (out.empty() ? "" : ", ") + answer + " " + n.dump();
  }
  return out;
}

// The cases that ran a corrupted-handle sweep, with its counts; nothing when none did.
void Sweeps(const std::vector<Case>& cases, std::ostringstream& h) {
  bool any = false;
  for (const auto& c : cases) {
    const json sweep = c.j->value("sweep", json());
    if (!sweep.is_object()) continue;
    if (!any) {
      h << "<h2 id=\"sweeps\">Corrupted-handle sweeps</h2>\n<table><tr><th>case</th><th>verdict"
           "</th><th>handles sent</th><th>answers</th><th>violations</th></tr>\n";
      any = true;
    }
    h << "<tr><td><code>" << EscapeMarkup(c.id) << "</code></td><td><span class=\"badge "
      << VerdictClass(c.verdict) << "\">" << EscapeMarkup(c.verdict)
      << "</span></td><td class=\"num\">" << EscapeMarkup(FieldText(sweep, "sent")) << "</td><td>"
      << EscapeMarkup(SweepOutcomes(sweep)) << "</td><td class=\"num\">"
      << EscapeMarkup(FieldText(sweep, "violations")) << "</td></tr>\n";
  }
  if (any) h << "</table>\n";
}

void CaseDetails(const Case& c, bool open, std::ostringstream& h) {
  const json& j = *c.j;
  h << "<details id=\"" << c.Anchor() << "\"" << (open ? " open" : "")
    << "><summary><span class=\"badge " << VerdictClass(c.verdict) << "\">"
    << EscapeMarkup(c.verdict) << "</span> <code>" << EscapeMarkup(c.id) << "</code> "
    << EscapeMarkup(FirstLine(c.explanation, 160)) << "</summary>\n";
  // The summary shows the first line; repeat the explanation only when it holds more.
  if (FirstLine(c.explanation, 160) != c.explanation) {
    h << "<div class=\"explanation\">" << EscapeMarkup(c.explanation) << "</div>\n";
  }
  h << "<p class=\"note\">server " << EscapeMarkup(c.server) << " (" << EscapeMarkup(c.variant)
    << "), scenario " << EscapeMarkup(c.scenario) << ", fault "
    << EscapeMarkup(c.fault.empty() ? "none" : c.fault) << ", access "
    << EscapeMarkup(FieldText(j, "access"))
    << (c.nfs_version.empty() ? "" : " (NFS " + EscapeMarkup(c.nfs_version) + ")") << ", seed "
    << EscapeMarkup(FieldText(j, "seed")) << ", " << EscapeMarkup(FieldText(j, "ops"))
    << " ops</p>\n";
  const json sweep = j.value("sweep", json());
  if (sweep.is_object()) {
    h << "<p class=\"note\">corrupted-handle sweep: " << EscapeMarkup(FieldText(sweep, "sent"))
      << " handles sent: " << EscapeMarkup(SweepOutcomes(sweep)) << "; "
      << EscapeMarkup(FieldText(sweep, "violations")) << " violations</p>\n";
  }
  const json findings = j.value("findings", json::array());
  if (findings.is_array() && !findings.empty()) {
    h << "<table class=\"findings\"><tr><th></th><th>rule</th><th>step</th><th>client</th>"
         "<th>operation</th><th>expected</th><th>got</th></tr>\n";
    for (size_t i = 0; i < findings.size() && i < kFindingsShown; ++i) {
      const json& f = findings[i];
      if (!f.is_object()) {
        h << "<tr><td colspan=\"7\">" << EscapeMarkup(f.dump()) << "</td></tr>\n";
        continue;
      }
      h << "<tr><td>" << (f.value("must", false) ? "MUST" : "MAY") << "</td>";
      for (const char* key : {"rule", "step", "client", "op", "expected", "got"}) {
        h << "<td>" << EscapeMarkup(FieldText(f, key)) << "</td>";
      }
      h << "</tr>\n";
    }
    h << "</table>\n";
    if (findings.size() > kFindingsShown) {
      h << "<p class=\"note\">and " << findings.size() - kFindingsShown
        << " more findings in results.json</p>\n";
    }
  }
  const std::string log = FieldText(j, "log_tail");
  if (!log.empty()) h << "<pre>" << EscapeMarkup(log) << "</pre>\n";
  const json kernel = j.value("kernel_lines", json::array());
  if (kernel.is_array() && !kernel.empty()) {
    std::string text;
    for (const auto& line : kernel)
      text += (line.is_string() ? line.get<std::string>() : "") + "\n";
    const uint64_t total = j.value("kernel_lines_total", uint64_t{0});
    h << "<details class=\"kernel\"><summary>kernel log of the server during the case: " << total
      << " lines" << (total > kernel.size() ? ", the first " + std::to_string(kernel.size()) : "")
      << "</summary><pre>" << EscapeMarkup(text) << "</pre></details>\n";
  }
  h << "</details>\n";
}

// Whether the case has a finding of the server's kernel (rules "kernel-...").
bool HasKernelFinding(const Case& c) {
  const json findings = c.j->value("findings", json::array());
  return std::any_of(findings.begin(), findings.end(), [](const json& f) {
    return f.is_object() && FieldText(f, "rule").rfind("kernel-", 0) == 0;
  });
}

void Details(const std::vector<Case>& cases, std::ostringstream& h) {
  std::vector<const Case*> bad, xfail, kernel;
  std::map<std::string, std::vector<const Case*>> unsupported;
  for (const auto& c : cases) {
    if (c.verdict == "XFAIL") {
      xfail.push_back(&c);
    } else if (c.verdict == "UNSUPPORTED") {
      unsupported[c.explanation].push_back(&c);
    } else if (c.verdict != "PASS") {
      bad.push_back(&c);
    } else if (HasKernelFinding(c)) {
      kernel.push_back(&c);
    }
  }
  std::stable_sort(bad.begin(), bad.end(), [](const Case* a, const Case* b) {
    return Severity(a->verdict) < Severity(b->verdict);
  });
  h << "<h2 id=\"failures\">Failures and explanations</h2>\n";
  if (bad.empty()) h << "<p class=\"ok\">No FAIL, XPASS or UNRESOLVED case.</p>\n";
  for (const auto* c : bad) CaseDetails(*c, true, h);
  if (!xfail.empty()) {
    h << "<details><summary>Expected failures (XFAIL): " << xfail.size()
      << " cases, failing as a negative control or a baseline says</summary>\n";
    for (const auto* c : xfail) CaseDetails(*c, false, h);
    h << "</details>\n";
  }
  if (!kernel.empty()) {
    h << "<details><summary>Passed with kernel messages (MAY): " << kernel.size()
      << " cases whose server's kernel printed lines worth reading</summary>\n";
    for (const auto* c : kernel) CaseDetails(*c, false, h);
    h << "</details>\n";
  }
  if (!unsupported.empty()) {
    size_t n = 0;
    for (const auto& [reason, list] : unsupported) n += list.size();
    h << "<details><summary>Unsupported: " << n << " case(s), " << unsupported.size()
      << " reason(s)</summary>\n<table><tr><th>reason</th><th>cases</th></tr>\n";
    for (const auto& [reason, list] : unsupported) {
      std::string ids;
      for (const auto* c : list) ids += (ids.empty() ? "" : "\n") + c->id;
      h << "<tr><td>" << EscapeMarkup(reason) << "</td><td><details><summary>" << list.size()
        << "</summary><pre>" << EscapeMarkup(ids) << "</pre></details></td></tr>\n";
    }
    h << "</table></details>\n";
  }
}

std::string ChartJsVersion(const std::string& source) {
  const size_t at = source.find("Chart.js v");
  if (at == std::string::npos) return "";
  const size_t end = source.find_first_of(" \n*", at + 10);
  return end == std::string::npos ? "" : source.substr(at + 10, end - at - 10);
}

}  // namespace

ChartJs LoadChartJs() {
  const char* env = getenv("OVL_CHARTJS");
  const std::string path = env && *env ? env : kChartJsPath;
  std::ifstream in(path, std::ios::binary);
  ChartJs out;
  if (!in) {
    out.note = "Chart.js not found at " + path + " (Debian package libjs-chart.js)";
    return out;
  }
  out.source.assign(std::istreambuf_iterator<char>(in), {});
  if (out.source.empty()) out.note = path + " is empty";
  return out;
}

std::string RenderHtmlReport(const RunFiles& run, const ChartJs& chartjs) {
  const std::vector<Case> cases = Cases(run.results);
  std::vector<std::string> servers;
  for (const auto& c : cases) {
    if (std::find(servers.begin(), servers.end(), c.server) == servers.end()) {
      servers.push_back(c.server);
    }
  }
  std::set<std::string> blind;
  const json blind_json = run.results.value("blind_controls", json::array());
  for (const auto& b : blind_json) {
    if (b.is_string()) blind.insert(b.get<std::string>());
  }
  const ThroughputHtml throughput = RenderThroughput(run.results, servers);

  std::ostringstream h;
  h << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>harness run "
    << EscapeMarkup(FieldText(run.results, "run_id")) << "</title>\n<style>" << kReportStyle
    << "</style>\n</head><body><main>\n";
  Header(run, cases, h);
  Matrix(cases, servers, blind, h);
  Controls(cases, blind, run.results, h);
  h << ExploreHtml(run.results);
  Details(cases, h);
  Sweeps(cases, h);
  if (chartjs.source.empty() && !throughput.charts.empty()) {
    h << "<div class=\"alarm\">Charts are missing: " << EscapeMarkup(chartjs.note)
      << ". The tables below hold every number.</div>\n";
  }
  h << throughput.html;
  h << "<footer>Written by <code>harness</code> from results.json (schema_version "
    << EscapeMarkup(FieldText(run.results, "schema_version")) << ")";
  if (!chartjs.source.empty()) {
    h << "; charts by Chart.js " << EscapeMarkup(ChartJsVersion(chartjs.source))
      << " (MIT license), inlined";
  }
  h << ".</footer>\n</main>\n<script type=\"application/json\" id=\"report-charts\">"
    << JsonForScript(throughput.charts) << "</script>\n";
  if (!chartjs.source.empty()) h << "<script>" << ScriptSafe(chartjs.source) << "</script>\n";
  h << "<script>" << kReportScript << "</script>\n</body></html>\n";
  return h.str();
}

Result<std::string> RenderRunDirectory(const std::string& run_dir, std::string* note) {
  OVL_ASSIGN_OR_RETURN(RunFiles run, LoadRunFiles(run_dir));
  const ChartJs chartjs = LoadChartJs();
  if (note) *note = chartjs.note;
  return RenderHtmlReport(run, chartjs);
}

}  // namespace ovl::report
