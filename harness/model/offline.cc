#include "model/offline.h"

#include <set>
#include <string>
#include <vector>

namespace ovl::model {
namespace {

using Kind = ops::OfflineEdit::Kind;

Status CannotFollow(const ops::OfflineEdit& edit, const std::string& why) {
  return Status::Error(
      EINVAL, "the model cannot follow offline " + ops::DescribeOfflineEdit(edit) + ": " + why);
}

std::string ParentOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash);
}

std::string LeafOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool Under(const std::string& path, const std::string& top) {
  return path == top || path.rfind(top + "/", 0) == 0;
}

// The lower paths at and below `top`, parents first.
std::vector<std::string> Subtree(const State& s, const std::string& top) {
  std::vector<std::string> out;
  for (const auto& [path, id] : s.lower) {
    if (Under(path, top)) out.push_back(path);
  }
  return out;
}

// The union object a lower path shows as: the lower's object when the union path leads there.
ovl::Result<ObjId> Shown(const State& s, const ops::OfflineEdit& edit, const std::string& path) {
  if (path.empty()) return kRootId;
  auto it = s.lower.find(path);
  if (it == s.lower.end()) return CannotFollow(edit, "the lower layers hold no " + path);
  const State::Resolved r = s.Resolve(path);
  if (!r.error.empty() || r.id != it->second) {
    return CannotFollow(edit, "the union moved or replaced " + path);
  }
  return it->second;
}

// A lower subtree the union never changed: the merged view shows exactly its lower entries.
Status Untouched(const State& s, const ops::OfflineEdit& edit, const std::string& top) {
  if (!s.lower.count(top)) return CannotFollow(edit, "the lower layers hold no " + top);
  for (const std::string& path : Subtree(s, top)) {
    OVL_ASSIGN_OR_RETURN(ObjId id, Shown(s, edit, path));
    if (s.upper.count(id)) return CannotFollow(edit, "the union changed " + path);
  }
  return Status::Ok();
}

// Where a new lower name `path` appears in the union: its parent, which must show the lower
// parent and have no entry (and no whiteout) of that name.
ovl::Result<ObjId> NewNameParent(const State& s, const ops::OfflineEdit& edit,
                                 const std::string& path) {
  if (s.lower.count(path)) return CannotFollow(edit, "the lower layers already hold " + path);
  OVL_ASSIGN_OR_RETURN(ObjId parent, Shown(s, edit, ParentOf(path)));
  if (s.Get(parent).type != Type::kDir) return CannotFollow(edit, ParentOf(path) + " is no dir");
  if (s.Get(parent).entries.count(LeafOf(path)) || s.removed.count({parent, LeafOf(path)})) {
    return CannotFollow(edit, "the union has or had an entry " + path);
  }
  return parent;
}

void TouchSubtree(State& s, const std::string& top) {
  for (const std::string& path : Subtree(s, top)) s.Get(s.lower.at(path)).offline_touched = true;
}

// Removes every name below `dir` (deepest first), so each object there loses its names.
void RemoveBelow(State& s, ObjId dir) {
  std::vector<std::string> names;
  for (const auto& [name, id] : s.Get(dir).entries) names.push_back(name);
  for (const std::string& name : names) {
    const ObjId child = s.Get(dir).entries.at(name);
    if (s.Get(child).type == Type::kDir) RemoveBelow(s, child);
    s.RemoveName(dir, name);
  }
}

Status RemoveUpper(State& s, const ops::OfflineEdit& edit) {
  const State::Resolved r = s.Resolve(edit.path);
  if (!r.error.empty()) return CannotFollow(edit, "the union has no " + edit.path);
  Object& o = s.Get(r.id);
  if (o.type != Type::kReg) return CannotFollow(edit, edit.path + " is not a file");
  // The lower path the union name shows through: the lower dir of its parent (a renamed dir
  // shows its origin through a redirect) and the same leaf.
  std::string parent_lower;
  bool parent_in_lower = ParentOf(edit.path).empty();
  const ObjId parent = s.Resolve(ParentOf(edit.path)).id;
  for (const auto& [path, id] : s.lower) {
    if (!parent_in_lower && id == parent) {
      parent_lower = path;
      parent_in_lower = true;
    }
  }
  const std::string leaf = LeafOf(edit.path);
  auto lower = parent_in_lower
                   ? s.lower.find(parent_lower.empty() ? leaf : parent_lower + "/" + leaf)
                   : s.lower.end();
  if (lower == s.lower.end()) {
    // An upper-only file: its only copy is gone.
    if (o.names.size() != 1) return CannotFollow(edit, edit.path + " has other names");
    s.RemoveName(s.Resolve(ParentOf(edit.path)).id, LeafOf(edit.path));
    s.Get(r.id).offline_touched = true;
    return Status::Ok();
  }
  if (lower->second != r.id || !s.upper.count(r.id)) {
    return CannotFollow(edit, edit.path + " is not a copied-up lower file");
  }
  if (o.names.size() != 1) return CannotFollow(edit, edit.path + " has other names");
  // The same object (the lower file is its origin) shows again with the lower file's data, or,
  // where the index entry still holds the copy, with the copy's data: with index=on the index
  // is the object (fstests overlay/047).
  o.contents.push_back({o.lower_data, o.lower_data});
  if (o.content_unknown) o.contents = {o.contents.back()};
  o.content_unknown = false;
  o.mode.reset();  // the fixture's mode; the model did not keep it, and mode is a MAY
  o.offline_touched = true;
  s.upper.erase(r.id);
  return Status::Ok();
}

