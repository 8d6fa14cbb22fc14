// Baselines: known failures, so a run reports them as XFAIL (and a fix of one as XPASS) instead
// of failing every run on a bug already understood. One file per variant,
// baselines/<variant>.txt, one line per known failure:
//
//   <scenario>[@<fault>] [kernel=<release prefix>] [server=<name>[,<name>...]]
//       [rule=<model rule>[,<rule>...]] [sometimes]: <reason>
//
// A line without @fault covers every fault expansion; kernel= limits it to servers running a
// kernel whose release starts with the prefix (the host kernel for local variants); server= to
// the servers of those names (a layer setup only some servers of a variant have); rule= excuses
// only the model's findings of those rules (the case still fails on any other MUST finding).
// `sometimes` marks a failure that shows only when a fault falls in a window (e.g. a power cut
// within the server's journal commit interval of an acknowledged change, docs/findings.md #6):
// a pass of such a case is a PASS, not an XPASS.
// '#' starts a comment line. workload/workloads.h reads the files with the rest of the workload,
// before a run starts, and checks each line's variant, scenario and fault against the catalogue.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "topology/diagnostics.h"

namespace ovl::workload {

struct BaselineEntry {
  std::string variant;
  std::string scenario;
  std::string fault;                 // "" = every fault
  std::string kernel;                // "" = every kernel
  std::vector<std::string> servers;  // empty = every server of the variant
  std::vector<std::string> rules;    // empty = every finding
  bool sometimes = false;            // a pass does not mean the bug is fixed
  std::string reason;
  int line = 0;  // where it is written, for messages and the cross-checks
  int column = 0;
};

// Parses one baselines file, `variant`'s; `file` labels the diagnostics (file:line:column).
topology::Checked<std::vector<BaselineEntry>> ParseBaselineFile(std::string_view text,
                                                                const std::string& file,
                                                                const std::string& variant);

// Every known failure of every variant.
class Baselines {
 public:
  Baselines() = default;
  explicit Baselines(std::vector<BaselineEntry> entries) : entries_(std::move(entries)) {}

  // The entry covering this case, if any. An entry limited to some servers covers only cases
  // of a `server` it names.
  std::optional<BaselineEntry> Find(const std::string& variant, const std::string& scenario,
                                    const std::string& fault, const std::string& kernel,
                                    const std::string& server = "") const;
  const std::vector<BaselineEntry>& entries() const { return entries_; }

 private:
  std::vector<BaselineEntry> entries_;
};

}  // namespace ovl::workload
