#include "explore/generator.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "base/prng.h"

namespace ovl::explore {
namespace {

using topology::FaultKind;

// The generator's view of the merged namespace: every visible path with its object, so that
// hard links share one, and the variables each client holds by object.
class Tree {
 public:
  struct Obj {
    bool dir = false;
    uint64_t size = 0;
    std::set<std::string> names;  // visible paths
  };

  int Add(const std::string& path, bool dir, uint64_t size) {
    objs_.push_back({dir, size, {path}});
    paths_[path] = static_cast<int>(objs_.size() - 1);
    return paths_[path];
  }
  void AddName(int obj, const std::string& path) {
    objs_[obj].names.insert(path);
    paths_[path] = obj;
  }
  void Remove(const std::string& path) {
    auto it = paths_.find(path);
    if (it == paths_.end()) return;
    objs_[it->second].names.erase(path);
    paths_.erase(it);
  }
  void RemoveTree(const std::string& top) {
    std::vector<std::string> below;
    for (const auto& [p, o] : paths_)
      if (p == top || p.rfind(top + "/", 0) == 0) below.push_back(p);
    for (const std::string& p : below) Remove(p);
  }
  // Renames `from` (and, for a dir, everything below it) to `to`, replacing what `to` named.
  void Rename(const std::string& from, const std::string& to) {
    Remove(to);
    std::vector<std::pair<std::string, int>> moved;
    for (auto it = paths_.begin(); it != paths_.end();) {
      if (it->first == from || it->first.rfind(from + "/", 0) == 0) {
        moved.emplace_back(to + it->first.substr(from.size()), it->second);
        objs_[it->second].names.erase(it->first);
        it = paths_.erase(it);
      } else {
        ++it;
      }
    }
    for (const auto& [p, o] : moved) AddName(o, p);
  }

  std::optional<int> At(const std::string& path) const {
    auto it = paths_.find(path);
    return it == paths_.end() ? std::nullopt : std::optional<int>(it->second);
  }
  const Obj& obj(int o) const { return objs_[o]; }
  Obj& obj(int o) { return objs_[o]; }
  bool Alive(int o) const { return !objs_[o].names.empty(); }
  std::string PathOf(int o) const { return *objs_[o].names.begin(); }

  // Visible paths of files (dir = false) or dirs (dir = true, the root "" included).
  std::vector<std::string> Paths(bool dir) const {
    std::vector<std::string> out;
    if (dir) out.push_back("");
    for (const auto& [p, o] : paths_) {
      if (objs_[o].dir == dir) out.push_back(p);
    }
    return out;
  }
  std::vector<std::string> Children(const std::string& dir) const {
    std::vector<std::string> out;
    const std::string prefix = dir.empty() ? "" : dir + "/";
    for (const auto& [p, o] : paths_) {
      if (p.rfind(prefix, 0) == 0 && p.find('/', prefix.size()) == std::string::npos && p != dir)
        out.push_back(p);
    }
    return out;
  }

 private:
  std::vector<Obj> objs_;
  std::map<std::string, int> paths_;
};

std::string Join(const std::string& dir, const std::string& name) {
  return dir.empty() ? name : dir + "/" + name;
}

std::string Parent(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash);
}

std::string FaultName(FaultKind kind) {
  return topology::NameString(topology::kFaultKindNames, kind);
}

class Generator {
 public:
  Generator(const GeneratorOptions& o, uint64_t seed, uint64_t index)
      : o_(o), rng_(seed, "explore/" + std::to_string(index)) {
    doc_.id = "gen-" + std::to_string(seed) + "-" + std::to_string(index);
    doc_.summary = "Generated case " + std::to_string(index) + " of seed " + std::to_string(seed);
    doc_.comments = {"Made by `harness explore --seed " + std::to_string(seed) + "` (case " +
                     std::to_string(index) + "); replay: harness run TOPOLOGY --scenario FILE."};
    paging_ = o_.raw_nfs && rng_.Percent(50);
  }

  CaseDoc Make() {
    MakeFixture();
    for (uint32_t i = 0; i < o_.steps; ++i) {
      if (!o_.faults.empty() && i > 0 && rng_.Percent(o_.fault_percent)) {
        AddFault();
        continue;
      }
      client_ = o_.two_clients && rng_.Percent(25) ? "B" : "A";
      if (std::optional<Json> step = Draw()) Add(std::move(*step));
    }
    // A last look at every handle held, so that what a late step broke is seen.
    for (const auto& [client, vars] : vars_) {
      client_ = client;
      for (const auto& [var, obj] : vars) Add(Check(var, obj));
    }
    return std::move(doc_);
  }

