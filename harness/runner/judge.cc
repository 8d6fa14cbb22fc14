#include "runner/judge.h"

#include <algorithm>

namespace ovl::runner {

Judgement FromModel(const model::CaseVerdict& v) {
  Judgement j;
  j.failed = v.verdict == model::Verdict::kFail;
  j.unresolved = v.verdict == model::Verdict::kUnresolved;
  j.explanation = v.reason;
  for (const auto& f : v.findings) {
    j.findings.push_back({{"must", f.must},
                          {"seq", f.seq},
                          {"step", f.step},
                          {"client", f.client},
                          {"op", f.op},
                          {"rule", f.rule},
                          {"expected", f.expected},
                          {"got", f.got},
                          {"text", model::FormatFinding(f)}});
  }
  if (v.findings_dropped) j.findings.push_back({{"dropped", v.findings_dropped}});
  if (v.sweep.sent > 0) {
    j.sweep = {
        {"sent", v.sweep.sent}, {"outcomes", v.sweep.outcomes}, {"violations", v.sweep.violations}};
  }
  j.kernel_lines = v.kernel_lines;
  j.kernel_lines_total = v.kernel_lines_total;
  return j;
}

void ApplyJudgement(CaseReport& r, const Judgement& j, const workload::Baselines& baselines) {
  auto known = baselines.Find(r.variant, r.scenario, r.fault, r.kernel, r.server);
  // A baseline limited to some rules covers the case only if every MUST finding is of them.
  if (known && !known->rules.empty() && j.failed) {
    for (const auto& f : j.findings) {
      if (f.value("must", false) && std::find(known->rules.begin(), known->rules.end(),
                                              f.value("rule", "")) == known->rules.end()) {
        known.reset();
        break;
      }
    }
  }
  r.model_failed = j.failed;
  r.findings = j.findings;
  r.sweep = j.sweep;
  r.kernel_lines = j.kernel_lines;
  r.kernel_lines_total = j.kernel_lines_total;
  r.explanation = j.explanation.empty() ? r.note : j.explanation;
  const Known k = !known ? Known::kNo : known->sometimes ? Known::kSometimes : Known::kAlways;
  const topology::Expect expect =
      r.expect == "fail" ? topology::Expect::kFail : topology::Expect::kPass;
  r.verdict = j.unresolved ? Verdict::kUnresolved : Decide(j.failed, expect, k);
  if (!j.failed) r.log_tail.clear();
  if (known) {
    const std::string where = "baselines/" + known->variant + ".txt:" + std::to_string(known->line);
    if (j.failed) {
      r.explanation = "known failure (" + where + ": " + known->reason + "): " + r.explanation;
    } else if (known->sometimes) {
      r.explanation = "a known failure that shows only sometimes (" + where + ") did not show";
    } else {
      r.explanation = "listed as a known failure in " + where + " but passed: remove that line";
    }
  }
}

}  // namespace ovl::runner
