#include "topology/catalogue.h"

#include <algorithm>

namespace ovl::topology {

bool ScenarioInfo::Needs(Need need) const {
  return std::find(needs.begin(), needs.end(), need) != needs.end();
}

const ScenarioInfo* Catalogue::Find(std::string_view id) const {
  auto it = std::find_if(scenarios.begin(), scenarios.end(),
                         [&](const ScenarioInfo& s) { return s.id == id; });
  return it == scenarios.end() ? nullptr : &*it;
}

bool Catalogue::HasFixture(std::string_view name) const {
  return std::find(fixtures.begin(), fixtures.end(), name) != fixtures.end();
}

std::string Catalogue::JoinIds() const {
  std::string out;
  for (const ScenarioInfo& s : scenarios) out += (out.empty() ? "" : ", ") + s.id;
  return out;
}

}  // namespace ovl::topology
