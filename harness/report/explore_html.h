// The report's section on a `harness explore` run (results.json "explore", runner/explore.h):
// how many cases were generated, each failure shrunk (where it was found, how long finding and
// shrinking took, the shrunk scenario file and the command that replays it) and the steps on
// which the servers answered differently.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace ovl::report {

// The section's HTML; "" when `results` has no "explore".
std::string ExploreHtml(const nlohmann::json& results);

}  // namespace ovl::report
