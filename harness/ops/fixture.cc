#include "ops/fixture.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <map>
#include <set>
#include <utility>

#include "base/fd.h"
#include "base/prng.h"
#include "ops/ops.h"

namespace ovl::ops {
namespace {

using nlohmann::json;
using EntryKind = FixtureEntry::Kind;

constexpr std::array<std::pair<EntryKind, const char*>, 4> kKindKeys{{
    {EntryKind::kFile, "file"},
    {EntryKind::kDir, "dir"},
    {EntryKind::kHardlink, "hardlink"},
    {EntryKind::kSymlink, "symlink"},
}};

uint32_t DefaultMode(EntryKind kind) {
  switch (kind) {
    case EntryKind::kDir:
      return 0755;
    case EntryKind::kSymlink:
      return 0777;
    default:
      return 0644;
  }
}

Status Invalid(const std::string& what) {
  return Status::Error(EINVAL, "fixture: " + what);
}

bool ValidPath(const std::string& path) {
  if (path.empty() || path.front() == '/' || path.back() == '/') return false;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    const std::string part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

std::string Parent(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash);
}

// Builds a fixture entry by entry, adding implied parent dirs and checking each layer's
// namespace (no duplicate paths, parents are dirs, hard links name an earlier file).
class Builder {
 public:
  explicit Builder(Fixture* f) : f_(f), layers_(f->layers) {}

  Status Add(FixtureEntry e, const std::string& where) {
    if (!ValidPath(e.path)) return Invalid(where + ": bad path \"" + e.path + "\"");
    if (e.layer < 0 || e.layer >= f_->layers) {
      return Invalid(where + ": layer " + std::to_string(e.layer) + " out of range");
    }
    std::map<std::string, Known>& names = layers_[e.layer];
    OVL_RETURN_IF_ERROR(AddParents(e.path, e.layer, where));
    if (auto it = names.find(e.path); it != names.end()) {
      if (e.kind == EntryKind::kDir && it->second.kind == EntryKind::kDir) {
        f_->entries[it->second.index].mode = e.mode;  // an implied dir, now listed explicitly
        return Status::Ok();
      }
      return Invalid(where + ": \"" + e.path + "\" is already in layer " + std::to_string(e.layer));
    }
    if (e.kind == EntryKind::kHardlink) {
      auto target = names.find(e.to);
      if (target == names.end() || target->second.file.empty()) {
        return Invalid(where + ": hard link target \"" + e.to +
                       "\" is not an earlier file of layer " + std::to_string(e.layer));
      }
      e.to = target->second.file;  // links of links name the file itself
    }
    const std::string file = e.kind == EntryKind::kFile       ? e.path
                             : e.kind == EntryKind::kHardlink ? e.to
                                                              : "";
    names[e.path] = {e.kind, f_->entries.size(), file};
    f_->entries.push_back(std::move(e));
    return Status::Ok();
  }

 private:
  Status AddParents(const std::string& path, int layer, const std::string& where) {
    const std::string parent = Parent(path);
    if (parent.empty()) return Status::Ok();
    std::map<std::string, Known>& names = layers_[layer];
    if (auto it = names.find(parent); it != names.end()) {
      if (it->second.kind == EntryKind::kDir) return Status::Ok();
      return Invalid(where + ": parent \"" + parent + "\" is not a dir");
    }
    OVL_RETURN_IF_ERROR(AddParents(parent, layer, where));
    names[parent] = {EntryKind::kDir, f_->entries.size(), ""};
    f_->entries.push_back({EntryKind::kDir, parent, "", 0, layer, DefaultMode(EntryKind::kDir)});
    return Status::Ok();
  }

  struct Known {
    EntryKind kind;
    size_t index;      // in f_->entries
    std::string file;  // files and hard links: the path of the file entry they are
  };
  Fixture* f_;
  std::vector<std::map<std::string, Known>> layers_;
};

// A non-negative integer JSON field, or `fallback` when absent; false when present but not a
// non-negative integer.
bool GetU64(const json& j, const char* key, uint64_t fallback, uint64_t* out) {
  if (!j.contains(key)) {
    *out = fallback;
    return true;
  }
  const json& v = j.at(key);
  if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<int64_t>() >= 0)) return false;
  *out = j.at(key).get<uint64_t>();
  return true;
}

Status CheckKeys(const json& j, const std::set<std::string>& allowed, const std::string& where) {
  for (const auto& [key, value] : j.items()) {
    if (!allowed.count(key)) return Invalid(where + ": unknown key \"" + key + "\"");
  }
  return Status::Ok();
}

