#include "runner/judge.h"

#include "model/model.h"

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

}  // namespace ovl::runner