 private:
  void MakeFixture() {
    doc_.layers = std::max(1, o_.layers);
    std::vector<std::string> dirs;
    for (uint32_t d = 0; d < o_.dirs; ++d) {
      // d0, d0/d1 (so a grandparent exists), then beside or below the first.
      const std::string parent = d == 0 ? "" : dirs[d == 1 ? 0 : rng_.Below(dirs.size())];
      dirs.push_back(
          Join(d == 1 ? dirs[0] : (rng_.Percent(50) ? parent : ""), "d" + std::to_string(d)));
      doc_.entries.push_back(Json{{"dir", dirs.back()}});
      lower_[dirs.back()] = tree_.Add(dirs.back(), true, 0);
    }
    std::vector<std::pair<std::string, int>> files;  // path, layer
    for (uint32_t f = 0; f < o_.files; ++f) {
      const std::string dir = dirs.empty() || rng_.Percent(15) ? "" : dirs[rng_.Below(dirs.size())];
      const std::string path = Join(dir, "f" + std::to_string(f));
      const int layer = static_cast<int>(rng_.Below(doc_.layers));
      const uint64_t size = Size();
      Json e{{"file", path}, {"size", size}};
      if (layer > 0) e["layer"] = layer;
      doc_.entries.push_back(std::move(e));
      lower_[path] = tree_.Add(path, false, size);
      files.emplace_back(path, layer);
    }
    for (uint32_t h = 0; h < o_.hardlinks && !files.empty(); ++h) {
      const auto& [to, layer] = files[rng_.Below(files.size())];
      const std::string dir = dirs.empty() ? "" : dirs[rng_.Below(dirs.size())];
      const std::string path = Join(dir, "h" + std::to_string(h));
      Json e{{"hardlink", path}, {"to", to}};
      if (layer > 0) e["layer"] = layer;
      doc_.entries.push_back(std::move(e));
      tree_.AddName(*tree_.At(to), path);
      lower_[path] = *tree_.At(to);
    }
  }

  uint64_t Size() {
    // Half small, some a few blocks with a partial last one: copy-up must keep every byte.
    return rng_.Percent(50) ? rng_.Below(512) : rng_.Below(o_.max_size + 1);
  }

  void AddFault() {
    if (rng_.Percent(o_.offline_percent)) {
      if (std::optional<Json> edit = Offline()) {
        Add(std::move(*edit));
        listings_.clear();
        return;
      }
    }
    const FaultKind kind = o_.faults[rng_.Below(o_.faults.size())];
    Json f{{"fault", FaultName(kind)}};
    if (kind == FaultKind::kClientEvict)
      f["client"] = o_.two_clients && rng_.Percent(30) ? "B" : "A";
    Add(std::move(f));
    listings_.clear();  // a resumed listing across a restart is readdir-cookies' job
  }

  void Add(Json step) {
    if (client_ != "A" && step.contains("op")) step["client"] = client_;
    doc_.steps.push_back(std::move(step));
  }

