#include "scenario/scenario.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "ops/fixture_gen.h"
#include "ops/fixture_json.h"
#include "ops/sweep.h"
#include "scenario/yaml_json.h"
#include "topology/yaml_reader.h"

namespace ovl::scenario {
namespace {

using ops::Kind;

// How a kind names what it acts on (see scenario.h). kOpenFile: open (an object, and the name
// `fd` it is kept open under) and close (only `fd`).
enum class Shape { kObject, kEntry, kRename, kLink, kOpenFile };

struct KindInfo {
  Shape shape;
  std::set<std::string> extra;  // keys beyond the common ones
  bool saves = false;           // accepts `save`
};

const KindInfo& InfoOf(Kind kind) {
  static const std::map<Kind, KindInfo> kInfo{
      {Kind::kLookup, {Shape::kEntry, {"sweep"}, true}},
      {Kind::kGetAttr, {Shape::kObject, {"sweep", "fd"}}},
      {Kind::kSetAttr, {Shape::kObject, {"size", "mode"}}},
      {Kind::kRead, {Shape::kObject, {"offset", "count", "sweep", "fd"}}},
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
      {Kind::kOpen, {Shape::kOpenFile, {"fd"}}},
      {Kind::kClose, {Shape::kOpenFile, {"fd"}}},
  };
  return kInfo.at(kind);
}

const std::set<std::string> kCommonKeys{"op",  "client", "check",  "repeat", "path",
                                        "var", "raw",    "mutate", "name"};

constexpr uint32_t kDefaultReadCount = 1 << 20;
constexpr uint32_t kMaxRepeat = 100000;
// A sweep sends (masks + 1) x the handle's length requests, plus a few: a bound keeps a case
// short (3 masks on a 64-byte handle are ~260).
constexpr size_t kMaxSweepMasks = 8;

// Steps are read with yaml-cpp directly (their keys depend on the op); each problem goes to the
// file's one DiagnosticSink at the node's position, under the step's key path.
class Errors {
 public:
  explicit Errors(topology::DiagnosticSink* sink) : sink_(sink) {}
  void Add(const YAML::Mark& at, const std::string& path, const std::string& why) {
    sink_->Error(topology::ToPos(at, topology::Pos{}), path, why);
  }

 private:
  topology::DiagnosticSink* sink_;
};

// Reads the keys of one step, reporting each problem at the key's position.
class StepReader {
 public:
  StepReader(const YAML::Node& node, std::string path, Errors* errors)
      : node_(node), path_(std::move(path)), errors_(errors) {}

  bool Has(const char* key) const { return static_cast<bool>(node_[key]); }

  std::string String(const char* key) {
    const YAML::Node v = node_[key];
    if (!v) return "";
    if (!v.IsScalar()) {
      errors_->Add(v.Mark(), path_ + "." + key, std::string(key) + " must be a scalar");
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
      errors_->Add(v.Mark(), path_ + "." + key,
                   std::string(key) + " must be an integer in 0.." + std::to_string(max));
      return std::nullopt;
    }
    return static_cast<T>(*n);
  }

  void Error(const char* key, const std::string& why) {
    const YAML::Node v = node_[key];
    errors_->Add(v ? v.Mark() : node_.Mark(), v ? path_ + "." + key : path_, why);
  }
  void Error(const std::string& why) { errors_->Add(node_.Mark(), path_, why); }

  const YAML::Node& node() const { return node_; }