ovl::Result<FixtureEntry> EntryFromJson(const json& j, const std::string& where) {
  if (!j.is_object()) return Invalid(where + ": not a map");
  OVL_RETURN_IF_ERROR(
      CheckKeys(j, {"file", "dir", "hardlink", "symlink", "to", "size", "layer", "mode"}, where));
  FixtureEntry e;
  int kinds = 0;
  for (const auto& [kind, key] : kKindKeys) {
    if (!j.contains(key)) continue;
    if (!j.at(key).is_string()) return Invalid(where + ": " + key + " must be a path");
    e.kind = kind;
    e.path = j.at(key).get<std::string>();
    ++kinds;
  }
  if (kinds != 1) return Invalid(where + ": needs exactly one of file, dir, hardlink, symlink");
  const bool needs_to = e.kind == EntryKind::kHardlink || e.kind == EntryKind::kSymlink;
  if (needs_to != j.contains("to")) {
    return Invalid(where + (needs_to ? ": needs `to`" : ": `to` is only for links"));
  }
  if (needs_to) {
    if (!j.at("to").is_string() || j.at("to").get<std::string>().empty()) {
      return Invalid(where + ": `to` must be a non-empty string");
    }
    e.to = j.at("to").get<std::string>();
  }
  if (j.contains("size") && e.kind != EntryKind::kFile) {
    return Invalid(where + ": `size` is only for files");
  }
  uint64_t layer = 0;
  uint64_t mode = DefaultMode(e.kind);
  if (!GetU64(j, "size", 0, &e.size) || !GetU64(j, "layer", 0, &layer) ||
      !GetU64(j, "mode", mode, &mode)) {
    return Invalid(where + ": size, layer and mode must be unsigned integers");
  }
  if (mode > 07777) return Invalid(where + ": mode out of range");
  e.layer = static_cast<int>(std::min<uint64_t>(layer, 1u << 20));
  e.mode = static_cast<uint32_t>(mode);
  return e;
}

std::string Name(char prefix, uint64_t i, int width) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%c%0*llu", prefix, width, static_cast<unsigned long long>(i));
  return buf;
}

std::string Join(const std::string& dir, const std::string& name) {
  return dir.empty() ? name : dir + "/" + name;
}

Status Generate(const json& g, Fixture* f, Builder* b) {
  if (!g.is_object()) return Invalid("generate: not a map");
  OVL_RETURN_IF_ERROR(CheckKeys(g, {"files", "dirs", "size", "max_size", "hardlinks"}, "generate"));
  uint64_t files, dirs, size, max_size, hardlinks;
  if (!GetU64(g, "files", 0, &files) || !GetU64(g, "dirs", 0, &dirs) ||
      !GetU64(g, "size", 0, &size) || !GetU64(g, "max_size", 0, &max_size) ||
      !GetU64(g, "hardlinks", 0, &hardlinks)) {
    return Invalid("generate: values must be unsigned integers");
  }
  if (g.contains("size") && g.contains("max_size")) {
    return Invalid("generate: give `size` or `max_size`, not both");
  }
  if (hardlinks > files) return Invalid("generate: more hardlinks than files");
  if (files > 1000000 || dirs > 100000) return Invalid("generate: too many entries");
  Prng rng(f->seed ^ 0x67656e6572617465ull);  // "generate": a stream apart from file data
  std::vector<std::string> dir_paths{""};
  for (uint64_t i = 0; i < dirs; ++i) {
    dir_paths.push_back(Join(dir_paths[rng.Below(dir_paths.size())], Name('g', i, 3)));
  }
  // Dirs live on every layer where something is put into them (implied); empty ones on layer 0.
  for (size_t i = 1; i < dir_paths.size(); ++i) {
    OVL_RETURN_IF_ERROR(b->Add({EntryKind::kDir, dir_paths[i], "", 0, 0, 0755}, "generate"));
  }
  std::vector<std::pair<std::string, int>> made;  // path, layer
  for (uint64_t i = 0; i < files; ++i) {
    FixtureEntry e{EntryKind::kFile,
                   Join(dir_paths[rng.Below(dir_paths.size())], Name('f', i, 4)),
                   "",
                   0,
                   static_cast<int>(rng.Below(f->layers)),
                   0644};
    e.size = g.contains("size") ? size : rng.Below(max_size + 1);
    made.emplace_back(e.path, e.layer);
    OVL_RETURN_IF_ERROR(b->Add(std::move(e), "generate"));
  }
  for (uint64_t i = 0; i < hardlinks; ++i) {
    const size_t pick = i + rng.Below(made.size() - i);  // partial Fisher-Yates: distinct files
    std::swap(made[i], made[pick]);
    OVL_RETURN_IF_ERROR(
        b->Add({EntryKind::kHardlink, Join(dir_paths[rng.Below(dir_paths.size())], Name('h', i, 4)),
                made[i].first, 0, made[i].second, 0644},
               "generate"));
  }
  return Status::Ok();
}

