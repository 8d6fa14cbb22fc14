// Baselines: known failures, so a run reports them as XFAIL (and a fix of one as XPASS) instead
// of failing every run on a bug already understood. One file per variant,
// baselines/<variant>.txt, one line per known failure:
//
//   <scenario>[@<fault>] [kernel=<release prefix>] [rule=<model rule>[,<rule>...]] [sometimes]:
//       <reason>
//
// A line without @fault covers every fault expansion; kernel= limits it to servers running a
// kernel whose release starts with the prefix (the host kernel for local variants); rule= excuses
// only the model's findings of those rules (the case still fails on any other MUST finding).
// `sometimes` marks a failure that shows only when a fault falls in a window (e.g. a power cut
// within the server's journal commit interval of an acknowledged change, docs/findings.md #6):
// a pass of such a case is a PASS, not an XPASS.
// '#' starts a comment line.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace ovl::runner {

struct BaselineEntry {
  std::string variant;
  std::string scenario;
  std::string fault;               // "" = every fault
  std::string kernel;              // "" = every kernel
  std::vector<std::string> rules;  // empty = every finding
  bool sometimes = false;          // a pass does not mean the bug is fixed
  std::string reason;
  int line = 0;
};

class Baselines {
 public:
  // Reads every baselines/<variant>.txt under `dir` (a missing dir means no baselines); errors
  // name file:line.
  static ovl::Result<Baselines> Load(const std::string& dir);
  // The entry covering this case, if any.
  std::optional<BaselineEntry> Find(const std::string& variant, const std::string& scenario,
                                    const std::string& fault, const std::string& kernel) const;
  const std::vector<BaselineEntry>& entries() const { return entries_; }

 private:
  std::vector<BaselineEntry> entries_;
};

}  // namespace ovl::runner
