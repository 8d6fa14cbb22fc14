#include "runner/verdict.h"

#include <set>

namespace ovl::runner {

Verdict Decide(bool model_failed, topology::Expect expect, Known known) {
  if (expect == topology::Expect::kFail) return model_failed ? Verdict::kXFail : Verdict::kPass;
  if (known == Known::kAlways) return model_failed ? Verdict::kXFail : Verdict::kXPass;
  if (known == Known::kSometimes) return model_failed ? Verdict::kXFail : Verdict::kPass;
  return model_failed ? Verdict::kFail : Verdict::kPass;
}

std::vector<std::string> BlindControls(const std::vector<CaseReport>& cases,
                                       const topology::Topology& topology) {
  std::vector<std::string> blind;
  for (const auto& server : topology.servers) {
    if (server.expect != topology::Expect::kFail) continue;
    bool ran = false, failed = false;
    for (const auto& c : cases) {
      if (c.server != server.name) continue;
      ran |= c.verdict == Verdict::kPass || c.verdict == Verdict::kXFail;
      failed |= c.verdict == Verdict::kXFail;
    }
    if (ran && !failed) blind.push_back(server.name);
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
