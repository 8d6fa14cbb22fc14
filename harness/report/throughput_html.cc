#include "report/throughput_html.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include "report/html.h"
#include "report/run_data.h"

namespace ovl::report {
namespace {

using nlohmann::json;

// Tableau 10: distinct, readable on white, and kind to the common color blindnesses.
constexpr const char* kPalette[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};

class Colors {
 public:
  explicit Colors(std::vector<std::string> servers) : servers_(std::move(servers)) {}
  std::string Of(const std::string& server) {
    auto it = std::find(servers_.begin(), servers_.end(), server);
    if (it == servers_.end()) it = servers_.insert(servers_.end(), server);
    return kPalette[(it - servers_.begin()) % std::size(kPalette)];
  }

 private:
  std::vector<std::string> servers_;
};

std::string ServerLabel(const std::string& server, const std::string& variant) {
  return variant.empty() || variant == server ? server : server + " (" + variant + ")";
}

std::string Placeholder(const std::string& id, bool wide = false) {
  return "<div class=\"chart" + std::string(wide ? " wide" : "") + "\" id=\"" + id + "\"></div>";
}

// A bar chart of `metric`: one bar group per measurement group, one bar per server.
json BarChart(const std::string& id, const std::string& title, const std::string& metric,
              const std::vector<const Measurement*>& ms, Colors& colors) {
  std::vector<std::string> groups;
  std::vector<std::pair<std::string, std::string>> servers;  // server, variant
  for (const auto* m : ms) {
    if (!m->samples.count(metric)) continue;  // e.g. an ops/s job in the MB/s chart
    if (std::find(groups.begin(), groups.end(), m->group) == groups.end()) {
      groups.push_back(m->group);
    }
    auto s = std::find_if(servers.begin(), servers.end(),
                          [&](const auto& x) { return x.first == m->server; });
    if (s == servers.end()) {
      servers.push_back({m->server, m->variant});
    } else if (s->second.empty()) {
      s->second = m->variant;  // a job that named its variant
    }
  }
  json datasets = json::array();
  for (const auto& [server, variant] : servers) {
    json data = json::array();
    for (const auto& g : groups) {
      json value = nullptr;
      for (const auto* m : ms) {
        auto it = m->samples.find(metric);
        if (m->group == g && m->server == server && it != m->samples.end()) {
          value = StatsOf(it->second).mean;
        }
      }
      data.push_back(value);
    }
    datasets.push_back(
        {{"label", ServerLabel(server, variant)}, {"color", colors.Of(server)}, {"data", data}});
  }
  return {{"id", id},          {"type", "bar"},    {"title", title},
          {"y_title", metric}, {"labels", groups}, {"datasets", datasets}};
}

bool HasMetric(const std::vector<const Measurement*>& ms, const std::string& metric) {
  return std::any_of(ms.begin(), ms.end(), [&](const Measurement* m) {
    auto it = m->samples.find(metric);
    return it != m->samples.end() && !it->second.empty();
  });
}

// A numeric cell holding `text`, or a dash when there is none.
std::string NumCell(const std::string& text) {
  return "<td class=\"num\">" + (text.empty() ? std::string("&ndash;") : text) + "</td>";
}

std::string Table(const std::vector<const Measurement*>& ms,
                  const std::vector<std::string>& metrics) {
  std::ostringstream h;
  h << "<table><tr><th>measurement</th><th>server</th><th>variant</th>";
  for (const auto& metric : metrics) h << "<th>" << EscapeMarkup(metric) << "</th>";
  h << "</tr>\n";
  for (const auto* m : ms) {
    h << "<tr><td>" << EscapeMarkup(m->key) << "</td><td>" << EscapeMarkup(m->server) << "</td><td>"
      << EscapeMarkup(m->variant) << "</td>";
    if (m->samples.empty() && !m->error.empty()) {
      h << "<td colspan=\"" << std::max<size_t>(metrics.size(), 1)
        << "\">could not run: " << EscapeMarkup(m->error) << "</td></tr>\n";
      continue;
    }
    for (const auto& metric : metrics) {
      auto it = m->samples.find(metric);
      std::string text;
      if (it != m->samples.end() && !it->second.empty()) {
        const Stats s = StatsOf(it->second);
        text = FormatNumber(s.mean);
        if (s.n > 1) {
          text += " &plusmn; " + FormatNumber(s.sd) + " (n=" + std::to_string(s.n) + ")";
        }
      }
      h << NumCell(text);
    }
    h << "</tr>\n";
  }
  h << "</table>\n";
  return h.str();
}

// Charts of `metrics` (those with data), two per row, then the table.
void Section(const std::string& prefix, const std::string& what,
             const std::vector<const Measurement*>& ms, const std::vector<std::string>& metrics,
             Colors& colors, ThroughputHtml& out) {
  std::vector<std::string> present;
  for (const auto& metric : metrics) {
    if (HasMetric(ms, metric)) present.push_back(metric);
  }
  std::ostringstream h;
  h << "<div class=\"grid\">";
  for (size_t i = 0; i < present.size(); ++i) {
    const std::string id = prefix + "-" + std::to_string(i);
    out.charts.push_back(BarChart(id, what + ": " + present[i], present[i], ms, colors));
    h << Placeholder(id);
  }
  h << "</div>\n" << Table(ms, present);
  out.html += h.str();
}

std::string RecoveryText(const json& r) {
  if (!FieldText(r, "error").empty()) return "not injected: " + FieldText(r, "error");
  const double s = FieldNumber(r, "seconds_to_first_ok");
  return std::isnan(s) ? "no successful operation before the job ended" : FormatNumber(s) + " s";
}

// p50 / p99 per procedure of each job on each server (the first of repeated entries): which
// procedure makes a server slow.
std::string ByOpTable(const json& jobs) {
  std::vector<std::string> ops;  // columns, in first-seen order
  std::vector<const json*> rows;
  std::set<std::string> seen;
  for (const auto& j : jobs) {
    if (!j.is_object() || !j.contains("by_op") || !j["by_op"].is_object()) continue;
    if (!seen.insert(FieldText(j, "job") + " on " + FieldText(j, "server")).second) continue;
    rows.push_back(&j);
    for (const auto& [op, v] : j["by_op"].items()) {
      if (std::find(ops.begin(), ops.end(), op) == ops.end()) ops.push_back(op);
    }
  }
  if (rows.empty()) return "";
  std::ostringstream h;
  h << "<h3>Latency by operation</h3><p class=\"note\">p50 / p99 in ms of the successful "
       "operations of each procedure (count in brackets), all clients together.</p>"
       "<table><tr><th>job</th><th>server</th>";
  for (const auto& op : ops) h << "<th>" << EscapeMarkup(op) << "</th>";
  h << "</tr>\n";
  for (const json* j : rows) {
    h << "<tr><td>" << EscapeMarkup(FieldText(*j, "job")) << "</td><td>"
      << EscapeMarkup(FieldText(*j, "server")) << "</td>";
    const json& by_op = (*j)["by_op"];
    for (const auto& op : ops) {
      std::string text;
      if (by_op.contains(op) && by_op[op].is_object()) {
        const json& o = by_op[op];
        text = FormatNumber(FieldNumber(o, "p50_us") / 1000) + " / " +
               FormatNumber(FieldNumber(o, "p99_us") / 1000) + " (" +
               std::to_string(o.value("ops", uint64_t{0})) + ")";
      }
      h << NumCell(text);
    }
    h << "</tr>\n";
  }
  h << "</table>\n";
  return h.str();
}

// Throughput over time: one chart per job, one line per server, the faults of `recovery` as
// markers shaded until the first successful operation after them; then the recovery table.
void Timeline(const json& timeline, const json& recovery,
              const std::map<std::string, std::string>& variants, Colors& colors,
              ThroughputHtml& out) {
  // job -> server -> points, both in first-seen order.
  std::vector<std::pair<std::string, std::vector<std::pair<std::string, json>>>> jobs;
  for (const auto& p : timeline) {
    if (!p.is_object() || std::isnan(FieldNumber(p, "t")) ||
        std::isnan(FieldNumber(p, "ops_per_s"))) {
      continue;
    }
    const std::string job = FieldText(p, "job"), server = FieldText(p, "server");
    auto j = std::find_if(jobs.begin(), jobs.end(), [&](const auto& x) { return x.first == job; });
    if (j == jobs.end()) j = jobs.insert(jobs.end(), {job, {}});
    auto s = std::find_if(j->second.begin(), j->second.end(),
                          [&](const auto& x) { return x.first == server; });
    if (s == j->second.end()) s = j->second.insert(j->second.end(), {server, json::array()});
    s->second.push_back({FieldNumber(p, "t"), FieldNumber(p, "ops_per_s")});
  }
  // Jobs struck by faults get wide charts first; steady-state jobs follow two to a row.
  std::ostringstream faulted, steady;
  for (size_t i = 0; i < jobs.size(); ++i) {
    const auto& [job, series] = jobs[i];
    json datasets = json::array(), markers = json::array();
    for (const auto& [server, points] : series) {
      auto v = variants.find(server);
      datasets.push_back({{"label", ServerLabel(server, v == variants.end() ? "" : v->second)},
                          {"color", colors.Of(server)},
                          {"data", points}});
    }
    for (const auto& r : recovery) {
      if (!r.is_object() || FieldText(r, "job") != job || !FieldText(r, "error").empty() ||
          std::isnan(FieldNumber(r, "t"))) {
        continue;
      }
      const double t = FieldNumber(r, "t"), first_ok = FieldNumber(r, "seconds_to_first_ok");
      json marker = {{"x", t}, {"label", FieldText(r, "fault") + " " + FieldText(r, "server")}};
      if (!std::isnan(first_ok)) marker["until"] = t + first_ok;
      markers.push_back(marker);
    }
    const std::string id = "chart-timeline-" + std::to_string(i);
    const bool struck = !markers.empty();
    out.charts.push_back(
        {{"id", id},
         {"type", "line"},
         {"title",
          job + ": successful ops/s over time" +
              (struck ? " (dashed: faults; shaded: until an operation succeeded again)" : "")},
         {"x_title", "seconds from the job's start"},
         {"y_title", kOpsPerS},
         {"datasets", datasets},
         {"markers", markers}});
    (struck ? faulted : steady) << Placeholder(id, struck);
  }
  if (!faulted.str().empty()) {
    out.html += "<h3>Throughput over time, with faults</h3>\n" + faulted.str();
  }
  if (!recovery.empty()) {
    out.html +=
        "<h3>Time to recover</h3><p class=\"note\">From the start of the fault to the first "
        "successful operation after it, from any client.</p><table><tr><th>job</th><th>server"
        "</th><th>variant</th><th>fault</th><th>at (s)</th><th>injecting took</th><th>first "
        "successful operation after</th></tr>\n";
    for (const auto& r : recovery) {
      if (!r.is_object()) continue;
      out.html += "<tr><td>" + EscapeMarkup(FieldText(r, "job")) + "</td><td>" +
                  EscapeMarkup(FieldText(r, "server")) + "</td><td>" +
                  EscapeMarkup(FieldText(r, "variant")) + "</td><td>" +
                  EscapeMarkup(FieldText(r, "fault")) + "</td><td class=\"num\">" +
                  FormatNumber(FieldNumber(r, "t")) + "</td><td class=\"num\">" +
                  FormatNumber(FieldNumber(r, "fault_seconds")) + " s</td><td class=\"num\">" +
                  EscapeMarkup(RecoveryText(r)) + "</td></tr>\n";
    }
    out.html += "</table>\n";
  }
  if (!steady.str().empty()) {
    out.html += "<h3>Throughput over time</h3>\n<div class=\"grid\">" + steady.str() + "</div>\n";
  }
}

}  // namespace

ThroughputHtml RenderThroughput(const json& results, const std::vector<std::string>& servers) {
  ThroughputHtml out;
  Colors colors(servers);
  const std::vector<Measurement> all = Measurements(results);
  std::vector<const Measurement*> phases, jobs;
  for (const auto& m : all) (m.job ? jobs : phases).push_back(&m);
  out.html += "<h2 id=\"throughput\">Throughput</h2>\n";
  if (!phases.empty()) {
    out.html +=
        "<h3>Per phase</h3><p class=\"note\">Phases are the harness's own load: a server's "
        "scenario cases and the mixed workload with faults.</p>\n";
    Section("chart-phase", "phases", phases, {kOpsPerS, kMBPerS}, colors, out);
  }
  if (!jobs.empty()) {
    out.html += "<h3>Throughput jobs</h3>\n";
    Section("chart-job", "jobs", jobs, {kOpsPerS, kMBPerS, kP50Ms, kP99Ms}, colors, out);
  }
  const json throughput = results.value("throughput", json::object());
  auto list = [&](const char* key) {
    json l = throughput.is_object() ? throughput.value(key, json::array()) : json::array();
    return l.is_array() ? l : json::array();
  };
  out.html += ByOpTable(list("jobs"));
  const json timeline = list("timeline"), recovery = list("recovery");
  std::map<std::string, std::string> variants;
  for (const auto& m : all) {
    if (!m.variant.empty()) variants.emplace(m.server, m.variant);
  }
  Timeline(timeline, recovery, variants, colors, out);
  if (phases.empty() && jobs.empty() && timeline.empty() && recovery.empty()) {
    out.html += "<p class=\"note\">No throughput was measured in this run.</p>\n";
  }
  return out;
}

}  // namespace ovl::report