std::string LayerPath(const std::vector<std::string>& lower_dirs, const FixtureEntry& e,
                      const std::string& path) {
  return lower_dirs[e.layer] + "/" + path;
}

Status WriteAll(int fd, const std::string& data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno("write " + path);
    }
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status Differs(const std::string& path, const std::string& what) {
  return Status::Error(EIO, "lower layer changed: " + path + ": " + what);
}

Status ReadWhole(const std::string& path, std::string* out) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) return Status::FromErrno("open " + path);
  char buf[65536];
  out->clear();
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno("read " + path);
    }
    if (n == 0) return Status::Ok();
    out->append(buf, static_cast<size_t>(n));
  }
}

}  // namespace

std::string FixtureFileData(uint64_t seed, const std::string& path, uint64_t size) {
  return Prng::Bytes(seed ^ (DataDigest(path) * 0x9e3779b97f4a7c15ull), size);
}

ovl::Result<Fixture> FixtureFromJson(const nlohmann::json& j, uint64_t default_seed) {
  Fixture f;
  f.seed = default_seed;
  if (j.is_null()) return f;
  if (!j.is_object()) return Invalid("not a map");
  OVL_RETURN_IF_ERROR(CheckKeys(j, {"layers", "seed", "entries", "generate"}, "fixture"));
  uint64_t layers = 1;
  if (!GetU64(j, "layers", 1, &layers) || layers < 1 || layers > 64) {
    return Invalid("layers must be an integer in 1..64");
  }
  f.layers = static_cast<int>(layers);
  if (!GetU64(j, "seed", default_seed, &f.seed)) return Invalid("seed must be unsigned");
  Builder builder(&f);
  if (j.contains("entries")) {
    const json& entries = j.at("entries");
    if (!entries.is_array()) return Invalid("entries must be a list");
    for (size_t i = 0; i < entries.size(); ++i) {
      const std::string where = "entries[" + std::to_string(i) + "]";
      OVL_ASSIGN_OR_RETURN(FixtureEntry e, EntryFromJson(entries[i], where));
      OVL_RETURN_IF_ERROR(builder.Add(std::move(e), where));
    }
  }
  if (j.contains("generate")) OVL_RETURN_IF_ERROR(Generate(j.at("generate"), &f, &builder));
  return f;
}

nlohmann::json FixtureToJson(const Fixture& f) {
  json entries = json::array();
  for (const FixtureEntry& e : f.entries) {
    json o;
    for (const auto& [kind, key] : kKindKeys) {
      if (kind == e.kind) o[key] = e.path;
    }
    if (e.kind == EntryKind::kHardlink || e.kind == EntryKind::kSymlink) o["to"] = e.to;
    if (e.kind == EntryKind::kFile) o["size"] = e.size;
    if (e.layer != 0) o["layer"] = e.layer;
    if (e.mode != DefaultMode(e.kind)) o["mode"] = e.mode;
    entries.push_back(std::move(o));
  }
  return {{"layers", f.layers}, {"seed", f.seed}, {"entries", std::move(entries)}};
}

Status Materialize(const Fixture& f, const std::vector<std::string>& lower_dirs) {
  if (lower_dirs.size() != static_cast<size_t>(f.layers)) {
    return Status::Error(EINVAL, "fixture has " + std::to_string(f.layers) + " layers, got " +
                                     std::to_string(lower_dirs.size()) + " dirs");
  }
  for (const FixtureEntry& e : f.entries) {
    const std::string path = LayerPath(lower_dirs, e, e.path);
    switch (e.kind) {
      case EntryKind::kDir:
        // Writable while filling; the fixture's mode is applied once the dir is complete.
        if (::mkdir(path.c_str(), 0755) != 0) return Status::FromErrno("mkdir " + path);
        break;
      case EntryKind::kFile: {
        Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
        if (!fd.valid()) return Status::FromErrno("create " + path);
        OVL_RETURN_IF_ERROR(WriteAll(fd.get(), FixtureFileData(f.seed, e.path, e.size), path));
        if (::fchmod(fd.get(), e.mode) != 0) return Status::FromErrno("chmod " + path);
        break;
      }
      case EntryKind::kHardlink: {
        const std::string to = LayerPath(lower_dirs, e, e.to);
        if (::link(to.c_str(), path.c_str()) != 0) return Status::FromErrno("link " + path);
        break;
      }
      case EntryKind::kSymlink:
        if (::symlink(e.to.c_str(), path.c_str()) != 0) return Status::FromErrno("symlink " + path);
        break;
    }
  }
  for (auto it = f.entries.rbegin(); it != f.entries.rend(); ++it) {
    if (it->kind != EntryKind::kDir) continue;
    const std::string path = LayerPath(lower_dirs, *it, it->path);
    if (::chmod(path.c_str(), it->mode) != 0) return Status::FromErrno("chmod " + path);
  }
  return Status::Ok();
}

