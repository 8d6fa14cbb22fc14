#include "explore/case_doc.h"

#include <algorithm>
#include <map>
#include <set>

namespace ovl::explore {
namespace {

bool PlainSafe(const std::string& s) {
  if (s.empty()) return false;
  static const std::set<std::string> kKeywords = {"true", "false", "null", "yes", "no",
                                                  "on",   "off",   "y",    "n",   "~"};
  std::string lower = s;
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  if (kKeywords.count(lower)) return false;
  if (s.front() == '-' || s.front() == '.') return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.' || c == '/';
  });
}

// A scalar as YAML: names, paths and octal modes plain, other strings JSON-quoted (which YAML
// reads the same), numbers as they are.
std::string Scalar(const Json& v) {
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    return PlainSafe(s) ? s : v.dump();
  }
  if (v.is_object()) {
    std::string out = "{";
    bool first = true;
    for (const auto& [k, x] : v.items()) {
      out += (first ? "" : ", ") + k + ": " + Scalar(x);
      first = false;
    }
    return out + "}";
  }
  if (v.is_array()) {
    std::string out = "[";
    for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + Scalar(v[i]);
    return out + "]";
  }
  return v.dump();
}

bool AnyStep(const CaseDoc& doc, const std::string& key, const std::string& value) {
  return std::any_of(doc.steps.begin(), doc.steps.end(), [&](const Json& s) {
    return s.contains(key) && s[key].is_string() && s[key] == value;
  });
}

// The variables a step uses (var, var2, mutate.var, sweep.var, resume).
std::vector<std::string> Uses(const Json& step) {
  std::vector<std::string> out;
  for (const char* key : {"var", "var2", "resume"}) {
    if (step.contains(key)) out.push_back(step[key].get<std::string>());
  }
  for (const char* key : {"mutate", "sweep"}) {
    if (step.contains(key) && step[key].contains("var")) {
      out.push_back(step[key]["var"].get<std::string>());
    }
  }
  return out;
}

}  // namespace

std::string ToYaml(const CaseDoc& doc) {
  std::string y = "# A generated case (docs/explore.md): an ordinary scenario file.\n";
  y += "id: " + doc.id + "\n";
  y += "summary: " + Json(doc.summary).dump() + "\n";
  y += "faults: []\n";
  std::vector<std::string> needs;
  if (AnyStep(doc, "client", "B")) needs.push_back("two-clients");
  if (std::any_of(doc.steps.begin(), doc.steps.end(),
                  [](const Json& s) { return s.contains("resume") || s.contains("max_entries"); }))
    needs.push_back("raw-nfs");
  y += "needs: [";
  for (size_t i = 0; i < needs.size(); ++i) y += (i ? ", " : "") + needs[i];
  y += "]\n\n";
  for (const std::string& c : doc.comments) y += "# " + c + "\n";
  y += "fixture:\n";
  y += "  layers: " + std::to_string(doc.layers) + "\n";
  y += "  entries:\n";
  if (doc.entries.empty()) y += "    []\n";
  for (const Json& e : doc.entries) y += "    - " + Scalar(e) + "\n";
  y += "steps:\n";
  for (const Json& s : doc.steps) y += "  - " + Scalar(s) + "\n";
  return y;
}

topology::Checked<scenario::Scenario> Parse(const CaseDoc& doc, const std::string& file) {
  return scenario::ParseScenario(ToYaml(doc), file, doc.id);
}

size_t StepCount(const CaseDoc& doc) {
  return doc.steps.size();
}

void DropDangling(CaseDoc* doc) {
  std::map<std::string, std::set<std::string>> saved;  // client -> variables
  std::vector<Json> kept;
  for (Json& step : doc->steps) {
    const std::string client = step.value("client", std::string("A"));
    std::set<std::string>& mine = saved[client];
    const std::vector<std::string> uses = Uses(step);
    if (std::any_of(uses.begin(), uses.end(), [&](const std::string& v) { return !mine.count(v); }))
      continue;
    if (step.contains("save")) mine.insert(step["save"].get<std::string>());
    kept.push_back(std::move(step));
  }
  doc->steps = std::move(kept);

  std::set<std::string> files;  // "<layer>:<path>" of kept file entries
  std::vector<Json> entries;
  for (Json& e : doc->entries) {
    const std::string layer = std::to_string(e.value("layer", 0));
    if (e.contains("file")) files.insert(layer + ":" + e["file"].get<std::string>());
    if (e.contains("hardlink") && !files.count(layer + ":" + e["to"].get<std::string>())) continue;
    entries.push_back(std::move(e));
  }
  doc->entries = std::move(entries);
}

}  // namespace ovl::explore
