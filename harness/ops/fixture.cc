#include "ops/fixture.h"

#include <cerrno>
#include <utility>

#include "ops/fixture_gen.h"

namespace ovl::ops {
namespace {

using EntryKind = FixtureEntry::Kind;

std::string Parent(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash);
}

}  // namespace

bool ValidLayerPath(const std::string& path) {
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

Status FixtureError(const std::string& what) {
  return Status::Error(EINVAL, "fixture: " + what);
}

Status FixtureBuilder::Add(FixtureEntry e, const std::string& where) {
  if (!ValidLayerPath(e.path)) return FixtureError(where + ": bad path \"" + e.path + "\"");
  if (e.layer < 0 || e.layer >= f_->layers) {
    return FixtureError(where + ": layer " + std::to_string(e.layer) + " out of range");
  }
  std::map<std::string, Known>& names = layers_[e.layer];
  OVL_RETURN_IF_ERROR(AddParents(e.path, e.layer, where));
  if (auto it = names.find(e.path); it != names.end()) {
    if (e.kind == EntryKind::kDir && it->second.kind == EntryKind::kDir) {
      f_->entries[it->second.index].mode = e.mode;  // an implied dir, now listed explicitly
      return Status::Ok();
    }
    return FixtureError(where + ": \"" + e.path + "\" is already in layer " +
                        std::to_string(e.layer));
  }
  if (e.kind == EntryKind::kHardlink) {
    auto target = names.find(e.to);
    if (target == names.end() || target->second.file.empty()) {
      return FixtureError(where + ": hard link target \"" + e.to +
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

Status FixtureBuilder::AddParents(const std::string& path, int layer, const std::string& where) {
  const std::string parent = Parent(path);
  if (parent.empty()) return Status::Ok();
  std::map<std::string, Known>& names = layers_[layer];
  if (auto it = names.find(parent); it != names.end()) {
    if (it->second.kind == EntryKind::kDir) return Status::Ok();
    return FixtureError(where + ": parent \"" + parent + "\" is not a dir");
  }
  OVL_RETURN_IF_ERROR(AddParents(parent, layer, where));
  names[parent] = {EntryKind::kDir, f_->entries.size(), ""};
  f_->entries.push_back({EntryKind::kDir, parent, "", 0, layer, DefaultMode(EntryKind::kDir)});
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

}  // namespace ovl::ops