  // An edit of the layers while the server is down, of a kind and on paths the model can
  // follow (harness/model/offline.cc): the lower paths it renames or removes still show in the
  // union where they are and nothing below them was copied up; lower_ holds the lower layers'
  // paths as edited so far, touched_ what a step copied up. No remove-upper: where a copy-up
  // through a held handle put the copy (ovlnfsd keeps some in its index only) is not the
  // generator's to know, and the catalogue's offline-remove-upper covers it.
  std::optional<Json> Offline() {
    std::vector<std::string> untouched, shown_dirs, shown_files;
    for (const auto& [path, o] : lower_) {
      if (!Shown(path)) continue;
      (tree_.obj(o).dir ? shown_dirs : shown_files).push_back(path);
      if (Untouched(path)) untouched.push_back(path);
    }
    Json edit;
    switch (rng_.Below(4)) {
      case 0:  // merge dirs without index entries, as before nfs_export was on (overlay/054)
        if (shown_dirs.empty()) return std::nullopt;
        edit = Json{{"offline", "copy-up-unindexed"}, {"path", Pick(shown_dirs)}};
        for (std::string p = edit["path"]; !p.empty(); p = Parent(p)) touched_.insert(lower_[p]);
        break;
      case 1: {
        if (untouched.empty()) return std::nullopt;
        const std::string from = Pick(untouched);
        const std::string to = Join(Parent(from), NewName("o"));
        edit = Json{{"offline", "rename-lower"}, {"path", from}, {"path2", to}};
        MoveLower(from, to);
        break;
      }
      case 2: {
        if (untouched.empty()) return std::nullopt;
        const std::string path = Pick(untouched);
        edit = Json{{"offline", "remove-lower"}, {"path", path}};
        MoveLower(path, "");
        break;
      }
      default: {
        if (shown_files.empty()) return std::nullopt;
        const std::string from = Pick(shown_files);
        const std::string to = Join(Parent(from), NewName("k"));
        edit = Json{{"offline", "link-lower"}, {"path", from}, {"path2", to}};
        lower_[to] = lower_[from];
        tree_.AddName(lower_[from], to);
        break;
      }
    }
    if (rng_.Percent(50)) edit["stop"] = "crash";
    return edit;
  }

  // Whether the union shows the lower `path`, and each of its ancestors, where it is.
  bool Shown(const std::string& path) const {
    for (std::string p = path; !p.empty(); p = Parent(p)) {
      auto it = lower_.find(p);
      if (it == lower_.end() || tree_.At(p) != it->second) return false;
    }
    return true;
  }

  // Whether `path` and every lower path below it are shown and none was copied up.
  bool Untouched(const std::string& path) const {
    for (const auto& [p, o] : lower_) {
      if ((p == path || p.rfind(path + "/", 0) == 0) && (!Shown(p) || touched_.count(o)))
        return false;
    }
    return true;
  }

  // The object at `path` and its ancestors are copied up by a change there.
  void Touch(const std::string& path) {
    for (std::string p = path; !p.empty(); p = Parent(p))
      if (std::optional<int> o = tree_.At(p)) touched_.insert(*o);
  }

  // Moves (to == "": removes) a lower path and what is below it, in the lower layers and in the
  // union, which shows them there.
  void MoveLower(const std::string& from, const std::string& to) {
    std::map<std::string, int> moved;
    for (auto it = lower_.begin(); it != lower_.end();) {
      if (it->first == from || it->first.rfind(from + "/", 0) == 0) {
        if (!to.empty()) moved[to + it->first.substr(from.size())] = it->second;
        it = lower_.erase(it);
      } else {
        ++it;
      }
    }
    lower_.insert(moved.begin(), moved.end());
    if (to.empty()) {
      tree_.RemoveTree(from);
    } else {
      tree_.Rename(from, to);
    }
  }

  std::optional<Json> Draw() {
    // Weights: handles held and looked at most, then what changes them.
    static constexpr struct {
      int weight;
      std::optional<Json> (Generator::*make)();
    } kChoices[] = {
        {14, &Generator::Hold},      {16, &Generator::CheckHeld},   {6, &Generator::LookupPath},
        {8, &Generator::Write},      {5, &Generator::SetAttr},      {8, &Generator::RenameFile},
        {6, &Generator::RenameDir},  {4, &Generator::Link},         {6, &Generator::RemoveFile},
        {3, &Generator::Create},     {3, &Generator::Mkdir},        {2, &Generator::Rmdir},
        {4, &Generator::Readdir},    {2, &Generator::ReplayCreate}, {3, &Generator::Commit},
        {2, &Generator::CreateMany}, {1, &Generator::Corrupt},
    };
    int total = 0;
    for (const auto& c : kChoices) total += c.weight;
    int pick = static_cast<int>(rng_.Below(total));
    for (const auto& c : kChoices) {
      if (pick < c.weight) {
        if (std::optional<Json> s = (this->*c.make)()) return s;
        return Hold();
      }
      pick -= c.weight;
    }
    return std::nullopt;
  }

  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[rng_.Below(v.size())];
  }

  std::string NewName(const char* prefix) { return prefix + std::to_string(++names_); }

