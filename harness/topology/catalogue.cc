#include "topology/catalogue.h"

#include <algorithm>
#include <system_error>

#include "base/file_text.h"
#include "topology/yaml_reader.h"

namespace ovl::topology {
namespace {

// Reads a list of names from `table`, reporting unknown and repeated ones.
template <typename E, size_t N>
std::vector<E> ReadEnumList(const Field& f, DiagnosticSink* sink, std::string_view what,
                            const std::array<Named<E>, N>& table) {
  std::vector<E> out;
  std::optional<std::vector<Field>> items = ReadList(f, sink);
  if (!items) return out;
  for (const Field& item : *items) {
    std::optional<E> e = ReadEnum(item, sink, what, table);
    if (!e) continue;
    if (std::find(out.begin(), out.end(), *e) != out.end()) {
      sink->Error(item.pos, item.path, "listed twice");
      continue;
    }
    out.push_back(*e);
  }
  return out;
}

// The stems of the *.yaml files in `dir`, sorted; reports an unreadable directory.
std::vector<std::filesystem::path> YamlFiles(const std::filesystem::path& dir,
                                             DiagnosticSink* sink) {
  std::vector<std::filesystem::path> out;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() == ".yaml") out.push_back(it->path());
  }
  if (ec) sink->Error(Pos{}, "", "cannot read " + dir.string() + ": " + ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

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

Checked<ScenarioInfo> ParseScenarioHeader(std::string_view text, const std::string& file,
                                          std::string_view expected_id) {
  DiagnosticSink sink(file);
  std::optional<YAML::Node> root = LoadDocument(text, &sink);
  if (!root) return sink.Take();
  ScenarioInfo info;
  MapReader m(RootField(*root), &sink);
  Field id = m.Required("id");
  if (std::optional<std::string> s = id.present() ? ReadString(id, &sink) : std::nullopt) {
    info.id = *s;
    if (info.id != expected_id) {
      sink.Error(id.pos, id.path,
                 "id '" + info.id + "' does not match the file name '" + std::string(expected_id) +
                     ".yaml'");
    }
  }
  Field summary = m.Required("summary");
  if (summary.present()) info.summary = ReadString(summary, &sink).value_or("");
  Field faults = m.Required("faults");
  if (faults.present()) info.faults = ReadEnumList(faults, &sink, "fault kind", kFaultKindNames);
  Field needs = m.Optional("needs");
  if (needs.present()) info.needs = ReadEnumList(needs, &sink, "need", kNeedNames);
  // Owned by the scenario runner.
  m.Ignore("fixture");
  m.Ignore("steps");
  m.Finish();
  if (!sink.empty()) return sink.Take();
  return info;
}

Checked<Catalogue> LoadCatalogue(const std::filesystem::path& workloads_dir) {
  const std::filesystem::path scenarios_dir = workloads_dir / "scenarios";
  DiagnosticSink sink(scenarios_dir.string());
  Catalogue catalogue;
  Diagnostics errors;
  for (const std::filesystem::path& file : YamlFiles(scenarios_dir, &sink)) {
    std::optional<std::string> text = ReadFileText(file.string());
    if (!text) {
      errors.push_back(Diagnostic{file.string(), 0, 0, "", "cannot read the file"});
      continue;
    }
    Checked<ScenarioInfo> info = ParseScenarioHeader(*text, file.string(), file.stem().string());
    if (!info.ok()) {
      errors.insert(errors.end(), info.errors().begin(), info.errors().end());
      continue;
    }
    catalogue.scenarios.push_back(std::move(info).value());
    catalogue.scenarios.back().file = file;
  }
  std::error_code ec;
  if (std::filesystem::is_directory(workloads_dir / "fixtures", ec)) {
    for (const std::filesystem::path& file : YamlFiles(workloads_dir / "fixtures", &sink)) {
      catalogue.fixtures.push_back(file.stem().string());
    }
  }
  if (sink.empty() && errors.empty() && catalogue.scenarios.empty()) {
    sink.Error(Pos{}, "", "no scenario files (*.yaml) found");
  }
  Diagnostics dir_errors = sink.Take();
  errors.insert(errors.begin(), dir_errors.begin(), dir_errors.end());
  if (!errors.empty()) return errors;
  return catalogue;
}

}  // namespace ovl::topology
