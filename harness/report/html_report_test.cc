#include "report/html_report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>

#include "report/explore_html.h"
#include "report/html.h"
#include "report/report_test_util.h"

namespace ovl::report {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

RunFiles Files(json results, json manifest = testing::Manifest()) {
  return {"/tmp/run", std::move(results), std::move(manifest)};
}

const ChartJs kFakeChartJs = {"/*! Chart.js v3.9.1 */ var Chart = function () {}; '</script>';",
                              ""};

// The chart specs embedded in `html`.
json Charts(const std::string& html) {
  const std::string open = "<script type=\"application/json\" id=\"report-charts\">";
  const size_t from = html.find(open) + open.size();
  return json::parse(html.substr(from, html.find("</script>", from) - from));
}

TEST(HtmlEscapeTest, EscapesMarkupAndMasksControlCharacters) {
  EXPECT_EQ(EscapeMarkup("<a href=\"x\">&'</a>\x01\n"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;?\n");
  EXPECT_EQ(ScriptSafe("a('</script>')</b>"), "a('<\\/script>')<\\/b>");
  const json j = {{"s", "</script><b>&"}};
  EXPECT_EQ(JsonForScript(j), "{\"s\":\"\\u003c/script\\u003e\\u003cb\\u003e\\u0026\"}");
  EXPECT_EQ(json::parse(JsonForScript(j)), j);
  EXPECT_EQ(VerdictClass("FAIL"), "v-FAIL");
  EXPECT_EQ(VerdictClass("\" onclick=\""), "v-other");
}

TEST(HtmlReportTest, EveryStringFromTheRunIsEscaped) {
  const std::string html = RenderHtmlReport(Files(testing::FullResults()), kFakeChartJs);
  EXPECT_THAT(html, Not(HasSubstr("<script>alert")));
  EXPECT_THAT(html, Not(HasSubstr("<img src=x")));
  EXPECT_THAT(html, Not(HasSubstr("<b>bold")));
  EXPECT_THAT(html, HasSubstr("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
  EXPECT_THAT(html, HasSubstr("&lt;/pre&gt;&lt;img src=x onerror=alert(1)&gt;"));
  EXPECT_THAT(html, HasSubstr("STALE &amp; &lt;b&gt;bold&lt;/b&gt;"));
  EXPECT_THAT(html, HasSubstr("ci&lt;1&gt;"));
  // Chart.js is inlined, made unable to close its <script> element.
  EXPECT_THAT(html, HasSubstr("'<\\/script>'"));
  // Exactly the page's own script elements: chart data, Chart.js, the drawing script.
  std::regex open("<script[ >]");
  EXPECT_EQ(
      std::distance(std::sregex_iterator(html.begin(), html.end(), open), std::sregex_iterator()),
      3);
}

TEST(HtmlReportTest, HeaderShowsRunAndEnvironment) {
  const std::string html = RenderHtmlReport(Files(testing::FullResults()), kFakeChartJs);
  for (const char* s :
       {"20261125T030000Z-synthetic-s7", "synthetic", "2026-11-25T03:00:00Z", "12 min 34 s",
        "exit code 1: correctness failure", "6.1.0-27-amd64", "libvirtd (libvirt) 9.0.0",
        "QEMU emulator version 7.2.22", "a0d7a821b5f9044d814580649bbe71ade6172aef-dirty",
        "kvm (auto: a probe VM booted under KVM)", "fnv1a64 28d8b1603c5a8733", "Chart.js 3.9.1"}) {
    EXPECT_THAT(html, HasSubstr(s));
  }
  const std::string bare =
      RenderHtmlReport(Files(testing::FullResults(), json::object()), kFakeChartJs);
  EXPECT_THAT(bare, HasSubstr("no manifest.json in the run directory"));
}

TEST(HtmlReportTest, EnvironmentListsEveryLibvirtHostAndWhatRanThere) {
  const std::string html = RenderHtmlReport(Files(testing::FullResults()), kFakeChartJs);
  EXPECT_THAT(html, HasSubstr("libvirt host a</th><td>qemu:///system \u00b7 ci&lt;1&gt; \u00b7 "
                              "libvirt 9.0.0, QEMU 7.2.22 \u00b7 6.1.0-27-amd64 \u00b7 tcg (as "
                              "the topology says) \u00b7 2 CPUs \u00b7 runs: knfsd, kc@knfsd"));
  EXPECT_THAT(html, HasSubstr("libvirt host b</th><td>qemu+ssh://root@b/system \u00b7 b \u00b7 "
                              "runs: reference \u00b7 FAILED: libvirt host b: connection refused"));
  EXPECT_THAT(html, Not(HasSubstr("libvirt_hosts")));
}

TEST(HtmlReportTest, MatrixColorsCellsByWorstVerdictAndLinksExplanations) {
  const std::string html = RenderHtmlReport(Files(testing::FullResults()), kFakeChartJs);
  // copyup-keeps-handle on reference: one FAIL case (the 10th), linked from its cell.
  EXPECT_THAT(html, HasSubstr("<td class=\"v-FAIL\"><a class=\"f badge v-FAIL\" href=\"#case-9\" "
                              "title=\"FAIL: MUST unexpected-error: &lt;script&gt;"));
  EXPECT_THAT(html, HasSubstr("<details id=\"case-9\" open>"));
  // Per-fault verdicts in one cell.
  EXPECT_THAT(html, HasSubstr(">crash XFAIL</a>"));
  EXPECT_THAT(html, HasSubstr(">evict XFAIL</a>"));
  // Repeats that disagree.
  EXPECT_THAT(html, HasSubstr(">evict FAIL PASS</a><span class=\"flaky\""));
  EXPECT_THAT(html, HasSubstr("title=\"a process kill keeps the host page cache\">UNSUPPORTED"));
}

TEST(HtmlReportTest, NegativeControlsAreNamed) {
  const std::string html = RenderHtmlReport(Files(testing::FullResults()), kFakeChartJs);
  EXPECT_THAT(html, HasSubstr("<b>blind-ctl</b> passed every case"));
  EXPECT_THAT(html, HasSubstr("negative control: BLIND"));
  // volatile caught its weakness in its three cases; kernel-overlay's XFAIL is a baseline's.
  EXPECT_THAT(html,
              HasSubstr("<tr><td>volatile</td><td>reference-volatile</td><td "
                        "class=\"num\">3 of 3 cases</td><td>rename-parent</td><td></td></tr>"));
  EXPECT_THAT(html, Not(HasSubstr("<tr><td>kernel-overlay</td><td>kernel-overlay</td><td "
                                  "class=\"num\">")));
  // The mutation score counts the blind control as missed.
  EXPECT_THAT(html, HasSubstr("<b>Mutation score</b>: 1 of 2 negative controls caught (50%)"));
}

TEST(HtmlReportTest, AnExploreRunShowsItsShrunkCasesAndDisagreements) {
  json results = testing::FullResults();
  results["explore"] = {{"seed", 5},
                        {"generated", 40},
                        {"generating_seconds", 12.5},
                        {"budget_seconds", 15},
                        {"shrunk",
                         {{{"server", "volatile"},
                           {"variant", "reference-volatile"},
                           {"case", "volatile/libnfs/gen-5-3"},
                           {"rule", "stale-handle"},
                           {"finding", "MUST <stale>"},
                           {"found_after_seconds", 1.5},
                           {"generated_before", 4},
                           {"steps_before", 30},
                           {"steps_after", 3},
                           {"shrink_seconds", 2.0},
                           {"candidates", 70},
                           {"stopped_early", true},
                           {"file", "explore/gen-5-3-volatile-min.yaml"},
                           {"scenario", "steps:\n  - {op: read, var: <H>}\n"},
                           {"replay", "harness run t.yaml --scenario f --seed 5"},
                           {"replay_verdict", "XFAIL"},
                           {"replay_rule", "stale-handle"}}}},
                        {"disagreements",
                         {{{"scenario", "gen-5-3"},
                           {"step", 7},
                           {"op", "getattr var=H1"},
                           {"answers", {{"reference", "ok"}, {"volatile", "STALE"}}}}}}};
  const std::string html = RenderHtmlReport(Files(results), kFakeChartJs);
  EXPECT_THAT(html, HasSubstr("<h2 id=\"explore\">Generated cases</h2>"));
  EXPECT_THAT(html, HasSubstr("30 &rarr; 3</td>"));
  EXPECT_THAT(html, HasSubstr("70 candidates, stopped early"));
  EXPECT_THAT(html, HasSubstr("var: &lt;H&gt;"));  // the scenario, escaped
  EXPECT_THAT(html, HasSubstr("reference: ok; volatile: STALE"));
  // The negative control's row names the shrunk case that caught it.
  EXPECT_THAT(html, HasSubstr("<td>explore/gen-5-3-volatile-min.yaml (3 steps)</td>"));
  EXPECT_EQ(ExploreHtml(testing::FullResults()), "");
}

TEST(HtmlReportTest, SweepCountsInTheirTableAndTheCaseDetails) {
  json results = testing::EmptyResults("r");
  results["cases"].push_back(
      testing::MakeCase("ref", "reference", "sweep-copied-up", "evict", "FAIL", "MUST x"));
  results["cases"][0]["sweep"] = {
      {"sent", 163}, {"outcomes", {{"BADHANDLE", 160}, {"<wrong>-object", 3}}}, {"violations", 3}};
  results["cases"].push_back(testing::MakeCase("ref", "reference", "plain", "", "PASS"));
  const std::string html = RenderHtmlReport(Files(results), kFakeChartJs);
  EXPECT_THAT(html, HasSubstr("<h2 id=\"sweeps\">Corrupted-handle sweeps</h2>"));
  EXPECT_THAT(html, HasSubstr("<td class=\"num\">163</td><td>&lt;wrong&gt;-object 3, BADHANDLE "
                              "160</td><td class=\"num\">3</td>"));
  EXPECT_THAT(html, HasSubstr("corrupted-handle sweep: 163 handles sent: &lt;wrong&gt;-object 3, "
                              "BADHANDLE 160; 3 violations"));
  EXPECT_THAT(html, Not(HasSubstr("<code>ref/libnfs/plain</code></td>")));
  results["cases"].erase(0);
  EXPECT_THAT(RenderHtmlReport(Files(results), kFakeChartJs), Not(HasSubstr("id=\"sweeps\"")));
}

TEST(HtmlReportTest, KernelLinesAndPassedCasesWithKernelFindings) {
  json r = testing::EmptyResults("kernel");
  json pass = testing::MakeCase("kernel-overlay", "kernel-overlay", "upper-only", "evict", "PASS");
  pass["findings"] = json::array({{{"must", false},
                                   {"rule", "kernel-overlayfs"},
                                   {"expected", "no overlayfs message from the kernel of k"},
                                   {"got", "[ 1.0] overlayfs: <odd> option"}}});
  pass["kernel_lines"] = {"[ 1.0] overlayfs: <odd> option", "[ 2.0] sysrq: Resetting"};
  pass["kernel_lines_total"] = 60;
  r["cases"].push_back(pass);
  r["cases"].push_back(
      testing::MakeCase("kernel-overlay", "kernel-overlay", "upper-only", "crash", "PASS"));
  const std::string html = RenderHtmlReport(Files(r), kFakeChartJs);
  // Only the passed case with a finding of the kernel is listed, folded.
  EXPECT_THAT(html, HasSubstr("Passed with kernel messages (MAY): 1 cases"));
  EXPECT_THAT(html, HasSubstr("upper-only@evict"));
  EXPECT_THAT(html, Not(HasSubstr("upper-only@crash</code>")));
  EXPECT_THAT(html, HasSubstr("kernel log of the server during the case: 60 lines, the first 2"));
  EXPECT_THAT(html, HasSubstr("[ 1.0] overlayfs: &lt;odd&gt; option\n[ 2.0] sysrq: Resetting"));
}

TEST(HtmlReportTest, ChartsForPhasesJobsAndTimeline) {
  const std::string html = RenderHtmlReport(Files(testing::FullResults()), kFakeChartJs);
  const json charts = Charts(html);
  ASSERT_EQ(charts.size(), 2u + 4u + 1u);  // phases ops/MB, jobs ops/MB/p50/p99, one timeline
  for (const auto& c : charts) {
    EXPECT_THAT(html, HasSubstr("id=\"" + c["id"].get<std::string>() + "\"")) << c["id"];
  }
  EXPECT_EQ(charts[0]["labels"], json({"scenarios", "mixed"}));
  EXPECT_EQ(charts[0]["datasets"][0]["label"], "reference");
  // reference's scenario ops/s: the mean of its two repeated rounds (12 ops in 0.05 s each), not
  // the phase's sum over them.
  EXPECT_EQ(charts[0]["datasets"][0]["data"], json({240.0, 198.2}));
  EXPECT_THAT(html, HasSubstr("<td class=\"num\">240.0 &plusmn; 0 (n=2)</td>"));
  EXPECT_EQ(charts[0]["datasets"][1]["data"], json({204.4, nullptr}));
  // Each job in the chart of its unit; repeats chart their mean; microseconds become ms.
  EXPECT_EQ(charts[2]["labels"], json({"metadata-mix"}));
  EXPECT_EQ(charts[2]["datasets"][0]["data"][0], 41150.0);
  EXPECT_EQ(charts[3]["labels"], json({"seq-read"}));
  EXPECT_EQ(charts[4]["y_title"], "p50 ms");
  EXPECT_DOUBLE_EQ(charts[4]["datasets"][0]["data"][1].get<double>(), 0.85);
  // One server keeps its color across charts.
  EXPECT_EQ(charts[0]["datasets"][0]["color"], charts[2]["datasets"][0]["color"]);
  EXPECT_THAT(html, HasSubstr("41150 &plusmn; 212.1 (n=2)"));
  EXPECT_THAT(html, HasSubstr("could not run: needs root for &lt;the layers&gt;"));
  // Latency by operation: a column per procedure, the first of repeated entries.
  EXPECT_THAT(html, HasSubstr("<th>getattr</th><th>readdirplus</th>"));
  EXPECT_THAT(html, HasSubstr("<td>metadata-mix</td><td>reference</td><td class=\"num\">0.15 / "
                              "0.9 (900)</td><td class=\"num\">4.00 / 9.00 (20)</td>"));

  const json& timeline = charts[6];
  EXPECT_EQ(timeline["type"], "line");
  EXPECT_EQ(timeline["datasets"].size(), 2u);
  EXPECT_EQ(timeline["datasets"][0]["label"], "reference");
  EXPECT_EQ(timeline["datasets"][0]["data"].size(), 61u);
  EXPECT_EQ(timeline["datasets"][0]["data"][20], json({20, 0}));
  // Faults that were injected; the shade ends at the first successful operation.
  ASSERT_EQ(timeline["markers"].size(), 3u);
  EXPECT_EQ(timeline["markers"][0],
            json({{"x", 20}, {"label", "crash reference"}, {"until", 23.0}}));
  EXPECT_EQ(timeline["markers"][2], json({{"x", 45}, {"label", "evict ganesha"}}));
  EXPECT_THAT(html, HasSubstr("<td>crash</td><td class=\"num\">20.00</td><td class=\"num\">0.4 "
                              "s</td><td class=\"num\">5.00 s"));
  EXPECT_THAT(html, HasSubstr("no successful operation before the job ended"));
  EXPECT_THAT(html, HasSubstr("not injected: SIGTERM: no such process"));
}

TEST(HtmlReportTest, WorksWithoutThroughputOrChartJs) {
  json r = testing::EmptyResults("r1");
  r["cases"].push_back(testing::MakeCase("reference", "reference", "rename-file", "", "PASS"));
  r.erase("throughput");
  const std::string html = RenderHtmlReport(Files(r), kFakeChartJs);
  EXPECT_THAT(html, HasSubstr("No throughput was measured in this run."));
  EXPECT_THAT(html, HasSubstr("No FAIL, XPASS or UNRESOLVED case."));
  EXPECT_THAT(html, HasSubstr("No negative control in this run."));
  EXPECT_EQ(Charts(html), json::array());

  const ChartJs missing = {"", "Chart.js not found at /nowhere (Debian package libjs-chart.js)"};
  const std::string plain = RenderHtmlReport(Files(testing::FullResults()), missing);
  EXPECT_THAT(plain, HasSubstr("Charts are missing: Chart.js not found at /nowhere"));
  EXPECT_THAT(plain, Not(HasSubstr("Chart.js v3")));
  EXPECT_THAT(plain, HasSubstr("<table><tr><th>measurement</th>"));
}

TEST(HtmlReportTest, ChartJsComesFromTheEnvironmentOrDebian) {
  setenv("OVL_CHARTJS", "/nonexistent/chart.min.js", 1);
  const ChartJs missing = LoadChartJs();
  EXPECT_TRUE(missing.source.empty());
  EXPECT_THAT(missing.note, HasSubstr("/nonexistent/chart.min.js"));
  unsetenv("OVL_CHARTJS");
  const ChartJs debian = LoadChartJs();
  EXPECT_TRUE(debian.note.empty()) << debian.note << " (scripts/install-deps installs it)";
  EXPECT_THAT(debian.source, HasSubstr("Chart.js v"));
}

TEST(HtmlReportTest, RunDirectoryErrorsNameTheFile) {
  std::string note;
  auto r = RenderRunDirectory("/nonexistent/run", &note);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("/nonexistent/run/results.json"));
}

}  // namespace
}  // namespace ovl::report
