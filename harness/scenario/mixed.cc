#include "scenario/mixed.h"

#include <algorithm>
#include <array>
#include <map>
#include <optional>
#include <utility>

#include "base/prng.h"
#include "ops/fixture_json.h"

namespace ovl::scenario {
namespace {

using ops::Kind;
using ops::Op;

constexpr int kHandleSlots = 6;  // handles a client holds at once (H0..H5)
constexpr uint32_t kMaxWrite = 8192;
constexpr uint32_t kMaxRead = 16384;
constexpr size_t kMaxDirs = 12;

// What the generator believes a client's subtree holds, assuming every op succeeds.
class Subtree {
 public:
  struct Dir {
    int parent = -1;  // -1: the client's root
    std::string name;
    std::map<std::string, std::pair<bool, int>> children;  // name -> (is_dir, id)
    bool alive = true;
  };
  struct File {
    std::vector<std::pair<int, std::string>> names;  // (dir, name)
    uint64_t size = 0;
  };

  explicit Subtree(std::string root) { dirs_.push_back({-1, std::move(root), {}, true}); }

  std::string DirPath(int dir) const {
    const Dir& d = dirs_[dir];
    return d.parent < 0 ? d.name : DirPath(d.parent) + "/" + d.name;
  }
  std::string FilePath(int file, size_t which) const {
    const auto& [dir, name] = files_[file].names[which];
    return DirPath(dir) + "/" + name;
  }

  int AddDir(int parent, const std::string& name) {
    dirs_.push_back({parent, name, {}, true});
    const int id = static_cast<int>(dirs_.size()) - 1;
    dirs_[parent].children[name] = {true, id};
    return id;
  }
  int AddFile(int dir, const std::string& name, uint64_t size) {
    files_.push_back({{{dir, name}}, size});
    const int id = static_cast<int>(files_.size()) - 1;
    dirs_[dir].children[name] = {false, id};
    return id;
  }
  void AddName(int file, int dir, const std::string& name) {
    files_[file].names.push_back({dir, name});
    dirs_[dir].children[name] = {false, file};
  }
  void RemoveName(int file, size_t which) {
    auto [dir, name] = files_[file].names[which];
    dirs_[dir].children.erase(name);
    files_[file].names.erase(files_[file].names.begin() + static_cast<long>(which));
  }
  void RemoveDir(int dir) {
    dirs_[dirs_[dir].parent].children.erase(dirs_[dir].name);
    dirs_[dir].alive = false;
  }
  void MoveDir(int dir, int to, const std::string& name) {
    dirs_[dirs_[dir].parent].children.erase(dirs_[dir].name);
    dirs_[dir].parent = to;
    dirs_[dir].name = name;
    dirs_[to].children[name] = {true, dir};
  }
  bool Inside(int dir, int ancestor) const {
    for (int d = dir; d >= 0; d = dirs_[d].parent) {
      if (d == ancestor) return true;
    }
    return false;
  }

  std::vector<int> LiveDirs() const {
    std::vector<int> out;
    for (size_t i = 0; i < dirs_.size(); ++i) {
      if (dirs_[i].alive) out.push_back(static_cast<int>(i));
    }
    return out;
  }
  std::vector<int> LiveFiles() const {
    std::vector<int> out;
    for (size_t i = 0; i < files_.size(); ++i) {
      if (!files_[i].names.empty()) out.push_back(static_cast<int>(i));
    }
    return out;
  }

  std::vector<Dir> dirs_;
  std::vector<File> files_;
};

// Generates one client's operations.
class ClientGen {
 public:
  ClientGen(const std::string& client, uint64_t seed, const MixedOptions& o)
      : client_(client), rng_(seed), tree_(client), options_(o) {}

