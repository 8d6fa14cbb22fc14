// The bridge from the model (harness/model) to the reports: the model's verdict on one case,
// turned into the reported verdict given the server's expectation and the baselines.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "model/model.h"
#include "runner/verdict.h"
#include "workload/baseline.h"

namespace ovl::runner {

struct Judgement {
  bool failed = false;      // a MUST was violated
  bool unresolved = false;  // the model could not decide (e.g. too many unknown outcomes)
  std::string explanation;  // the first MUST finding, or the reason it is unresolved
  nlohmann::json findings = nlohmann::json::array();
  // The corrupted-handle sweep's counts (model::SweepCounts) as report JSON:
  // {"sent": N, "outcomes": {"BADHANDLE": n, "same-object": n, ...}, "violations": n}; null
  // when the case sent no sweep.
  nlohmann::json sweep;
  std::vector<std::string> kernel_lines;  // model::CaseVerdict's
  uint64_t kernel_lines_total = 0;
};

// The model's verdict on a case, with its findings as report JSON.
Judgement FromModel(const model::CaseVerdict& verdict);

// Fills in a judged case: the model's findings, the verdict given r.expect and the baselines
// (matched on the variant, scenario, fault and r.kernel), and the explanation (r.note unless the
// model or a baseline says more). r.log_tail, the server's log tail when the case ended, is kept
// only when the model found the case failed. The model's kernel lines are kept whatever it found.
void ApplyJudgement(CaseReport& r, const Judgement& j, const workload::Baselines& baselines);

}  // namespace ovl::runner
