// report.html: one self-contained page per run (no network, no file beside it needed): the run
// and its environment, the verdict matrix with every failure's explanation and findings, the
// negative controls, and throughput charts. Chart.js comes from Debian's libjs-chart.js and is
// inlined into the page.
#pragma once

#include <string>

#include "base/status.h"
#include "report/run_data.h"

namespace ovl::report {

// Where Debian's libjs-chart.js installs the library.
inline constexpr const char* kChartJsPath = "/usr/share/javascript/chart.js/chart.min.js";

struct ChartJs {
  std::string source;  // the library's code; empty when it could not be read
  std::string note;    // why it could not be read (empty when it was)
};

// Reads Chart.js from $OVL_CHARTJS, or kChartJsPath when that is unset.
ChartJs LoadChartJs();

// The page of `run`. Every string taken from the run is HTML-escaped. Without Chart.js
// (`chartjs.source` empty) the page says why and still holds every number as a table.
std::string RenderHtmlReport(const RunFiles& run, const ChartJs& chartjs);

// Loads `run_dir` (LoadRunFiles) and Chart.js (LoadChartJs) and renders the page; `note` gets
// ChartJs::note so the caller can warn that the charts will be missing.
Result<std::string> RenderRunDirectory(const std::string& run_dir, std::string* note);

}  // namespace ovl::report