std::vector<MergedEntry> MergedView(const Fixture& f) {
  // Object numbers per (layer, path of a file or link); hard links share their target's.
  std::map<std::pair<int, std::string>, int> objects;
  int next_object = 1;
  auto object_of = [&](const FixtureEntry& e) {
    const std::string& key = e.kind == EntryKind::kHardlink ? e.to : e.path;
    auto [it, fresh] = objects.try_emplace({e.layer, key}, next_object);
    if (fresh) ++next_object;
    return it->second;
  };
  std::map<std::pair<int, std::string>, const FixtureEntry*> files;  // for hard link data
  for (const FixtureEntry& e : f.entries) {
    if (e.kind == EntryKind::kFile) files[{e.layer, e.path}] = &e;
  }
  std::map<std::string, MergedEntry> visible;
  for (int layer = 0; layer < f.layers; ++layer) {
    for (const FixtureEntry& e : f.entries) {
      if (e.layer != layer) continue;
      const int object = object_of(e);
      if (visible.count(e.path)) continue;  // a higher layer's entry (or merged dir) wins
      bool hidden = false;
      for (std::string p = Parent(e.path); !p.empty() && !hidden; p = Parent(p)) {
        auto it = visible.find(p);
        hidden = it != visible.end() && it->second.kind != EntryKind::kDir;
      }
      if (hidden) continue;
      MergedEntry m{e.path, e.kind, object, "", e.mode};
      if (e.kind == EntryKind::kFile || e.kind == EntryKind::kHardlink) {
        const FixtureEntry* file =
            files.at({e.layer, e.kind == EntryKind::kHardlink ? e.to : e.path});
        m.kind = EntryKind::kFile;
        m.data = FixtureFileData(f.seed, file->path, file->size);
        m.mode = file->mode;
      } else if (e.kind == EntryKind::kSymlink) {
        m.data = e.to;
      }
      visible.emplace(e.path, std::move(m));
    }
  }
  std::vector<MergedEntry> out;
  out.reserve(visible.size());
  for (auto& [path, m] : visible) out.push_back(std::move(m));
  return out;
}

Status VerifyLowerLayers(const Fixture& f, const std::vector<std::string>& lower_dirs) {
  if (lower_dirs.size() != static_cast<size_t>(f.layers)) {
    return Status::Error(EINVAL, "fixture layer count differs from the dirs given");
  }
  for (const FixtureEntry& e : f.entries) {
    const std::string path = LayerPath(lower_dirs, e, e.path);
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return Differs(path, "missing");
    switch (e.kind) {
      case EntryKind::kDir:
        if (!S_ISDIR(st.st_mode)) return Differs(path, "not a dir");
        break;
      case EntryKind::kFile: {
        if (!S_ISREG(st.st_mode)) return Differs(path, "not a regular file");
        std::string data;
        OVL_RETURN_IF_ERROR(ReadWhole(path, &data));
        if (data != FixtureFileData(f.seed, e.path, e.size)) return Differs(path, "content");
        break;
      }
      case EntryKind::kHardlink: {
        struct stat target {};
        const std::string to = LayerPath(lower_dirs, e, e.to);
        if (::lstat(to.c_str(), &target) != 0 || target.st_ino != st.st_ino) {
          return Differs(path, "no longer a hard link of " + e.to);
        }
        break;
      }
      case EntryKind::kSymlink: {
        char buf[4096];
        const ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
        if (n < 0 || std::string(buf, static_cast<size_t>(n)) != e.to) {
          return Differs(path, "symlink target");
        }
        break;
      }
    }
  }
  return Status::Ok();
}

}  // namespace ovl::ops
