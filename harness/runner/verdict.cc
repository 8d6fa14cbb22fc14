#include "runner/verdict.h"

#include <map>
#include <set>

namespace ovl::runner {

Verdict Decide(bool model_failed, topology::Expect expect, Known known) {
  if (expect == topology::Expect::kFail) return model_failed ? Verdict::kXFail : Verdict::kPass;
  if (known == Known::kAlways) return model_failed ? Verdict::kXFail : Verdict::kXPass;
  if (known == Known::kSometimes) return model_failed ? Verdict::kXFail : Verdict::kPass;
  return model_failed ? Verdict::kFail : Verdict::kPass;
}

std::vector<std::string> BlindControls(const std::vector<CaseReport>& cases) {
  std::vector<std::string> controls;  // in order of first case
  std::map<std::string, bool> ran, failed;
  for (const auto& c : cases) {
    if (c.expect != "fail") continue;
    if (!ran.count(c.server)) controls.push_back(c.server);
    ran[c.server] |= c.verdict == Verdict::kPass || c.verdict == Verdict::kXFail;
    failed[c.server] |= c.verdict == Verdict::kXFail;
  }
  std::vector<std::string> blind;
  for (const std::string& s : controls) {
    if (ran[s] && !failed[s]) blind.push_back(s);
  }
  return blind;
}

int ExitCode(const std::vector<CaseReport>& cases, const std::vector<std::string>& blind) {
  bool failure = !blind.empty(), unresolved = false;
  for (const auto& c : cases) {
    failure |= c.verdict == Verdict::kFail || c.verdict == Verdict::kXPass;
    unresolved |= c.verdict == Verdict::kUnresolved;
  }
  if (failure) return 1;
  return unresolved ? 3 : 0;
}

}  // namespace ovl::runner
