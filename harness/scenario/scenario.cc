#include "scenario/scenario.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <utility>

#include "ops/fixture_gen.h"
#include "ops/fixture_json.h"
#include "scenario/yaml_json.h"

namespace ovl::scenario {
namespace {

using ops::Kind;

// How a kind names what it acts on (see scenario.h).
enum class Shape { kObject, kEntry, kRename, kLink };

struct KindInfo {
  Shape shape;
  std::set<std::string> extra;  // keys beyond the common ones
  bool saves = false;           // accepts `save`
};

const KindInfo& InfoOf(Kind kind) {
  static const std::map<Kind, KindInfo> kInfo{
      {Kind::kLookup, {Shape::kEntry, {}, true}},
      {Kind::kGetAttr, {Shape::kObject, {}}},
      {Kind::kSetAttr, {Shape::kObject, {"size", "mode"}}},
      {Kind::kRead, {Shape::kObject, {"offset", "count"}}},
      {Kind::kWrite, {Shape::kObject, {"offset", "data", "data_size", "stable"}}},
      {Kind::kCommit, {Shape::kObject, {}}},
      {Kind::kCreate, {Shape::kEntry, {"how", "verifier", "mode"}, true}},
      {Kind::kMkdir, {Shape::kEntry, {"mode"}, true}},
      {Kind::kSymlink, {Shape::kEntry, {"to"}, true}},
      {Kind::kRemove, {Shape::kEntry, {}}},
      {Kind::kRmdir, {Shape::kEntry, {}}},
      {Kind::kRename, {Shape::kRename, {"path2", "var2", "name2"}}},
      {Kind::kLink, {Shape::kLink, {"path2", "var2", "name2"}}},
      {Kind::kReaddir, {Shape::kObject, {"cookie", "resume", "max_entries"}, true}},
      {Kind::kReadlink, {Shape::kObject, {}}},
  };
  return kInfo.at(kind);
}

const std::set<std::string> kCommonKeys{"op",  "client", "check",  "repeat", "path",
                                        "var", "raw",    "mutate", "name"};
const std::set<std::string> kHeaderKeys{"id", "summary", "faults", "needs", "fixture", "steps"};

constexpr uint32_t kDefaultReadCount = 1 << 20;
constexpr uint32_t kMaxRepeat = 100000;

class Errors {
 public:
  explicit Errors(std::string file) : file_(std::move(file)) {}
  void Add(const YAML::Mark& at, const std::string& why) {
    list_.push_back(file_ + ":" + std::to_string(at.line + 1) + ":" +
                    std::to_string(at.column + 1) + ": " + why);
  }
  bool empty() const { return list_.empty(); }
  Status ToStatus() const {
    std::string all;
    for (const std::string& e : list_) all += (all.empty() ? "" : "\n") + e;
    return Status::Error(EINVAL, all);
  }

 private:
  std::string file_;
  std::vector<std::string> list_;
};

// Reads the keys of one step, reporting each problem at the key's position.
class StepReader {
 public:
  StepReader(const YAML::Node& node, Errors* errors) : node_(node), errors_(errors) {}

  bool Has(const char* key) const { return static_cast<bool>(node_[key]); }

  std::string String(const char* key) {
    const YAML::Node v = node_[key];
    if (!v) return "";
    if (!v.IsScalar()) {
      errors_->Add(v.Mark(), std::string(key) + " must be a scalar");
      return "";
    }
    return v.Scalar();
  }

  template <typename T>
  std::optional<T> Number(const char* key, uint64_t max) {
    const YAML::Node v = node_[key];
    if (!v) return std::nullopt;
    std::optional<uint64_t> n = v.IsScalar() ? ParseUnsigned(v.Scalar()) : std::nullopt;
    if (!n || *n > max) {
      errors_->Add(v.Mark(), std::string(key) + " must be an integer in 0.." + std::to_string(max));
      return std::nullopt;
    }
    return static_cast<T>(*n);
  }

