// The bridge from the model (harness/model) to the reports: judges the events of one case.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ops/history.h"

namespace ovl::runner {

struct Judgement {
  bool failed = false;       // a MUST was violated
  bool unresolved = false;   // the model could not decide (e.g. too many unknown outcomes)
  std::string explanation;   // the first MUST finding, or the reason it is unresolved
  nlohmann::json findings = nlohmann::json::array();
};

// Judges the events of one case (history order).
Judgement JudgeCase(const std::vector<ops::Event>& events);

}  // namespace ovl::runner
