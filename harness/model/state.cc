#include "model/state.h"

#include <algorithm>

namespace ovl::model {
namespace {

std::string Join(const std::string& dir, const std::string& name) {
  return dir.empty() ? name : dir + "/" + name;
}

}  // namespace

const char* TypeName(Type type) {
  switch (type) {
    case Type::kReg:
      return "reg";
    case Type::kDir:
      return "dir";
    case Type::kLnk:
      return "lnk";
  }
  return "?";
}

State State::FromFixture(const ops::Fixture& fixture) {
  State s;
  Object root;
  root.type = Type::kDir;
  s.objects[kRootId] = root;
  // MergedView is sorted by path, so a dir comes before its entries.
  for (ops::MergedEntry& m : ops::MergedView(fixture)) {
    const ObjId id = static_cast<ObjId>(m.object);
    if (!s.objects.count(id)) {
      Object o;
      o.type = m.kind == ops::FixtureEntry::Kind::kDir       ? Type::kDir
               : m.kind == ops::FixtureEntry::Kind::kSymlink ? Type::kLnk
                                                             : Type::kReg;
      if (o.type == Type::kReg) o.lower_data = m.data;
      if (o.type != Type::kDir) o.contents.push_back({m.data, std::move(m.data)});
      if (o.type != Type::kLnk) o.mode = m.mode;
      s.objects[id] = std::move(o);
    }
    const size_t slash = m.path.rfind('/');
    const Resolved parent = s.Resolve(slash == std::string::npos ? "" : m.path.substr(0, slash));
    s.AddName(id, parent.id, slash == std::string::npos ? m.path : m.path.substr(slash + 1));
    s.lower[m.path] = id;
  }
  return s;
}

bool State::Alive(ObjId id) const {
  return id == kRootId || !Get(id).names.empty();
}

bool State::IsOpen(ObjId id) const {
  return std::any_of(open_files.begin(), open_files.end(),
                     [id](const auto& entry) { return entry.second == id; });
}

std::string State::PathOf(ObjId id) const {
  if (id == kRootId) return "";
  const Object& o = Get(id);
  if (o.names.empty()) return "";
  const auto& [dir, name] = o.names.front();
  return Join(PathOf(dir), name);
}

std::string State::Describe(ObjId id) const {
  if (id == kRootId) return "the root";
  if (Alive(id)) return PathOf(id);
  return "removed " + Get(id).label;
}

State::Resolved State::Resolve(const std::string& path) const {
  Resolved r;
  size_t start = 0;
  while (start < path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    const Object& dir = Get(r.id);
    if (dir.type != Type::kDir) {
      r.error = "NOTDIR";
      return r;
    }
    auto it = dir.entries.find(path.substr(start, end - start));
    if (it == dir.entries.end()) {
      r.error = "NOENT";
      return r;
    }
    r.id = it->second;
    start = end + 1;
  }
  return r;
}

void State::AddName(ObjId obj, ObjId dir, const std::string& name) {
  Object& o = Get(obj);
  if (o.type == Type::kDir) o.names.clear();  // a dir has one name: a move replaces it
  o.names.push_back({dir, name});
  Get(dir).entries[name] = obj;
  o.label = PathOf(obj);
}

void State::RemoveName(ObjId dir, const std::string& name) {
  Object& d = Get(dir);
  auto it = d.entries.find(name);
  if (it == d.entries.end()) return;
  Object& o = Get(it->second);
  o.label = PathOf(it->second);
  auto& names = o.names;
  names.erase(std::remove(names.begin(), names.end(), std::make_pair(dir, name)), names.end());
  if (!names.empty()) o.label = PathOf(it->second);
  d.entries.erase(it);
}

void State::Restart() {
  for (auto& [id, o] : objects) {
    if (o.type != Type::kReg) continue;
    std::vector<Content> after;
    for (Content& c : o.contents) {
      const bool pending = c.now != c.durable;
      after.push_back(std::move(c));
      if (pending) after.push_back({after.back().durable, after.back().durable});
    }
    o.contents.clear();
    for (Content& c : after) {
      if (std::find(o.contents.begin(), o.contents.end(), c) == o.contents.end()) {
        o.contents.push_back(std::move(c));
      }
    }
    if (o.contents.size() > kMaxContents) {
      o.contents.resize(1);
      o.content_unknown = true;
    }
  }
}

void State::RefreshListings() {
  for (auto& [key, l] : listings) {
    std::set<std::string> now;
    if (Alive(l.dir)) {
      for (const auto& [name, id] : Get(l.dir).entries) now.insert(name);
    }
    std::set<std::string> still;
    std::set_intersection(l.always.begin(), l.always.end(), now.begin(), now.end(),
                          std::inserter(still, still.end()));
    l.always = std::move(still);
    l.ever.insert(now.begin(), now.end());
  }
}

}  // namespace ovl::model
