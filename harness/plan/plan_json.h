// The plan as JSON: what `harness run --dry-run --json` writes and what a run records, and the
// byte-exact form in which two plans are compared.
#pragma once

#include <nlohmann/json.hpp>

#include "plan/plan.h"

namespace ovl::plan {

// Keys keep a fixed order (ordered_json), so equal plans dump to identical bytes.
nlohmann::ordered_json ToJson(const Plan& plan);

}  // namespace ovl::plan