  // Adds this client's initial content to the fixture entries (JSON form).
  void AddFixture(nlohmann::json* entries) {
    entries->push_back({{"dir", client_}});
    std::vector<int> dirs{0};
    for (uint64_t i = 0; i < options_.dirs_per_client; ++i) {
      const int parent = dirs[rng_.Below(dirs.size())];
      const int d = tree_.AddDir(parent, "d" + std::to_string(i));
      dirs.push_back(d);
      entries->push_back({{"dir", tree_.DirPath(d)}});
    }
    std::vector<std::pair<int, uint64_t>> files;  // file id, layer
    for (uint64_t i = 0; i < options_.files_per_client; ++i) {
      const uint64_t size = rng_.Below(options_.max_file_size + 1);
      const uint64_t layer = rng_.Below(static_cast<uint64_t>(options_.layers));
      const int f = tree_.AddFile(dirs[rng_.Below(dirs.size())], "f" + std::to_string(i), size);
      files.push_back({f, layer});
      entries->push_back({{"file", tree_.FilePath(f, 0)}, {"size", size}, {"layer", layer}});
    }
    for (uint64_t i = 0; i < options_.hardlinks_per_client && i < files.size(); ++i) {
      const auto [f, layer] = files[rng_.Below(files.size())];
      const int dir = dirs[rng_.Below(dirs.size())];
      const std::string name = "h" + std::to_string(i);
      if (tree_.dirs_[dir].children.count(name)) continue;
      const std::string target = tree_.FilePath(f, 0);
      tree_.AddName(f, dir, name);
      entries->push_back(
          {{"hardlink", tree_.DirPath(dir) + "/" + name}, {"to", target}, {"layer", layer}});
    }
  }

  Op Next() {
    static constexpr std::array<std::pair<Kind, uint64_t>, 14> kWeights{{
        {Kind::kCreate, 10},
        {Kind::kMkdir, 3},
        {Kind::kWrite, 16},
        {Kind::kRead, 16},
        {Kind::kGetAttr, 8},
        {Kind::kLookup, 8},
        {Kind::kRename, 8},
        {Kind::kLink, 6},
        {Kind::kRemove, 8},
        {Kind::kRmdir, 3},
        {Kind::kSetAttr, 4},
        {Kind::kCommit, 4},
        {Kind::kReaddir, 3},
        {Kind::kSymlink, 2},
    }};
    uint64_t total = 0;
    for (const auto& [kind, w] : kWeights) total += w;
    for (;;) {
      uint64_t pick = rng_.Below(total);
      Kind kind = Kind::kCreate;
      for (const auto& [k, w] : kWeights) {
        if (pick < w) {
          kind = k;
          break;
        }
        pick -= w;
      }
      std::optional<Op> op = Make(kind);
      if (op) {
        op->client = client_;
        return *op;
      }
    }
  }

 private:
  std::string NewName(char prefix) { return prefix + std::to_string(next_name_++); }

  template <typename T>
  T Pick(const std::vector<T>& v) {
    return v[rng_.Below(v.size())];
  }

  // A file as a path (most of the time) or as a held handle (possibly of a removed file, which
  // must then be STALE).
  std::optional<ops::Target> FileTarget(int* file) {
    if (rng_.Percent(30)) {
      std::vector<int> held;
      for (int s = 0; s < kHandleSlots; ++s) {
        if (slots_[s] && !slots_[s]->first) held.push_back(s);
      }
      if (!held.empty()) {
        const int s = Pick(held);
        *file = slots_[s]->second;
        ops::Target t;
        t.var = "H" + std::to_string(s);
        return t;
      }
    }
    const std::vector<int> live = tree_.LiveFiles();
    if (live.empty()) return std::nullopt;
    *file = Pick(live);
    ops::Target t;
    t.path = tree_.FilePath(*file, rng_.Below(tree_.files_[*file].names.size()));
    return t;
  }

  std::string SaveSlot(bool is_dir, int id) {
    const int s = static_cast<int>(rng_.Below(kHandleSlots));
    slots_[s] = {is_dir, id};
    return "H" + std::to_string(s);
  }