  std::optional<Json> Hold() {
    std::vector<std::string> paths = tree_.Paths(false);
    for (const std::string& d : tree_.Paths(true))
      if (!d.empty()) paths.push_back(d);
    if (paths.empty()) return std::nullopt;
    const std::string path = Pick(paths);
    const std::string var = (client_ == "A" ? "H" : "G") + std::to_string(++vars_count_);
    vars_[client_][var] = *tree_.At(path);
    return Json{{"op", "lookup"}, {"path", path}, {"save", var}};
  }

  Json Check(const std::string& var, int obj) {
    if (!tree_.obj(obj).dir) {
      return rng_.Percent(60) ? Json{{"op", "read"}, {"var", var}}
                              : Json{{"op", "getattr"}, {"var", var}};
    }
    if (tree_.Alive(obj)) {
      const std::vector<std::string> kids = tree_.Children(tree_.PathOf(obj));
      if (!kids.empty() && rng_.Percent(60)) {
        const std::string kid = Pick(kids);
        return Json{{"op", "lookup"}, {"var", var}, {"name", kid.substr(kid.rfind('/') + 1)}};
      }
    }
    return Json{{"op", "getattr"}, {"var", var}};
  }

  std::optional<Json> CheckHeld() {
    const auto& mine = vars_[client_];
    if (mine.empty()) return std::nullopt;
    auto it = mine.begin();
    std::advance(it, rng_.Below(mine.size()));
    return Check(it->first, it->second);
  }

  std::optional<Json> LookupPath() {
    const std::vector<std::string> files = tree_.Paths(false);
    if (files.empty()) return std::nullopt;
    const std::string path = Pick(files);
    return rng_.Percent(50) ? Json{{"op", "read"}, {"path", path}}
                            : Json{{"op", "lookup"}, {"path", path}};
  }

  // A live file, by a variable of this client that holds it (which reaches it through its
  // handle, the point of the copy-up cases) or by path.
  Json FileTarget(Json step, int* obj) {
    std::vector<std::pair<std::string, int>> held;
    for (const auto& [var, o] : vars_[client_])
      if (!tree_.obj(o).dir && tree_.Alive(o)) held.emplace_back(var, o);
    if (!held.empty() && rng_.Percent(60)) {
      const auto& [var, o] = Pick(held);
      step["var"] = var;
      *obj = o;
    } else {
      const std::string path = Pick(tree_.Paths(false));
      step["path"] = path;
      *obj = *tree_.At(path);
    }
    return step;
  }

  std::optional<Json> Write() {
    if (tree_.Paths(false).empty()) return std::nullopt;
    int obj = 0;
    Json step = FileTarget(Json{{"op", "write"}}, &obj);
    Tree::Obj& o = tree_.obj(obj);
    const uint64_t offset = rng_.Below(o.size + 1);
    const uint64_t size = 1 + rng_.Below(4096);
    step["offset"] = offset;
    step["data_size"] = size;
    if (rng_.Percent(25)) {
      step["stable"] = "unstable";
      unstable_.insert(obj);
    }
    o.size = std::max(o.size, offset + size);
    Touch(tree_.PathOf(obj));
    return step;
  }

  std::optional<Json> SetAttr() {
    if (tree_.Paths(false).empty()) return std::nullopt;
    int obj = 0;
    Json step = FileTarget(Json{{"op", "setattr"}}, &obj);
    Touch(tree_.PathOf(obj));
    if (rng_.Percent(30)) {
      tree_.obj(obj).size = rng_.Below(tree_.obj(obj).size + 1);
      step["size"] = tree_.obj(obj).size;
    } else {
      step["mode"] = rng_.Percent(50) ? "0600" : "0640";
    }
    return step;
  }

  std::optional<Json> RenameFile() {
    const std::vector<std::string> files = tree_.Paths(false);
    if (files.empty()) return std::nullopt;
    const std::string from = Pick(files);
    const std::string dir = rng_.Percent(50) ? Parent(from) : Pick(tree_.Paths(true));
    std::string to = Join(dir, NewName("r"));
    // Sometimes over another file, whose handle must then go stale with its last name.
    std::vector<std::string> others;
    for (const std::string& c : tree_.Children(dir))
      if (c != from && !tree_.obj(*tree_.At(c)).dir) others.push_back(c);
    if (!others.empty() && rng_.Percent(15)) to = Pick(others);
    if (*tree_.At(from) == tree_.At(to).value_or(-1)) return std::nullopt;  // same file
    Touch(from);
    Touch(to);
    Touch(Parent(to));
    tree_.Rename(from, to);
    return Json{{"op", "rename"}, {"path", from}, {"path2", to}};
  }

