// The bridge from the model (harness/model) to the reports: judges the events of one case.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "backend/node.h"
#include "ops/history.h"
#include "runner/baseline.h"
#include "runner/results.h"
#include "topology/topology.h"

namespace ovl::runner {

struct Judgement {
  bool failed = false;      // a MUST was violated
  bool unresolved = false;  // the model could not decide (e.g. too many unknown outcomes)
  std::string explanation;  // the first MUST finding, or the reason it is unresolved
  nlohmann::json findings = nlohmann::json::array();
};

// Judges the events of one case (history order).
Judgement JudgeCase(const std::vector<ops::Event>& events);

// Fills in a judged case: the model's findings, the verdict given the expectation and the
// baselines (matched on the variant, scenario, fault and `kernel`, the server's kernel release),
// and the explanation; a failed case also gets the server's log tail.
void ApplyJudgement(CaseReport& r, const Judgement& j, topology::Expect expect,
                    const Baselines& baselines, const std::string& kernel,
                    const backend::ServerNode& server);

}  // namespace ovl::runner
