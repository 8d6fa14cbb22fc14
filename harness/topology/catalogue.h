// The scenario catalogue: the headers of workloads/scenarios/<id>.yaml (id, summary, the faults
// the scenario is expanded into, what it needs) and the names of workloads/fixtures/<name>.yaml.
// Scenario files also hold `fixture` and `steps`, which belong to the scenario runner: this
// loader accepts them unread and rejects any other key.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "topology/diagnostics.h"
#include "topology/names.h"

namespace ovl::topology {

struct ScenarioInfo {
  std::string id;
  std::string summary;
  // The faults "after E" expands into: one case per kind; empty = one case without a fault.
  std::vector<FaultKind> faults;
  std::vector<Need> needs;
  std::filesystem::path file;

  bool Needs(Need need) const;
};

struct Catalogue {
  std::vector<ScenarioInfo> scenarios;  // sorted by id
  std::vector<std::string> fixtures;    // sorted

  const ScenarioInfo* Find(std::string_view id) const;
  bool HasFixture(std::string_view name) const;
  // "a, b, c": every scenario id, for error messages.
  std::string JoinIds() const;
};

// Parses one scenario file's header. `file` labels diagnostics; the id must equal `expected_id`
// (the file's stem) so a scenario is found where its id says.
Checked<ScenarioInfo> ParseScenarioHeader(std::string_view text, const std::string& file,
                                          std::string_view expected_id);

// Reads <workloads_dir>/scenarios/*.yaml (which must exist) and the names of
// <workloads_dir>/fixtures/*.yaml (which may not). Collects the errors of every file.
Checked<Catalogue> LoadCatalogue(const std::filesystem::path& workloads_dir);

}  // namespace ovl::topology