  std::optional<Json> RenameDir() {
    // Prefer a parent or grandparent of something held.
    std::vector<std::string> dirs;
    for (const auto& [var, o] : vars_[client_]) {
      if (!tree_.Alive(o)) continue;
      for (std::string p = Parent(tree_.PathOf(o)); !p.empty(); p = Parent(p)) dirs.push_back(p);
    }
    if (dirs.empty() || rng_.Percent(30)) {
      for (const std::string& d : tree_.Paths(true))
        if (!d.empty()) dirs.push_back(d);
    }
    if (dirs.empty()) return std::nullopt;
    const std::string from = Pick(dirs);
    std::vector<std::string> targets;  // dirs not inside `from`
    for (const std::string& d : tree_.Paths(true))
      if (d != from && d.rfind(from + "/", 0) != 0) targets.push_back(d);
    const std::string dir = rng_.Percent(60) ? Parent(from) : Pick(targets);
    const std::string to = Join(dir, NewName("q"));
    Touch(from);
    Touch(Parent(to));
    tree_.Rename(from, to);
    return Json{{"op", "rename"}, {"path", from}, {"path2", to}};
  }

  std::optional<Json> Link() {
    const std::vector<std::string> files = tree_.Paths(false);
    if (files.empty()) return std::nullopt;
    const std::string from = Pick(files);
    const std::string to = Join(Pick(tree_.Paths(true)), NewName("l"));
    Touch(from);
    Touch(Parent(to));
    tree_.AddName(*tree_.At(from), to);
    return Json{{"op", "link"}, {"path", from}, {"path2", to}};
  }

  std::optional<Json> RemoveFile() {
    std::vector<std::string> files = tree_.Paths(false);
    if (files.empty()) return std::nullopt;
    if (std::optional<std::string> listed = Listed()) {
      std::vector<std::string> there;
      for (const std::string& f : tree_.Children(*listed))
        if (!tree_.obj(*tree_.At(f)).dir) there.push_back(f);
      if (!there.empty()) files = there;
    }
    const std::string path = Pick(files);
    Touch(path);
    tree_.Remove(path);
    removed_any_ = true;
    return Json{{"op", "remove"}, {"path", path}};
  }

  // A create, exclusive a third of the time: its verifier is kept so that a later step can
  // replay it, as a client does whose reply was lost.
  std::optional<Json> Create() {
    const std::string path = Join(Listed().value_or(Pick(tree_.Paths(true))), NewName("c"));
    Touch(Parent(path));
    const int obj = tree_.Add(path, false, 0);
    Json step{{"op", "create"}, {"path", path}};
    if (o_.raw_nfs && rng_.Percent(35)) {
      std::string verifier;
      for (int i = 0; i < 16; ++i) verifier += "0123456789abcdef"[rng_.Below(16)];
      step["how"] = "exclusive";
      step["verifier"] = verifier;
      exclusive_.push_back({path, verifier, obj});
    }
    return step;
  }

  // The same exclusive create again (same name, same verifier): the server must answer with the
  // file it made, also after a restart (RFC 1813, CREATE EXCLUSIVE).
  std::optional<Json> ReplayCreate() {
    std::vector<const Exclusive*> still;
    for (const Exclusive& e : exclusive_)
      if (tree_.At(e.path) == e.obj) still.push_back(&e);
    if (still.empty()) return std::nullopt;
    const Exclusive& e = *Pick(still);
    return Json{{"op", "create"}, {"path", e.path}, {"how", "exclusive"}, {"verifier", e.verifier}};
  }

  // A held handle sent corrupted every way one mask makes (ops::SweepHandle): each must get an
  // error or reach the handle's own object.
  std::optional<Json> Corrupt() {
    const auto& mine = vars_[client_];
    if (mine.empty()) return std::nullopt;
    auto it = mine.begin();
    std::advance(it, rng_.Below(mine.size()));
    static constexpr int kMasks[] = {0x01, 0x80, 0xff};
    const bool dir = tree_.obj(it->second).dir;
    Json step{{"op", dir ? "getattr" : "read"},
              {"sweep", Json{{"var", it->first}, {"masks", Json::array({kMasks[rng_.Below(3)]})}}}};
    if (!dir) step["count"] = 4096;
    return step;
  }