  void Error(const char* key, const std::string& why) {
    const YAML::Node v = node_[key];
    errors_->Add(v ? v.Mark() : node_.Mark(), why);
  }
  void Error(const std::string& why) { errors_->Add(node_.Mark(), why); }

  const YAML::Node& node() const { return node_; }

 private:
  // const: yaml-cpp's non-const operator[] adds a missing key to the map, which frees the
  // storage of any walk over that map in progress (ParseStep checks keys while walking them).
  const YAML::Node node_;
  Errors* errors_;
};

// "d/e/f" -> {"d/e", "f"}; "f" -> {"", "f"}.
std::pair<std::string, std::string> SplitPath(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return {"", path};
  return {path.substr(0, slash), path.substr(slash + 1)};
}

// The object a step names with path/var/raw/mutate (suffix "" or "2"); none of them: the root.
ops::Target ObjectTarget(StepReader& r, const std::string& suffix, bool allow_handles) {
  ops::Target t;
  const std::string path_key = "path" + suffix, var_key = "var" + suffix;
  int given = 0;
  if (r.Has(path_key.c_str())) {
    t.path = r.String(path_key.c_str());
    ++given;
  }
  if (r.Has(var_key.c_str())) {
    t.var = r.String(var_key.c_str());
    ++given;
  }
  if (allow_handles && r.Has("raw")) {
    std::optional<std::string> bytes = ops::Unhex(r.String("raw"));
    if (!bytes) r.Error("raw", "raw must be hex");
    t.raw = bytes.value_or("");
    ++given;
  }
  if (allow_handles && r.Has("mutate")) {
    const YAML::Node m = r.node()["mutate"];
    if (!m.IsMap() || !m["var"] || !m["how"] || m.size() != 2) {
      r.Error("mutate", "mutate must be {var: V, how: H}");
    } else {
      t.var = m["var"].Scalar();
      t.mutate = m["how"].Scalar();
      if (!ops::MutateHandle("", t.mutate)) {
        r.Error("mutate", "unknown mutation \"" + t.mutate + "\"");
      }
    }
    ++given;
  }
  if (given > 1)
    r.Error("give one of " + path_key + ", " + var_key + (allow_handles ? ", raw, mutate" : ""));
  return t;
}

// A directory + name, from (path|var, name) or the entry's path alone.
void EntryTarget(StepReader& r, const std::string& suffix, ops::Target* dir, std::string* name) {
  const std::string name_key = "name" + suffix, path_key = "path" + suffix;
  if (r.Has(name_key.c_str())) {
    *dir = ObjectTarget(r, suffix, /*allow_handles=*/false);
    *name = r.String(name_key.c_str());
  } else if (r.Has(path_key.c_str())) {
    if (r.Has(("var" + suffix).c_str())) r.Error("a var needs a " + name_key);
    auto [parent, leaf] = SplitPath(r.String(path_key.c_str()));
    dir->path = parent;
    *name = leaf;
  } else {
    r.Error("needs " + path_key + " (or a dir and " + name_key + ")");
  }
  if (name->empty() || name->find('/') != std::string::npos) r.Error("bad entry name");
}

void ReadOpFields(StepReader& r, const KindInfo& info, StepSpec* s) {
  ops::Op& op = s->op;
  if (info.shape == Shape::kEntry || info.shape == Shape::kRename) {
    if (r.Has("raw") || r.Has("mutate")) r.Error("raw and mutate name objects, not dirs");
  }
  switch (info.shape) {
    case Shape::kObject:
      if (r.Has("name")) r.Error("name", "this op takes no name");
      op.target = ObjectTarget(r, "", /*allow_handles=*/true);
      break;
    case Shape::kEntry:
      EntryTarget(r, "", &op.target, &op.name);
      break;
    case Shape::kRename:
      EntryTarget(r, "", &op.target, &op.name);
      EntryTarget(r, "2", &op.target2, &op.name2);
      break;
    case Shape::kLink:
      if (r.Has("name")) r.Error("name", "link takes the file, then path2 or var2 + name2");
      op.target = ObjectTarget(r, "", /*allow_handles=*/true);
      EntryTarget(r, "2", &op.target2, &op.name2);
      break;
  }
  op.save = r.String("save");
  op.offset = r.Number<uint64_t>("offset", UINT64_MAX / 2).value_or(0);
  op.count = r.Number<uint32_t>("count", UINT32_MAX).value_or(kDefaultReadCount);
  if (op.kind != Kind::kRead) op.count = 0;
  op.size = r.Number<uint64_t>("size", UINT64_MAX / 2);
  op.mode = r.Number<uint32_t>("mode", 07777);
  op.cookie = r.Number<uint64_t>("cookie", UINT64_MAX).value_or(0);
  op.max_entries = r.Number<uint32_t>("max_entries", UINT32_MAX).value_or(0);
  op.resume = r.String("resume");
  op.link_target = r.String("to");
  if (op.kind == Kind::kWrite) {
    op.data = r.String("data");
    s->data_size = r.Number<uint64_t>("data_size", 1ull << 30).value_or(0);
    if (r.Has("data") == r.Has("data_size")) r.Error("write needs data or data_size");
    const std::string stable = r.String("stable");
    if (stable == "unstable") {
      op.stable = ops::Stable::kUnstable;
    } else if (stable == "data_sync") {
      op.stable = ops::Stable::kDataSync;
    } else if (!stable.empty() && stable != "file_sync") {
      r.Error("stable", "stable must be unstable, data_sync or file_sync");
    }
  }
  if (op.kind == Kind::kSetAttr && !op.size && !op.mode) r.Error("setattr needs size or mode");
  if (op.kind == Kind::kSymlink && op.link_target.empty()) r.Error("symlink needs `to`");
  if (op.kind == Kind::kCreate) {
    const std::string how = r.String("how");
    if (how == "unchecked") {
      op.how = ops::CreateHow::kUnchecked;
    } else if (how == "exclusive") {
      op.how = ops::CreateHow::kExclusive;
    } else if (!how.empty() && how != "guarded") {
      r.Error("how", "how must be unchecked, guarded or exclusive");
    }
    const std::optional<std::string> v = ops::Unhex(r.String("verifier"));
    if (op.how == ops::CreateHow::kExclusive && (!v || v->size() != 8)) {
      r.Error("verifier", "an exclusive create needs verifier: 16 hex digits");
    } else if (v && v->size() == 8) {
      std::copy(v->begin(), v->end(), op.verifier.begin());
    }
  }
}

std::optional<StepSpec> ParseStep(const YAML::Node& node, Errors* errors) {
  StepSpec s;
  s.line = node.Mark().line + 1;
  StepReader r(node, errors);
  if (!node.IsMap()) {
    r.Error("a step must be a map");
    return std::nullopt;
  }
  if (r.Has("client")) s.client = r.String("client");
  if (s.client.empty()) r.Error("client", "client must be a name");
  if (r.Has("fault")) {
    const std::string kind = r.String("fault");
    s.is_fault = true;
    s.fault_e = kind == "E";
    if (!s.fault_e) {
      std::optional<FaultKind> k = topology::FromName(topology::kFaultKindNames, kind);
      if (!k)
        r.Error("fault",
                "fault must be E or one of " + topology::JoinNames(topology::kFaultKindNames));
      s.fault = k.value_or(FaultKind::kEvict);
    }
    s.during_next_ms = r.Number<uint32_t>("during_next", 60000).value_or(0);
    for (const auto& kv : node) {
      const std::string key = kv.first.Scalar();
      if (key != "fault" && key != "client" && key != "during_next") {
        r.Error(key.c_str(), "unknown key \"" + key + "\"");
      }
    }
    return s;
  }
  std::optional<Kind> kind = ops::KindFromName(r.String("op"));
  if (!kind) {
    r.Error("op",
            "needs op: one of lookup, getattr, setattr, read, write, commit, create, mkdir, "
            "symlink, remove, rmdir, rename, link, readdir, readlink (or fault:)");
    return std::nullopt;
  }
  s.op.kind = *kind;
  const KindInfo& info = InfoOf(*kind);
  for (const auto& kv : node) {
    const std::string key = kv.first.Scalar();
    const bool ok = kCommonKeys.count(key) || info.extra.count(key) ||
                    (key == "save" && info.saves) || (key == "data_size" && *kind == Kind::kWrite);
    if (!ok) r.Error(key.c_str(), "key \"" + key + "\" does not apply to " + ops::KindName(*kind));
  }
  s.op.client = s.client;
  if (r.Has("check")) {
    if (r.String("check") != "may") r.Error("check", "check must be may");
    s.op.may = true;
  }
  s.repeat = r.Number<uint32_t>("repeat", kMaxRepeat).value_or(1);
  if (s.repeat == 0) r.Error("repeat", "repeat must be at least 1");
  ReadOpFields(r, info, &s);
  if (!s.op.resume.empty() && *kind != Kind::kReaddir) r.Error("resume", "resume is for readdir");
  return s;
}

std::string Substitute(std::string text, uint32_t i) {
  const std::string value = std::to_string(i);
  for (size_t at = text.find("{i}"); at != std::string::npos; at = text.find("{i}", at)) {
    text.replace(at, 3, value);
    at += value.size();
  }
  return text;
}

// The op of repetition `i` of a step.
ops::Op Instance(const StepSpec& s, uint32_t i) {
  ops::Op op = s.op;
  for (std::string* field : {&op.target.path, &op.target.var, &op.target2.path, &op.target2.var,
                             &op.name, &op.name2, &op.save, &op.resume, &op.link_target}) {
    *field = Substitute(*field, i);
  }
  return op;
}

// Every variable must be saved, by the same client, before it is used: variables live in that
// client's agent. Handles and listing positions are separate kinds of variables.
void CheckVariables(const std::vector<StepSpec>& steps, const std::vector<YAML::Node>& nodes,
                    Errors* errors) {
  std::map<std::string, std::set<std::string>> handles, listings;  // client -> names
  for (size_t n = 0; n < steps.size(); ++n) {
    const StepSpec& s = steps[n];
    if (s.is_fault) continue;
    for (uint32_t i = 0; i < s.repeat; ++i) {
      const ops::Op op = Instance(s, i);
      for (const std::string* var : {&op.target.var, &op.target2.var}) {
        if (!var->empty() && !handles[s.client].count(*var)) {
          errors->Add(nodes[n].Mark(), "variable " + *var + " is not held by client " + s.client +
                                           " here (save it in an earlier step)");
        }
      }
      if (!op.resume.empty() && !listings[s.client].count(op.resume)) {
        errors->Add(nodes[n].Mark(), "resume " + op.resume + " names no earlier readdir save");
      }
      if (!op.save.empty())
        (op.kind == Kind::kReaddir ? listings : handles)[s.client].insert(op.save);
    }
  }
}

}  // namespace

ovl::Result<Scenario> ParseScenario(std::string_view text, const std::string& file) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return Status::Error(EINVAL, file + ":" + std::to_string(e.mark.line + 1) + ":" +
                                     std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
  Errors errors(file);
  Scenario s;
  s.file = file;
  if (!root.IsMap()) {
    errors.Add(root.Mark(), "a scenario file is a map");
    return errors.ToStatus();
  }
  for (const auto& kv : root) {
    if (!kHeaderKeys.count(kv.first.Scalar())) {
      errors.Add(kv.first.Mark(), "unknown key \"" + kv.first.Scalar() + "\"");
    }
  }
  if (root["id"] && root["id"].IsScalar()) s.id = root["id"].Scalar();
  if (s.id.empty()) errors.Add(root.Mark(), "needs id");
  if (const YAML::Node fixture = root["fixture"]) {
    s.fixture = YamlToJson(fixture);
    ovl::Result<ops::Fixture> f = ops::FixtureFromJson(s.fixture, 1);
    if (!f.ok()) errors.Add(fixture.Mark(), f.status().message());
  }
  const YAML::Node steps = root["steps"];
  if (!steps || !steps.IsSequence() || steps.size() == 0) {
    errors.Add(steps ? steps.Mark() : root.Mark(), "needs steps: a non-empty list");
    return errors.ToStatus();
  }
  std::vector<YAML::Node> nodes;
  for (const YAML::Node& node : steps) {
    std::optional<StepSpec> step = ParseStep(node, &errors);
    if (!step) continue;
    if (std::find(s.clients.begin(), s.clients.end(), step->client) == s.clients.end()) {
      s.clients.push_back(step->client);
    }
    s.steps.push_back(std::move(*step));
    nodes.push_back(node);
  }
  CheckVariables(s.steps, nodes, &errors);
  for (size_t n = 0; n < s.steps.size(); ++n) {
    if (s.steps[n].during_next_ms > 0 && (n + 1 == s.steps.size() || s.steps[n + 1].is_fault)) {
      errors.Add(nodes[n].Mark(), "during_next needs an op as the next step");
    }
  }
  std::stable_sort(s.clients.begin(), s.clients.end(),
                   [](const std::string& a, const std::string& b) { return a == "A" && b != "A"; });
  if (!errors.empty()) return errors.ToStatus();
  return s;
}

ovl::Result<Scenario> LoadScenario(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return Status::Error(ENOENT, file.string() + ": cannot read");
  std::stringstream text;
  text << in.rdbuf();
  return ParseScenario(text.str(), file.string());
}

ovl::Result<std::vector<Scenario>> LoadScenarios(const std::filesystem::path& workloads_dir) {
  const std::filesystem::path dir = workloads_dir / "scenarios";
  std::error_code ec;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".yaml") files.push_back(entry.path());
  }
  if (ec) return Status::Error(ec.value(), dir.string() + ": " + ec.message());
  std::sort(files.begin(), files.end());
  std::vector<Scenario> out;
  std::string errors;
  for (const std::filesystem::path& f : files) {
    ovl::Result<Scenario> s = LoadScenario(f);
    if (s.ok()) {
      out.push_back(std::move(*s));
    } else {
      errors += (errors.empty() ? "" : "\n") + s.status().message();
    }
  }
  if (!errors.empty()) return Status::Error(EINVAL, errors);
  std::sort(out.begin(), out.end(),
            [](const Scenario& a, const Scenario& b) { return a.id < b.id; });
  return out;
}

