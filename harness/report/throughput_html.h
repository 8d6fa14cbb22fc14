// The throughput part of report.html: charts (as specs for kReportScript) and the same numbers
// as tables, so the page is useful even where the charts cannot draw.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ovl::report {

struct ThroughputHtml {
  std::string html;                                 // the sections, ready for the page
  nlohmann::json charts = nlohmann::json::array();  // one spec per chart placeholder in `html`
};

// From results.json's "throughput" (run_data.h lists the keys): ops/s and MB/s bars per phase
// and server; when jobs are present their ops/s, MB/s and p50/p99 latency bars per server; when a
// timeline is present, throughput over time per job with fault markers and a table of the time
// each server took to recover. Repeated measurements show as their mean (tables add sd and n).
// `servers` fixes each server's color (its position), so a server looks the same in every chart.
ThroughputHtml RenderThroughput(const nlohmann::json& results,
                                const std::vector<std::string>& servers);

}  // namespace ovl::report