  std::optional<Op> Make(Kind kind) {
    Op op;
    op.kind = kind;
    const std::vector<int> dirs = tree_.LiveDirs();
    switch (kind) {
      case Kind::kCreate:
      case Kind::kMkdir:
      case Kind::kSymlink: {
        if (kind == Kind::kMkdir && dirs.size() >= kMaxDirs) return std::nullopt;
        const int dir = Pick(dirs);
        op.target.path = tree_.DirPath(dir);
        op.name = NewName(kind == Kind::kMkdir ? 'e' : kind == Kind::kSymlink ? 's' : 'n');
        if (kind == Kind::kSymlink) {
          op.link_target = "target-" + op.name;
          tree_.dirs_[dir].children[op.name] = {false, -1};  // -1: a symlink, never picked
          return op;
        }
        const bool save = rng_.Percent(50);
        if (kind == Kind::kMkdir) {
          const int d = tree_.AddDir(dir, op.name);
          if (save) op.save = SaveSlot(true, d);
        } else {
          const int f = tree_.AddFile(dir, op.name, 0);
          if (save) op.save = SaveSlot(false, f);
        }
        return op;
      }
      case Kind::kWrite: {
        int file = 0;
        std::optional<ops::Target> t = FileTarget(&file);
        if (!t) return std::nullopt;
        op.target = *t;
        uint64_t& size = tree_.files_[file].size;
        op.offset = rng_.Percent(30) ? 0 : rng_.Below(size + 1);
        op.data.resize(1 + rng_.Below(kMaxWrite));
        for (char& c : op.data) c = static_cast<char>(rng_.Next());
        op.stable = rng_.Percent(40) ? ops::Stable::kUnstable : ops::Stable::kFileSync;
        size = std::max<uint64_t>(size, op.offset + op.data.size());
        return op;
      }
      case Kind::kRead:
      case Kind::kGetAttr:
      case Kind::kCommit:
      case Kind::kSetAttr: {
        int file = 0;
        std::optional<ops::Target> t = FileTarget(&file);
        if (!t) return std::nullopt;
        op.target = *t;
        uint64_t& size = tree_.files_[file].size;
        if (kind == Kind::kRead) {
          op.offset = rng_.Below(size + 1);
          op.count = static_cast<uint32_t>(1 + rng_.Below(kMaxRead));
        } else if (kind == Kind::kSetAttr) {
          op.size = rng_.Below(size + 4097);
          size = *op.size;
        }
        return op;
      }
      case Kind::kLookup: {
        std::vector<std::string> names;
        std::vector<std::pair<bool, int>> ids;
        for (int d : dirs) {
          for (const auto& [name, child] : tree_.dirs_[d].children) {
            if (child.second < 0) continue;  // a symlink: nothing to hold
            names.push_back(tree_.DirPath(d) + "/" + name);
            ids.push_back(child);
          }
        }
        if (names.empty()) return std::nullopt;
        const size_t i = rng_.Below(names.size());
        const size_t slash = names[i].rfind('/');
        op.target.path = names[i].substr(0, slash);
        op.name = names[i].substr(slash + 1);
        op.save = SaveSlot(ids[i].first, ids[i].second);
        return op;
      }
      case Kind::kRename:
        return rng_.Percent(25) ? RenameDir(dirs) : RenameFile(dirs);
      case Kind::kLink: {
        const std::vector<int> live = tree_.LiveFiles();
        if (live.empty()) return std::nullopt;
        const int file = Pick(live);
        const int dir = Pick(dirs);
        op.target.path = tree_.FilePath(file, 0);
        op.target2.path = tree_.DirPath(dir);
        op.name2 = NewName('l');
        tree_.AddName(file, dir, op.name2);
        return op;
      }
      case Kind::kRemove: {
        const std::vector<int> live = tree_.LiveFiles();
        if (live.empty()) return std::nullopt;
        const int file = Pick(live);
        const size_t which = rng_.Below(tree_.files_[file].names.size());
        op.target.path = tree_.DirPath(tree_.files_[file].names[which].first);
        op.name = tree_.files_[file].names[which].second;
        tree_.RemoveName(file, which);
        return op;
      }
      case Kind::kRmdir: {
        std::vector<int> empty;
        for (int d : dirs) {
          if (d != 0 && tree_.dirs_[d].children.empty()) empty.push_back(d);
        }
        if (empty.empty()) return std::nullopt;
        const int d = Pick(empty);
        op.target.path = tree_.DirPath(tree_.dirs_[d].parent);
        op.name = tree_.dirs_[d].name;
        tree_.RemoveDir(d);
        return op;
      }
      case Kind::kReaddir:
        op.target.path = tree_.DirPath(Pick(dirs));
        return op;
      default:
        return std::nullopt;
    }
  }

