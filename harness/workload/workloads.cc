#include "workload/workloads.h"

#include <algorithm>
#include <system_error>

#include "base/file_text.h"
#include "scenario/mixed.h"
#include "topology/names.h"

namespace ovl::workload {
namespace {

using topology::Diagnostics;

// The files of `dir` ending in `extension`, sorted; an unreadable directory is reported unless
// `may_be_missing` and it does not exist.
std::vector<std::filesystem::path> FilesOf(const std::filesystem::path& dir,
                                           std::string_view extension, bool may_be_missing,
                                           Diagnostics* errors) {
  std::vector<std::filesystem::path> out;
  std::error_code ec;
  if (may_be_missing && !std::filesystem::is_directory(dir, ec)) return out;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() == extension) out.push_back(it->path());
  }
  if (ec)
    errors->push_back(
        {dir.string(), 0, 0, "", "cannot read " + dir.string() + ": " + ec.message()});
  std::sort(out.begin(), out.end());
  return out;
}

void Append(Diagnostics* to, const Diagnostics& from) {
  to->insert(to->end(), from.begin(), from.end());
}

void LoadScenarios(const std::filesystem::path& workloads, Workloads* w, Diagnostics* errors) {
  const std::filesystem::path dir = workloads / "scenarios";
  const size_t errors_before = errors->size();
  for (const std::filesystem::path& file : FilesOf(dir, ".yaml", false, errors)) {
    topology::Checked<scenario::Scenario> s = ReadScenarioFile(file);
    if (!s.ok()) {
      Append(errors, s.errors());
      continue;
    }
    w->scenarios.push_back(std::move(s).value());
    w->catalogue.scenarios.push_back(w->scenarios.back().info);
  }
  if (errors->size() == errors_before && w->scenarios.empty()) {
    errors->push_back({dir.string(), 0, 0, "", "no scenario files (*.yaml) found"});
  }
  for (const std::filesystem::path& file : FilesOf(workloads / "fixtures", ".yaml", true, errors)) {
    w->catalogue.fixtures.push_back(file.stem().string());
  }
}

// A baseline line that names nothing the catalogue knows would never match a case: a typo or a
// stale line, reported where it is written.
void CheckBaseline(const BaselineEntry& e, const std::string& file, const topology::Catalogue& c,
                   Diagnostics* errors) {
  auto bad = [&](const std::string& why) { errors->push_back({file, e.line, e.column, "", why}); };
  if (!topology::FromName(topology::kVariantNames, e.variant)) {
    bad("no variant is named '" + e.variant + "' (expected one of " +
        topology::JoinNames(topology::kVariantNames) + ")");
  }
  if (e.scenario != scenario::kMixedScenario && !c.Find(e.scenario)) {
    bad("no scenario is named '" + e.scenario + "'");
  }
  if (!e.fault.empty() && e.fault != "random" &&
      !topology::FromName(topology::kFaultKindNames, e.fault)) {
    bad("unknown fault '" + e.fault + "' (expected one of " +
        topology::JoinNames(topology::kFaultKindNames) + ")");
  }
}

void LoadBaselines(const std::filesystem::path& dir, Workloads* w, Diagnostics* errors) {
  std::vector<BaselineEntry> all;
  for (const std::filesystem::path& file : FilesOf(dir, ".txt", true, errors)) {
    std::optional<std::string> text = ReadFileText(file.string());
    if (!text) {
      errors->push_back({file.string(), 0, 0, "", "cannot read the file"});
      continue;
    }
    auto entries = ParseBaselineFile(*text, file.string(), file.stem().string());
    if (!entries.ok()) {
      Append(errors, entries.errors());
      continue;
    }
    for (BaselineEntry& e : std::move(entries).value()) {
      CheckBaseline(e, file.string(), w->catalogue, errors);
      all.push_back(std::move(e));
    }
  }
  w->baselines = Baselines(std::move(all));
}

}  // namespace

topology::Checked<scenario::Scenario> ReadScenarioFile(const std::filesystem::path& file) {
  std::optional<std::string> text = ReadFileText(file.string());
  if (!text) return Diagnostics{{file.string(), 0, 0, "", "cannot read the file"}};
  return scenario::ParseScenario(*text, file.string(), file.stem().string());
}

Status AddScenario(Workloads* w, scenario::Scenario s) {
  if (w->catalogue.Find(s.info.id) != nullptr) {
    return Status::Error(EINVAL, s.info.file.string() + ": scenario id " + s.info.id +
                                     " is already in the catalogue");
  }
  w->catalogue.scenarios.push_back(s.info);
  w->scenarios.push_back(std::move(s));
  return Status::Ok();
}

const scenario::Scenario* Workloads::FindScenario(std::string_view id) const {
  auto it = std::find_if(scenarios.begin(), scenarios.end(),
                         [&](const scenario::Scenario& s) { return s.info.id == id; });
  return it == scenarios.end() ? nullptr : &*it;
}

topology::Checked<Workloads> LoadWorkloads(const WorkloadPaths& paths) {
  Workloads w;
  Diagnostics errors;
  LoadScenarios(paths.workloads, &w, &errors);
  topology::Checked<throughput::JobCatalogue> jobs =
      throughput::LoadJobCatalogue(paths.workloads / "throughput");
  if (jobs.ok()) {
    w.jobs = std::move(jobs).value();
  } else {
    Append(&errors, jobs.errors());
  }
  LoadBaselines(paths.baselines, &w, &errors);
  if (!errors.empty()) return errors;
  return w;
}

}  // namespace ovl::workload
