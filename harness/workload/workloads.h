// Workloads: every data file a run reads besides its topology (the scenario catalogue, the
// throughput job definitions and the baselines), parsed once, before anything starts, into one
// value that travels with the plan (runner/run_request.h). Nothing later reads these files again,
// so `harness validate` and `run --dry-run` see every error a run would, and a run never creates
// its directory for workloads that turn out to be invalid.
#pragma once

#include <filesystem>
#include <string_view>
#include <vector>

#include "scenario/scenario.h"
#include "throughput/jobs.h"
#include "topology/catalogue.h"
#include "topology/diagnostics.h"
#include "workload/baseline.h"

namespace ovl::workload {

struct WorkloadPaths {
  std::filesystem::path workloads;  // holds scenarios/, fixtures/ and throughput/
  std::filesystem::path baselines;  // holds <variant>.txt; a missing directory means none
};

struct Workloads {
  topology::Catalogue catalogue;              // the headers, for topology validation and the plan
  std::vector<scenario::Scenario> scenarios;  // sorted by id, as catalogue.scenarios
  throughput::JobCatalogue jobs;
  Baselines baselines;

  // The parsed scenario `id`, or null.
  const scenario::Scenario* FindScenario(std::string_view id) const;
};

// Reads and parses one scenario file; its id must be the file's stem.
topology::Checked<scenario::Scenario> ReadScenarioFile(const std::filesystem::path& file);

// Adds `s`, a scenario from outside the catalogue's directory (a generated case of `harness
// explore`, a file of `harness run --scenario`), to w's scenarios and catalogue. EINVAL naming
// the file when the catalogue already has its id.
[[nodiscard]] Status AddScenario(Workloads* w, scenario::Scenario s);

// Reads and parses every file: <workloads>/scenarios/*.yaml (which must exist and hold at least
// one scenario), the names of <workloads>/fixtures/*.yaml, <workloads>/throughput/*.yaml and
// <baselines>/*.txt. A baseline line must name a known variant (its file), scenario and fault
// kind. Returns every diagnostic of every file, each with file:line:column.
topology::Checked<Workloads> LoadWorkloads(const WorkloadPaths& paths);

}  // namespace ovl::workload
