// For the report's tests: synthetic run directories (results.json and manifest.json shaped as the
// runner writes them, plus the throughput keys of run_data.h) and headless Chromium, which loads
// a report.html and gives back the DOM after its scripts ran.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "base/status.h"

namespace ovl::report::testing {

// One case of results.json; `repeat` > 0 appends the "#N" suffix of `harness run --repeat`.
nlohmann::json MakeCase(const std::string& server, const std::string& variant,
                        const std::string& scenario, const std::string& fault,
                        const std::string& verdict, const std::string& explanation = "",
                        int repeat = 0);

// results.json with no cases and no throughput; callers add what a test needs.
nlohmann::json EmptyResults(const std::string& run_id);

// A run with every verdict, a negative control that caught its weakness and one that is blind,
// a flaky repeated case, hostile strings (markup in explanations, findings and logs), phases,
// throughput jobs with latency, and a timeline with faults.
nlohmann::json FullResults();

// manifest.json as the runner writes it, with an accel entry.
nlohmann::json Manifest();

// Creates `dir` and writes results.json (and manifest.json unless it is null) into it.
Status WriteRun(const std::string& dir, const nlohmann::json& results,
                const nlohmann::json& manifest = Manifest());

// Why headless Chromium cannot run here ("" when it can): tried on a trivial page.
std::string ChromiumUnavailable(const std::string& work_dir);

// The DOM of `html_path` after its scripts ran (`chromium --dump-dom`).
Result<std::string> DumpDom(const std::string& html_path, const std::string& work_dir);

// Renders `html_path` into `png_path` at 1400x2000.
Status Screenshot(const std::string& html_path, const std::string& png_path,
                  const std::string& work_dir);

// The integer value of `attribute` on the first element carrying it in `dom`; -1 when absent.
int IntAttribute(const std::string& dom, const std::string& attribute);

}  // namespace ovl::report::testing