ovl::Result<Expansion> Expand(const Scenario& s, std::optional<FaultKind> fault, uint64_t seed) {
  Expansion out;
  OVL_ASSIGN_OR_RETURN(out.fixture, ops::FixtureFromJson(s.fixture, seed));
  uint64_t seq = 0;
  for (size_t n = 0; n < s.steps.size(); ++n) {
    const StepSpec& spec = s.steps[n];
    if (spec.is_fault) {
      if (spec.fault_e && !fault) continue;
      out.steps.push_back({Step::Type::kFault,
                           {},
                           spec.fault_e ? *fault : spec.fault,
                           spec.client,
                           spec.line,
                           spec.during_next_ms});
      continue;
    }
    for (uint32_t i = 0; i < spec.repeat; ++i) {
      Step step{Step::Type::kOp, Instance(spec, i), FaultKind::kEvict, spec.client, spec.line, 0};
      step.op.seq = ++seq;
      step.op.step = static_cast<uint32_t>(n + 1);
      if (spec.data_size > 0) {
        step.op.data = ops::FixtureFileData(
            seed, "step" + std::to_string(n + 1) + "." + std::to_string(i), spec.data_size);
      }
      out.steps.push_back(std::move(step));
    }
  }
  return out;
}

}  // namespace ovl::scenario