Status RenameLower(State& s, const ops::OfflineEdit& edit) {
  OVL_RETURN_IF_ERROR(Untouched(s, edit, edit.path));
  if (Under(edit.path2, edit.path)) return CannotFollow(edit, "a move into itself");
  OVL_ASSIGN_OR_RETURN(ObjId to_parent, NewNameParent(s, edit, edit.path2));
  const ObjId moved = s.lower.at(edit.path);
  TouchSubtree(s, edit.path);
  s.RemoveName(s.Resolve(ParentOf(edit.path)).id, LeafOf(edit.path));
  s.AddName(moved, to_parent, LeafOf(edit.path2));
  for (const std::string& path : Subtree(s, edit.path)) {
    const ObjId id = s.lower.at(path);
    s.lower.erase(path);
    s.lower[edit.path2 + path.substr(edit.path.size())] = id;
  }
  return Status::Ok();
}

Status RemoveLower(State& s, const ops::OfflineEdit& edit) {
  OVL_RETURN_IF_ERROR(Untouched(s, edit, edit.path));
  const ObjId gone = s.lower.at(edit.path);
  TouchSubtree(s, edit.path);
  if (s.Get(gone).type == Type::kDir) RemoveBelow(s, gone);
  s.RemoveName(s.Resolve(ParentOf(edit.path)).id, LeafOf(edit.path));
  for (const std::string& path : Subtree(s, edit.path)) s.lower.erase(path);
  return Status::Ok();
}

Status LinkLower(State& s, const ops::OfflineEdit& edit) {
  auto it = s.lower.find(edit.path);
  if (it == s.lower.end()) return CannotFollow(edit, "the lower layers hold no " + edit.path);
  const ObjId file = it->second;
  if (s.Get(file).type != Type::kReg) return CannotFollow(edit, edit.path + " is not a file");
  // With index=on a lower hard link reaches the object's index entry: its copy-up, if any.
  if (!s.Alive(file)) return CannotFollow(edit, "the union removed " + edit.path);
  OVL_ASSIGN_OR_RETURN(ObjId parent, NewNameParent(s, edit, edit.path2));
  s.AddName(file, parent, LeafOf(edit.path2));
  s.lower[edit.path2] = file;
  s.Get(file).offline_touched = true;
  return Status::Ok();
}

// New filesystem, new UUID: every handle and fileid may change; old handles must be STALE or
// reach their own object.
Status CopyLayers(State& s) {
  for (auto& [id, o] : s.objects) o.offline_touched = true;
  s.handle_of.clear();
  s.fileid.clear();
  s.last_fileid.clear();
  return Status::Ok();
}

Status CopyUpUnindexed(State& s, const ops::OfflineEdit& edit) {
  OVL_ASSIGN_OR_RETURN(ObjId dir, Shown(s, edit, edit.path));
  if (s.Get(dir).type != Type::kDir) return CannotFollow(edit, edit.path + " is not a dir");
  std::set<ObjId> copied;  // P and its ancestors
  for (std::string path = edit.path;; path = ParentOf(path)) {
    OVL_ASSIGN_OR_RETURN(ObjId id, Shown(s, edit, path));
    copied.insert(id);
    if (path.empty()) break;
  }
  std::set<ObjId> reached = copied;  // and the lower objects below P
  for (const std::string& path : Subtree(s, edit.path)) reached.insert(s.lower.at(path));
  for (auto& [var, binding] : s.vars) {
    if (reached.count(binding.obj)) binding.offline_may_fail = true;
  }
  // The kernel encodes a non-indexed merge dir by its upper inode, whose number it reports too
  // (host 6.18, local-offline.yaml): handle and fileid of a dir copied up may change, once.
  for (ObjId id : copied) {
    s.upper.insert(id);
    s.handle_of.erase(id);
    s.fileid.erase(id);
    s.last_fileid.erase(id);
  }
  return Status::Ok();
}

}  // namespace

Status ApplyOffline(State& s, const ops::OfflineEdit& edit) {
  Status st = Status::Ok();
  switch (edit.kind) {
    case Kind::kRemoveUpper:
      st = RemoveUpper(s, edit);
      break;
    case Kind::kRenameLower:
      st = RenameLower(s, edit);
      break;
    case Kind::kRemoveLower:
      st = RemoveLower(s, edit);
      break;
    case Kind::kLinkLower:
      st = LinkLower(s, edit);
      break;
    case Kind::kCopyLayers:
      st = CopyLayers(s);
      break;
    case Kind::kCopyUpUnindexed:
      st = CopyUpUnindexed(s, edit);
      break;
  }
  if (st.ok()) s.RefreshListings();
  return st;
}

}  // namespace ovl::model