 private:
  // const: yaml-cpp's non-const operator[] adds a missing key to the map, which frees the
  // storage of any walk over that map in progress (ParseStep checks keys while walking them).
  const YAML::Node node_;
  const std::string path_;  // "steps[3]"
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
  if (allow_handles && r.Has("fd")) {
    t.fd = r.String("fd");
    ++given;
  }
  if (given > 1) {
    r.Error("give one of " + path_key + ", " + var_key +
            (allow_handles ? ", raw, mutate, fd" : ""));
  }
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

// `sweep: {var: H, masks: [0x01, ...]}`: H is the object (lookup: the directory) of the op, sent
// corrupted in every way ops::SweepHandle makes.
void ReadSweep(StepReader& r, StepSpec* s) {
  const YAML::Node w = r.node()["sweep"];
  for (const char* key : {"path", "var", "raw", "mutate", "save", "fd"}) {
    if (r.Has(key)) r.Error(key, std::string("a sweep names its handle in sweep.var: no ") + key);
  }
  if (s->op.kind == Kind::kLookup) {
    s->op.name = r.String("name");
    if (s->op.name.empty() || s->op.name.find('/') != std::string::npos) {
      r.Error("a lookup sweep needs a name (no slash)");
    }
  } else if (r.Has("name")) {
    r.Error("name", "this op takes no name");
  }
  if (!w.IsMap() || !w["var"] || !w["var"].IsScalar() || w.size() != (w["masks"] ? 2u : 1u)) {
    r.Error("sweep", "sweep must be {var: V} or {var: V, masks: [0x01, ...]}");
    return;
  }
  s->op.target.var = w["var"].Scalar();
  s->sweep_masks = ops::DefaultSweepMasks();
  const YAML::Node masks = w["masks"];
  if (!masks) return;
  s->sweep_masks.clear();
  bool ok = masks.IsSequence() && masks.size() > 0 && masks.size() <= kMaxSweepMasks;
  for (size_t i = 0; ok && i < masks.size(); ++i) {
    std::optional<uint64_t> m =
        masks[i].IsScalar() ? ParseUnsigned(masks[i].Scalar()) : std::nullopt;
    ok = m && *m >= 1 && *m <= 0xff &&
         std::find(s->sweep_masks.begin(), s->sweep_masks.end(), *m) == s->sweep_masks.end();
    if (ok) s->sweep_masks.push_back(static_cast<uint8_t>(*m));
  }
  if (!ok) {
    r.Error("sweep", "sweep.masks must be 1 to " + std::to_string(kMaxSweepMasks) +
                         " different bytes in 0x01..0xff");
  }
}

void ReadTargets(StepReader& r, const KindInfo& info, StepSpec* s) {
  ops::Op& op = s->op;
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
    case Shape::kOpenFile:
      if (r.Has("name")) r.Error("name", "this op takes no name");
      op.fd = r.String("fd");
      if (op.fd.empty()) r.Error(ops::KindName(op.kind) + " needs fd: the open file's name");
      if (op.kind == Kind::kClose) {
        for (const char* key : {"path", "var", "raw", "mutate"}) {
          if (r.Has(key)) r.Error(key, std::string("close takes only fd: no ") + key);
        }
        break;
      }
      for (const char* key : {"raw", "mutate"}) {
        if (r.Has(key)) r.Error(key, std::string("open takes path or var: no ") + key);
      }
      op.target.path = r.String("path");
      op.target.var = r.String("var");
      if (r.Has("path") == r.Has("var")) r.Error("open needs path or var (one of them)");
      break;
  }
}

void ReadOtherFields(StepReader& r, StepSpec* s) {
  ops::Op& op = s->op;
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

void ReadOpFields(StepReader& r, const KindInfo& info, StepSpec* s) {
  if (info.shape == Shape::kEntry || info.shape == Shape::kRename) {
    if (r.Has("raw") || r.Has("mutate")) r.Error("raw and mutate name objects, not dirs");
  }
  if (r.Has("sweep")) {
    ReadSweep(r, s);
  } else {
    ReadTargets(r, info, s);
  }
  ReadOtherFields(r, s);
}

// {offline: KIND, path: P, path2: P2, stop: clean|crash|E}.
std::optional<StepSpec> ParseOfflineStep(StepReader& r, StepSpec s) {
  const std::string kind_name = r.String("offline");
  const std::optional<ops::OfflineEdit::Kind> kind = ops::OfflineKindFromName(kind_name);
  if (!kind) {
    r.Error("offline", "offline must be one of " + ops::OfflineKindNames());
    return std::nullopt;
  }
  ops::OfflineEdit edit;
  edit.kind = *kind;
  edit.path = r.String("path");
  edit.path2 = r.String("path2");
  const std::string stop = r.Has("stop") ? r.String("stop") : "clean";
  if (stop != "clean" && stop != "crash" && stop != "E") {
    r.Error("stop", "stop must be clean, crash or E");
  }
  edit.crash = stop == "crash";
  s.offline_stop_e = stop == "E";
  for (const char* key : {"path", "path2"}) {
    const bool needed =
        std::string(key) == "path" ? ops::OfflineNeedsPath(*kind) : ops::OfflineNeedsPath2(*kind);
    const std::string& value = std::string(key) == "path" ? edit.path : edit.path2;
    if (needed && !ops::ValidLayerPath(value)) {
      r.Error(key, kind_name + " needs " + key + ": a relative path inside the layers");
    } else if (!needed && r.Has(key)) {
      r.Error(key, kind_name + " takes no " + key);
    }
  }
  for (const auto& kv : r.node()) {
    const std::string key = kv.first.Scalar();
    if (key != "offline" && key != "path" && key != "path2" && key != "stop") {
      r.Error(key.c_str(), "unknown key \"" + key + "\" (an offline step has path, path2, stop)");
    }
  }
  s.offline = edit;
  return s;
}

std::optional<StepSpec> ParseStep(const YAML::Node& node, const std::string& path, Errors* errors) {
  StepSpec s;
  s.line = node.Mark().line + 1;
  StepReader r(node, path, errors);
  if (!node.IsMap()) {
    r.Error("a step must be a map");
    return std::nullopt;
  }
  if (r.Has("client")) s.client = r.String("client");
  if (s.client.empty()) r.Error("client", "client must be a name");
  if (r.Has("offline")) return ParseOfflineStep(r, std::move(s));
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
            "symlink, remove, rmdir, rename, link, readdir, readlink, open, close (or fault:)");
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
  for (std::string* field :
       {&op.target.path, &op.target.var, &op.target2.path, &op.target2.var, &op.name, &op.name2,
        &op.save, &op.resume, &op.link_target, &op.fd, &op.target.fd}) {
    *field = Substitute(*field, i);
  }
  return op;
}

// The header keys (id, summary, faults, needs) through the topology's YAML reader, which also
// rejects keys that are neither header nor body.
template <typename E, size_t N>
std::vector<E> ReadEnumList(const topology::Field& f, topology::DiagnosticSink* sink,
                            std::string_view what, const std::array<topology::Named<E>, N>& table) {
  std::vector<E> out;
  std::optional<std::vector<topology::Field>> items = topology::ReadList(f, sink);
  if (!items) return out;
  for (const topology::Field& item : *items) {
    std::optional<E> e = topology::ReadEnum(item, sink, what, table);
    if (!e) continue;
    if (std::find(out.begin(), out.end(), *e) != out.end()) {
      sink->Error(item.pos, item.path, "listed twice");
      continue;
    }
    out.push_back(*e);
  }
  return out;
}

topology::ScenarioInfo ParseHeader(const YAML::Node& root, std::string_view expected_id,
                                   topology::DiagnosticSink* sink) {
  topology::ScenarioInfo info;
  topology::MapReader m(topology::RootField(root), sink);
  topology::Field id = m.Required("id");
  if (std::optional<std::string> s = id.present() ? ReadString(id, sink) : std::nullopt) {
    info.id = *s;
    if (!expected_id.empty() && info.id != expected_id) {
      sink->Error(id.pos, id.path,
                  "id '" + info.id + "' does not match the file name '" + std::string(expected_id) +
                      ".yaml'");
    }
  }
  topology::Field summary = m.Required("summary");
  if (summary.present()) info.summary = ReadString(summary, sink).value_or("");
  topology::Field faults = m.Required("faults");
  if (faults.present()) {
    info.faults = ReadEnumList(faults, sink, "fault kind", topology::kFaultKindNames);
  }
  topology::Field needs = m.Optional("needs");
  if (needs.present()) info.needs = ReadEnumList(needs, sink, "need", topology::kNeedNames);
  // The body, read below.
  m.Ignore("fixture");
  m.Ignore("steps");
  m.Finish();
  return info;
}

std::string StepPath(size_t n) {
  return "steps[" + std::to_string(n) + "]";
}

// A parsed step's node and key path ("steps[3]": its index among all the steps written).
struct WrittenStep {
  YAML::Node node;
  std::string path;
};

// Every variable must be saved, by the same client, before it is used: variables live in that
// client's agent. Handles and listing positions are separate kinds of variables.
void CheckVariables(const std::vector<StepSpec>& steps, const std::vector<WrittenStep>& written,
                    Errors* errors) {
  std::map<std::string, std::set<std::string>> handles, listings, files;  // client -> names
  for (size_t n = 0; n < steps.size(); ++n) {
    const StepSpec& s = steps[n];
    if (s.is_fault || s.offline) continue;
    for (uint32_t i = 0; i < s.repeat; ++i) {
      const ops::Op op = Instance(s, i);
      for (const std::string* var : {&op.target.var, &op.target2.var}) {
        if (!var->empty() && !handles[s.client].count(*var)) {
          errors->Add(written[n].node.Mark(), written[n].path,
                      "variable " + *var + " is not held by client " + s.client +
                          " here (save it in an earlier step)");
        }
      }
      std::set<std::string>& open = files[s.client];
      const std::string& fd = op.kind == Kind::kClose ? op.fd : op.target.fd;
      if (!fd.empty() && !open.count(fd)) {
        errors->Add(written[n].node.Mark(), written[n].path,
                    "fd " + fd + " is not open in client " + s.client + " here (open it first)");
      }
      if (op.kind == Kind::kOpen && !open.insert(op.fd).second) {
        errors->Add(written[n].node.Mark(), written[n].path,
                    "fd " + op.fd + " is already open in client " + s.client + " (close it first)");
      }
      if (op.kind == Kind::kClose) open.erase(op.fd);
      if (!op.resume.empty() && !listings[s.client].count(op.resume)) {
        errors->Add(written[n].node.Mark(), written[n].path,
                    "resume " + op.resume + " names no earlier readdir save");
      }
      if (!op.save.empty())
        (op.kind == Kind::kReaddir ? listings : handles)[s.client].insert(op.save);
    }
  }
}

}  // namespace

topology::Checked<Scenario> ParseScenario(std::string_view text, const std::string& file,
                                          std::string_view expected_id) {
  topology::DiagnosticSink sink(file);
  std::optional<YAML::Node> root = topology::LoadDocument(text, &sink);
  if (!root) return sink.Take();
  Scenario s;
  s.info = ParseHeader(*root, expected_id, &sink);
  s.info.file = file;
  if (!root->IsMap()) return sink.Take();  // the header's reader said so
  Errors errors(&sink);
  if (const YAML::Node fixture = (*root)["fixture"]) {
    s.fixture = YamlToJson(fixture);
    ovl::Result<ops::Fixture> f = ops::FixtureFromJson(s.fixture, 1);
    // The message names the fixture's own key path ("fixture: entries[0]: ...").
    if (!f.ok()) errors.Add(fixture.Mark(), "", f.status().message());
  }
  const YAML::Node steps = (*root)["steps"];
  if (!steps || !steps.IsSequence() || steps.size() == 0) {
    errors.Add(steps ? steps.Mark() : root->Mark(), "steps", "needs steps: a non-empty list");
    return sink.Take();
  }
  std::vector<WrittenStep> written;  // where each parsed step is
  for (size_t n = 0; n < steps.size(); ++n) {
    const YAML::Node node = steps[n];
    std::optional<StepSpec> step = ParseStep(node, StepPath(n), &errors);
    if (!step) continue;
    if (!step->offline &&
        std::find(s.clients.begin(), s.clients.end(), step->client) == s.clients.end()) {
      s.clients.push_back(step->client);
    }
    s.steps.push_back(std::move(*step));
    written.push_back({node, StepPath(n)});
  }
  CheckVariables(s.steps, written, &errors);
  // A scenario that changes anything needs an upper layer, whether its header says so or not.
  const bool modifies = std::any_of(s.steps.begin(), s.steps.end(), [](const StepSpec& step) {
    return !step.is_fault && ops::Modifies(step.op.kind);
  });
  if (modifies && !s.info.Needs(topology::Need::kUpper))
    s.info.needs.push_back(topology::Need::kUpper);
  const bool opens = std::any_of(s.steps.begin(), s.steps.end(), [](const StepSpec& step) {
    return !step.is_fault && !step.offline && step.op.kind == Kind::kOpen;
  });
  if (opens && !s.info.Needs(topology::Need::kOpenFiles))
    s.info.needs.push_back(topology::Need::kOpenFiles);
  for (size_t n = 0; n < s.steps.size(); ++n) {
    if (s.steps[n].during_next_ms > 0 &&
        (n + 1 == s.steps.size() || s.steps[n + 1].is_fault ||
         !s.steps[n + 1].sweep_masks.empty() || s.steps[n + 1].offline)) {
      errors.Add(written[n].node.Mark(), written[n].path,
                 "during_next needs an op (not a sweep or an offline edit) as the next step");
    }
  }
  std::stable_sort(s.clients.begin(), s.clients.end(),
                   [](const std::string& a, const std::string& b) { return a == "A" && b != "A"; });
  if (!sink.empty()) return sink.Take();
  return s;
}

ovl::Result<Expansion> Expand(const Scenario& s, std::optional<FaultKind> fault, uint64_t seed) {
  Expansion out;
  OVL_ASSIGN_OR_RETURN(out.fixture, ops::FixtureFromJson(s.fixture, seed));
  uint64_t seq = 0;
  for (size_t n = 0; n < s.steps.size(); ++n) {
    const StepSpec& spec = s.steps[n];
    if (spec.offline) {
      Step step;
      step.type = Step::Type::kOffline;
      step.line = spec.line;
      step.offline = *spec.offline;
      if (spec.offline_stop_e) step.offline.crash = fault == FaultKind::kCrash;
      out.steps.push_back(std::move(step));
      continue;
    }
    if (spec.is_fault) {
      if (spec.fault_e && !fault) continue;
      Step step;
      step.type = Step::Type::kFault;
      step.fault = spec.fault_e ? *fault : spec.fault;
      step.client = spec.client;
      step.line = spec.line;
      step.during_next_ms = spec.during_next_ms;
      out.steps.push_back(std::move(step));
      continue;
    }
    for (uint32_t i = 0; i < spec.repeat; ++i) {
      Step step;
      step.type = spec.sweep_masks.empty() ? Step::Type::kOp : Step::Type::kSweep;
      step.op = Instance(spec, i);
      step.client = spec.client;
      step.line = spec.line;
      step.sweep_masks = spec.sweep_masks;
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