  // COMMIT of a file an unstable write left pending.
  std::optional<Json> Commit() {
    std::vector<std::string> pending;
    for (int o : unstable_)
      if (tree_.Alive(o)) pending.push_back(tree_.PathOf(o));
    if (pending.empty()) return std::nullopt;
    const std::string path = Pick(pending);
    unstable_.erase(*tree_.At(path));
    return Json{{"op", "commit"}, {"path", path}};
  }

  // Many creates after a remove, so that a freed inode number is handed out again and a stale
  // handle of the removed file could reach a new one.
  std::optional<Json> CreateMany() {
    if (!removed_any_) return std::nullopt;
    const std::string dir = Pick(tree_.Paths(true));
    const std::string stem = NewName("n");
    const uint32_t n = 8 + static_cast<uint32_t>(rng_.Below(25));
    Touch(dir);
    for (uint32_t i = 0; i < n; ++i) tree_.Add(Join(dir, stem + "-" + std::to_string(i)), false, 0);
    return Json{{"op", "create"}, {"path", Join(dir, stem + "-{i}")}, {"repeat", n}};
  }

  // Half the time, a dir that a listing in pages is open on: the change between its pages is
  // what cookies must survive.
  std::optional<std::string> Listed() {
    std::vector<std::string> dirs;
    for (const auto& [client, listings] : listings_)
      for (const auto& [var, dir] : listings)
        if (tree_.Alive(dir)) dirs.push_back(tree_.PathOf(dir));
    if (dirs.empty() || !rng_.Percent(50)) return std::nullopt;
    return Pick(dirs);
  }

  std::optional<Json> Mkdir() {
    const std::string path = Join(Pick(tree_.Paths(true)), NewName("m"));
    Touch(Parent(path));
    tree_.Add(path, true, 0);
    return Json{{"op", "mkdir"}, {"path", path}};
  }

  std::optional<Json> Rmdir() {
    std::vector<std::string> empty;
    for (const std::string& d : tree_.Paths(true))
      if (!d.empty() && tree_.Children(d).empty()) empty.push_back(d);
    if (empty.empty()) return std::nullopt;
    const std::string path = Pick(empty);
    Touch(path);
    tree_.Remove(path);
    return Json{{"op", "rmdir"}, {"path", path}};
  }

  std::optional<Json> Readdir() {
    if (!paging_) return Json{{"op", "readdir"}, {"path", Pick(tree_.Paths(true))}};
    // Resume a listing of this client whose dir is still there, or start one.
    auto& mine = listings_[client_];
    for (auto it = mine.begin(); it != mine.end(); ++it) {
      if (!tree_.Alive(it->second) || !rng_.Percent(70)) continue;
      return Json{{"op", "readdir"},
                  {"path", tree_.PathOf(it->second)},
                  {"resume", it->first},
                  {"max_entries", 2},
                  {"save", it->first}};
    }
    const std::string dir = Pick(tree_.Paths(true));
    const std::string var = (client_ == "A" ? "L" : "K") + std::to_string(++vars_count_);
    if (dir.empty()) return Json{{"op", "readdir"}, {"max_entries", 2}, {"save", var}};
    mine[var] = *tree_.At(dir);
    return Json{{"op", "readdir"}, {"path", dir}, {"max_entries", 2}, {"save", var}};
  }

  const GeneratorOptions& o_;
  Prng rng_;
  CaseDoc doc_;
  Tree tree_;
  bool paging_ = false;
  std::string client_ = "A";
  uint64_t names_ = 0;
  uint64_t vars_count_ = 0;
  std::map<std::string, std::map<std::string, int>> vars_;      // client -> var -> object
  std::map<std::string, std::map<std::string, int>> listings_;  // client -> var -> dir
  std::map<std::string, int> lower_;  // paths in the lower layers -> their objects
  std::set<int> touched_;             // objects a step changed: copied up
  struct Exclusive {
    std::string path;
    std::string verifier;
    int obj = 0;
  };
  std::vector<Exclusive> exclusive_;  // exclusive creates, to replay
  std::set<int> unstable_;            // files with unstable writes not yet committed
  bool removed_any_ = false;
};

}  // namespace

CaseDoc GenerateCase(const GeneratorOptions& options, uint64_t seed, uint64_t index) {
  return Generator(options, seed, index).Make();
}

}  // namespace ovl::explore
