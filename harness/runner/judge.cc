#include "runner/judge.h"

#include <algorithm>

#include "model/model.h"
#include "runner/verdict.h"

namespace ovl::runner {

Judgement JudgeCase(const std::vector<ops::Event>& events) {
  Judgement j;
  auto verdicts = model::Judge(events);
  if (verdicts.empty()) {
    j.unresolved = true;
    j.explanation = "the history holds no case";
    return j;
  }
  const model::CaseVerdict& v = verdicts.front();
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
  return j;
}

void ApplyJudgement(CaseReport& r, const Judgement& j, topology::Expect expect,
                    const Baselines& baselines, const std::string& kernel,
                    const backend::ServerNode& server) {
  auto known = baselines.Find(r.variant, r.scenario, r.fault, kernel);
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
  if (!j.explanation.empty()) r.explanation = j.explanation;
  const Known k = !known ? Known::kNo : known->sometimes ? Known::kSometimes : Known::kAlways;
  r.verdict = j.unresolved ? Verdict::kUnresolved : Decide(j.failed, expect, k);
  if (j.failed) r.log_tail = server.LogTail();
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
