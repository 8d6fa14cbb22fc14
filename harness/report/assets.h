// The fixed parts of report.html: its style sheet and the script that draws the charts.
#pragma once

namespace ovl::report {

// CSS of the page (verdict colors, tables, chart boxes).
extern const char* const kReportStyle;

// Draws every chart listed in <script type="application/json" id="report-charts"> (an array of
// chart specs made by RenderThroughput) into the element with the spec's id, with Chart.js
// inlined before it. Afterwards <body> carries data-charts-expected (specs) and
// data-charts-drawn (charts that rendered and left pixels on their canvas), and
// data-chart-error when something threw: the headless-browser test reads these. It also opens
// the <details> holding the element a #fragment link points at.
extern const char* const kReportScript;

}  // namespace ovl::report
