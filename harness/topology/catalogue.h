// The scenario catalogue as topology validation and the plan see it: the headers of
// workloads/scenarios/<id>.yaml (id, summary, the faults the scenario is expanded into, what it
// needs) and the names of workloads/fixtures/<name>.yaml. scenario/scenario.h parses the files;
// workload/workloads.h loads them and builds this value.
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

}  // namespace ovl::topology