  std::optional<Op> RenameFile(const std::vector<int>& dirs) {
    const std::vector<int> live = tree_.LiveFiles();
    if (live.empty()) return std::nullopt;
    Op op;
    op.kind = Kind::kRename;
    const int file = Pick(live);
    const size_t which = rng_.Below(tree_.files_[file].names.size());
    const auto [from_dir, from_name] = tree_.files_[file].names[which];
    op.target.path = tree_.DirPath(from_dir);
    op.name = from_name;
    // Sometimes over another file: the replaced object loses a name.
    if (rng_.Percent(20) && live.size() > 1) {
      const int victim = Pick(live);
      if (victim != file) {
        const auto [dir, name] = tree_.files_[victim].names[0];
        op.target2.path = tree_.DirPath(dir);
        op.name2 = name;
        tree_.RemoveName(victim, 0);
        tree_.RemoveName(file, which);
        tree_.AddName(file, dir, name);
        return op;
      }
    }
    const int to = Pick(dirs);
    op.target2.path = tree_.DirPath(to);
    op.name2 = NewName('r');
    tree_.RemoveName(file, which);
    tree_.AddName(file, to, op.name2);
    return op;
  }

  std::optional<Op> RenameDir(const std::vector<int>& dirs) {
    if (dirs.size() < 2) return std::nullopt;
    const int d = dirs[1 + rng_.Below(dirs.size() - 1)];  // never the client's root
    std::vector<int> targets;
    for (int t : dirs) {
      if (!tree_.Inside(t, d)) targets.push_back(t);
    }
    Op op;
    op.kind = Kind::kRename;
    op.target.path = tree_.DirPath(tree_.dirs_[d].parent);
    op.name = tree_.dirs_[d].name;
    const int to = Pick(targets);
    op.target2.path = tree_.DirPath(to);
    op.name2 = NewName('m');
    tree_.MoveDir(d, to, op.name2);
    return op;
  }

  std::string client_;
  Prng rng_;
  Subtree tree_;
  const MixedOptions& options_;
  uint64_t next_name_ = 0;
  std::array<std::optional<std::pair<bool, int>>, kHandleSlots> slots_;  // (is_dir, id)
};

}  // namespace

ovl::Result<MixedWorkload> MakeMixedWorkload(const MixedOptions& options) {
  MixedWorkload out;
  const size_t n = options.clients.size();
  for (const std::string& c : options.clients) {
    if (c.empty() || c == "." || c == ".." || c.find('/') != std::string::npos) {
      return Status::Error(EINVAL,
                           "mixed workload: client name \"" + c + "\" is no path component");
    }
  }
  const uint64_t per_client = n == 0 ? 0 : (options.ops + n - 1) / n;
  std::vector<ClientGen> gens;
  gens.reserve(n);
  nlohmann::json entries = nlohmann::json::array();
  for (size_t i = 0; i < n; ++i) {
    gens.emplace_back(options.clients[i], options.seed ^ ops::DataDigest(options.clients[i]),
                      options);
    gens.back().AddFixture(&entries);
  }
  OVL_ASSIGN_OR_RETURN(
      out.fixture, ops::FixtureFromJson(
                       {{"layers", options.layers}, {"seed", options.seed}, {"entries", entries}},
                       options.seed));
  uint64_t seq = 0;
  for (size_t i = 0; i < n; ++i) {
    std::vector<Op>& list = out.ops.emplace_back();
    for (uint64_t k = 0; k < per_client; ++k) {
      list.push_back(gens[i].Next());
      list.back().seq = ++seq;
    }
  }
  return out;
}

}  // namespace ovl::scenario
