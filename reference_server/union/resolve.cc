// Handle decode, union lookup and directory stacks.
#include <fcntl.h>

#include "union/overlay_union.h"

namespace ovl {
namespace {

Status Stale(const std::string& why) {
  return Status::Error(ESTALE, why);
}

std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    if (slash > start) out.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

}  // namespace

FileType TypeOfMode(mode_t mode) {
  switch (mode & S_IFMT) {
    case S_IFDIR:
      return FileType::kDir;
    case S_IFLNK:
      return FileType::kLnk;
    case S_IFCHR:
      return FileType::kChr;
    case S_IFBLK:
      return FileType::kBlk;
    case S_IFSOCK:
      return FileType::kSock;
    case S_IFIFO:
      return FileType::kFifo;
    default:
      return FileType::kReg;
  }
}

std::string JoinPath(const std::string& dir, const std::string& name) {
  return dir.empty() ? name : dir + "/" + name;
}

std::string Dirname(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash);
}

std::string Basename(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string OverlayUnion::IndexNameOf(const ObjectId& id) const {
  OvlFb fb;
  fb.fh = id.fh;
  fb.uuid = layers_.layer(id.layer).fs_uuid;
  return IndexName(fb);
}

Result<std::string> OverlayUnion::RelPathBeneath(const Layer& layer, int fd) {
  OVL_ASSIGN_OR_RETURN(std::string p, env_->FdPath(fd));
  if (p == layer.path) return std::string();
  if (p.size() > layer.path.size() + 1 && p.compare(0, layer.path.size(), layer.path) == 0 &&
      p[layer.path.size()] == '/' && p.find(" (deleted)") == std::string::npos) {
    return p.substr(layer.path.size() + 1);
  }
  return Stale("object is not beneath layer " + layer.path);
}

Result<Fd> OverlayUnion::OpenUpperDir(const std::string& path, int flags) {
  return env_->OpenBeneath(layers_.upper.root.get(), path.empty() ? "." : path, flags);
}

Result<Fd> OverlayUnion::OpenReal(const Obj& obj, int flags) {
  auto fd = env_->OpenByHandle(layers_.layer(obj.real_layer).root.get(), obj.real_fh, flags);
  if (!fd.ok() && (fd.status().code() == ENOENT || fd.status().code() == ESTALE)) {
    return Stale("object vanished");
  }
  return fd;
}

Result<uint8_t> OverlayUnion::LayerOfOrigin(const OvlFb& fb, Fd* opened) {
  for (size_t i = 0; i < layers_.lowers.size(); ++i) {
    const Layer& l = layers_.lowers[i];
    if (l.fs_uuid != fb.uuid) continue;
    auto fd = env_->OpenByHandle(l.root.get(), fb.fh, O_PATH);
    if (!fd.ok()) continue;
    *opened = std::move(*fd);
    return CanonicalLayer(static_cast<uint8_t>(i));
  }
  return Stale("origin not found in any lower layer");
}

uint8_t OverlayUnion::CanonicalLayer(uint8_t layer) const {
  // Layers on one filesystem decode each other's handles: name them all by the first, so an
  // object has one identity whichever of those layers it was met through.
  for (size_t i = 0; i < layer; ++i) {
    if (layers_.lowers[i].dev == layers_.lowers[layer].dev) return static_cast<uint8_t>(i);
  }
  return layer;
}

Result<Obj> OverlayUnion::LowerObj(uint8_t layer, int dirfd, const std::string& name,
                                   const struct stat& st) {
  Obj obj;
  obj.type = TypeOfMode(st.st_mode);
  OVL_ASSIGN_OR_RETURN(RealFh fh, env_->NameToHandle(dirfd, name));
  obj.id = ObjectId{CanonicalLayer(layer), fh};
  obj.origin_ino = st.st_ino;
  obj.origin_nlink = static_cast<int>(st.st_nlink);
  obj.index_name = IndexNameOf(obj.id);
  obj.real_layer = obj.id.layer;
  obj.real_fh = fh;
  if (obj.is_dir()) return obj;
  OVL_ASSIGN_OR_RETURN(IndexEntry e, index_.Lookup(obj.index_name));
  if (e.kind == IndexKind::kTombstone) return Status::Error(ENOENT, "removed (tombstone)");
  if (e.kind == IndexKind::kFile && !opts_.plants.Has(Plant::kLookupIgnoresIndex)) {
    obj.real_layer = kUpperLayer;
    OVL_ASSIGN_OR_RETURN(obj.real_fh, env_->NameToHandle(layers_.index.get(), obj.index_name));
  }
  return obj;
}

Result<Obj> OverlayUnion::UpperObj(int dirfd, const std::string& name, const struct stat& st,
                                   const std::string& union_path) {
  Obj obj;
  obj.type = TypeOfMode(st.st_mode);
  obj.real_layer = kUpperLayer;
  OVL_ASSIGN_OR_RETURN(obj.real_fh, env_->NameToHandle(dirfd, name));
  obj.origin_ino = st.st_ino;
  obj.origin_nlink = static_cast<int>(st.st_nlink);
  obj.id = ObjectId{kUpperLayer, obj.real_fh};
  obj.path = union_path;
  OVL_ASSIGN_OR_RETURN(auto origin, env_->GetXattr(dirfd, name, kXattrOrigin));
  if (!origin) return obj;
  auto fb = DecodeOvlFb(*origin);
  Fd lower;
  auto layer = fb.ok() ? LayerOfOrigin(*fb, &lower) : Result<uint8_t>(fb.status());
  // An origin that no longer decodes (the lower layer changed) leaves the object with an upper
  // identity, as kernel overlayfs does.
  if (!layer.ok()) return obj;
  OVL_ASSIGN_OR_RETURN(struct stat lst, env_->Stat(lower.get(), ""));
  obj.id = ObjectId{*layer, fb->fh};
  obj.origin_ino = lst.st_ino;
  obj.origin_nlink = static_cast<int>(lst.st_nlink);
  obj.index_name = IndexNameOf(obj.id);
  if (!obj.is_dir()) {
    OVL_ASSIGN_OR_RETURN(IndexEntry e, index_.Lookup(obj.index_name));
    if (e.kind == IndexKind::kTombstone) return Status::Error(ENOENT, "removed (tombstone)");
  }
  return obj;
}

// Lower directories named `name` below `lowers`, by overlayfs merge rules: a whiteout or a
// non-directory ends the stack, an opaque directory is its last member.
static Result<std::vector<DirStack::Lower>> LowerDirsNamed(
    FsEnv* env, const LayerSet& ls, const std::vector<DirStack::Lower>& lowers,
    const std::string& name) {
  std::vector<DirStack::Lower> out;
  for (const auto& l : lowers) {
    OVL_ASSIGN_OR_RETURN(
        Fd fd, env->OpenBeneath(ls.lowers[l.layer].root.get(), l.relpath.empty() ? "." : l.relpath,
                                O_PATH | O_DIRECTORY));
    auto st = env->Stat(fd.get(), name);
    if (!st.ok()) {
      if (st.status().code() == ENOENT) continue;
      return st.status();
    }
    if (!S_ISDIR(st->st_mode)) break;
    out.push_back({l.layer, JoinPath(l.relpath, name)});
    OVL_ASSIGN_OR_RETURN(auto opaque, env->GetXattr(fd.get(), name, kXattrOpaque));
    if (opaque && *opaque == "y") break;
  }
  return out;
}

Result<std::vector<DirStack::Lower>> OverlayUnion::StaticLowerWalk(const std::string& relpath) {
  std::vector<DirStack::Lower> cur;
  for (size_t i = 0; i < layers_.lowers.size(); ++i) cur.push_back({static_cast<uint8_t>(i), ""});
  for (const auto& comp : SplitPath(relpath)) {
    OVL_ASSIGN_OR_RETURN(cur, LowerDirsNamed(env_, layers_, cur, comp));
    if (cur.empty()) break;
  }
  return cur;
}

Result<Dentry> OverlayUnion::LookupIn(const std::string& dir_path, const DirStack& stack,
                                      const std::string& name, const LayerDirFds* fds) {
  Dentry d;
  const std::string child_path = JoinPath(dir_path, name);
  if (stack.has_upper) {
    Fd own;
    int ufd = fds ? fds->upper : -1;
    if (ufd < 0) {
      OVL_ASSIGN_OR_RETURN(own, OpenUpperDir(dir_path, O_PATH | O_DIRECTORY));
      ufd = own.get();
    }
    auto st = env_->Stat(ufd, name);
    if (st.ok()) {
      if (IsWhiteoutStat(*st)) return Status::Error(ENOENT, "whiteout");
      OVL_ASSIGN_OR_RETURN(d.obj, UpperObj(ufd, name, *st, child_path));
      d.in_upper = true;
      if (d.obj.is_dir()) {
        d.stack.has_upper = true;
        OVL_ASSIGN_OR_RETURN(auto opaque, env_->GetXattr(ufd, name, kXattrOpaque));
        d.stack.opaque = opaque && *opaque == "y";
        if (!d.stack.opaque) {
          OVL_ASSIGN_OR_RETURN(auto redirect, env_->GetXattr(ufd, name, kXattrRedirect));
          if (redirect && !redirect->empty() && (*redirect)[0] == '/') {
            OVL_ASSIGN_OR_RETURN(d.stack.lowers, StaticLowerWalk(redirect->substr(1)));
          } else {
            OVL_ASSIGN_OR_RETURN(d.stack.lowers,
                                 LowerDirsNamed(env_, layers_, stack.lowers,
                                                redirect && !redirect->empty() ? *redirect : name));
          }
        }
      }
      return d;
    }
    if (st.status().code() != ENOENT) return st.status();
    if (stack.opaque) return Status::Error(ENOENT, "not found");
  }
  for (size_t i = 0; i < stack.lowers.size(); ++i) {
    const auto& l = stack.lowers[i];
    Fd own;
    int lfd = fds && i < fds->lowers.size() ? fds->lowers[i] : -1;
    if (lfd < 0) {
      OVL_ASSIGN_OR_RETURN(
          own, env_->OpenBeneath(layers_.lowers[l.layer].root.get(),
                                 l.relpath.empty() ? "." : l.relpath, O_PATH | O_DIRECTORY));
      lfd = own.get();
    }
    auto st = env_->Stat(lfd, name);
    if (!st.ok()) {
      if (st.status().code() == ENOENT) continue;
      return st.status();
    }
    if (IsWhiteoutStat(*st)) break;
    OVL_ASSIGN_OR_RETURN(d.obj, LowerObj(l.layer, lfd, name, *st));
    d.obj.path = child_path;
    if (d.obj.is_dir()) {
      std::vector<DirStack::Lower> rest(stack.lowers.begin() + i, stack.lowers.end());
      OVL_ASSIGN_OR_RETURN(d.stack.lowers, LowerDirsNamed(env_, layers_, rest, name));
    }
    return d;
  }
  return Status::Error(ENOENT, "not found");
}

Result<DirStack> OverlayUnion::StackOf(const std::string& path) {
  {
    MutexLock g(&cache_mu_);
    auto it = stack_cache_.find(path);
    if (it != stack_cache_.end()) return it->second;
  }
  DirStack stack;
  if (path.empty()) {
    stack.has_upper = true;
    for (size_t i = 0; i < layers_.lowers.size(); ++i) {
      stack.lowers.push_back({static_cast<uint8_t>(i), ""});
    }
  } else {
    OVL_ASSIGN_OR_RETURN(DirStack parent, StackOf(Dirname(path)));
    OVL_ASSIGN_OR_RETURN(Dentry d, LookupIn(Dirname(path), parent, Basename(path)));
    if (!d.obj.is_dir()) return Status::Error(ENOTDIR, "not a directory: " + path);
    stack = d.stack;
  }
  MutexLock g(&cache_mu_);
  if (stack_cache_.size() > kMaxCacheEntries) stack_cache_.clear();
  stack_cache_[path] = stack;
  return stack;
}

Result<Dentry> OverlayUnion::LookupPath(const std::string& path) {
  if (path.empty()) {
    Dentry d;
    d.obj = root_;
    d.in_upper = true;
    OVL_ASSIGN_OR_RETURN(d.stack, StackOf(""));
    return d;
  }
  OVL_ASSIGN_OR_RETURN(DirStack parent, StackOf(Dirname(path)));
  return LookupIn(Dirname(path), parent, Basename(path));
}

Result<bool> OverlayUnion::LowerHasName(const DirStack& stack, const std::string& name) {
  for (const auto& l : stack.lowers) {
    OVL_ASSIGN_OR_RETURN(
        Fd fd, env_->OpenBeneath(layers_.lowers[l.layer].root.get(),
                                 l.relpath.empty() ? "." : l.relpath, O_PATH | O_DIRECTORY));
    auto st = env_->Stat(fd.get(), name);
    if (st.ok()) return !IsWhiteoutStat(*st);
    if (st.status().code() != ENOENT) return st.status();
  }
  return false;
}

Result<std::string> OverlayUnion::UnionPathOfLowerDir(uint8_t layer, const std::string& relpath) {
  // Walk the static merge of the lower layers along relpath, remembering each ancestor's origin;
  // the deepest ancestor that was copied up (has a directory index entry) tells where the
  // subtree lives in the union now, since a renamed directory is always copied up first.
  std::vector<std::string> comps = SplitPath(relpath);
  std::vector<DirStack::Lower> cur;
  for (size_t i = 0; i < layers_.lowers.size(); ++i) cur.push_back({static_cast<uint8_t>(i), ""});
  std::vector<ObjectId> origins;
  for (const auto& comp : comps) {
    OVL_ASSIGN_OR_RETURN(cur, LowerDirsNamed(env_, layers_, cur, comp));
    if (cur.empty()) return Stale("lower directory hidden in the lower stack");
    OVL_ASSIGN_OR_RETURN(Fd fd, env_->OpenBeneath(layers_.lowers[cur[0].layer].root.get(),
                                                  cur[0].relpath, O_PATH | O_DIRECTORY));
    OVL_ASSIGN_OR_RETURN(RealFh fh, env_->NameToHandle(fd.get(), ""));
    origins.push_back(ObjectId{CanonicalLayer(cur[0].layer), fh});
  }
  if (comps.empty() || CanonicalLayer(cur[0].layer) != CanonicalLayer(layer)) {
    return Stale("not the top-most lower directory");
  }
  for (size_t k = origins.size(); k-- > 0;) {
    OVL_ASSIGN_OR_RETURN(IndexEntry e, index_.Lookup(IndexNameOf(origins[k])));
    if (e.kind == IndexKind::kTombstone) return Stale("ancestor removed");
    if (e.kind != IndexKind::kDir || !e.upper_dir) continue;
    auto ufd = env_->OpenByHandle(layers_.upper.root.get(), e.upper_dir->fh, O_PATH);
    if (!ufd.ok()) continue;
    auto upath = RelPathBeneath(layers_.upper, ufd->get());
    if (!upath.ok()) continue;
    std::string path = *upath;
    for (size_t j = k + 1; j < comps.size(); ++j) path = JoinPath(path, comps[j]);
    return path;
  }
  return relpath;
}

Result<Obj> OverlayUnion::ResolveUncached(const HandleFields& f) {
  if (!layers_.valid_layer(f.id.layer)) return Stale("layer no longer configured");
  std::string dir_path;
  if (f.id.layer == kUpperLayer) {
    auto fd = env_->OpenByHandle(layers_.upper.root.get(), f.id.fh, O_PATH);
    if (!fd.ok()) return Stale("upper object gone");
    OVL_ASSIGN_OR_RETURN(struct stat st, env_->Stat(fd->get(), ""));
    if (st.st_nlink == 0) return Stale("upper object unlinked");
    if (!f.is_dir) {
      if (S_ISDIR(st.st_mode)) return Stale("type changed");
      Obj obj;
      obj.id = f.id;
      obj.type = TypeOfMode(st.st_mode);
      obj.real_layer = kUpperLayer;
      obj.real_fh = f.id.fh;
      obj.origin_ino = st.st_ino;
      obj.origin_nlink = static_cast<int>(st.st_nlink);
      return obj;
    }
    OVL_ASSIGN_OR_RETURN(dir_path, RelPathBeneath(layers_.upper, fd->get()));
  } else {
    const std::string index_name = IndexNameOf(f.id);
    OVL_ASSIGN_OR_RETURN(IndexEntry e, index_.Lookup(index_name));
    if (e.kind == IndexKind::kTombstone) return Stale("removed (tombstone)");
    auto lfd = env_->OpenByHandle(layers_.lowers[f.id.layer].root.get(), f.id.fh, O_PATH);
    if (!lfd.ok()) return Stale("lower origin gone");
    OVL_ASSIGN_OR_RETURN(struct stat lst, env_->Stat(lfd->get(), ""));
    if (!f.is_dir) {
      if (S_ISDIR(lst.st_mode) || e.kind == IndexKind::kDir) return Stale("type changed");
      Obj obj;
      obj.id = f.id;
      obj.type = TypeOfMode(lst.st_mode);
      obj.origin_ino = lst.st_ino;
      obj.origin_nlink = static_cast<int>(lst.st_nlink);
      obj.index_name = index_name;
      obj.real_layer = f.id.layer;
      obj.real_fh = f.id.fh;
      if (e.kind == IndexKind::kFile) {
        if (index_.UnionNlink(e, index_name, obj.origin_nlink) <= 0) return Stale("orphan");
        obj.real_layer = kUpperLayer;
        OVL_ASSIGN_OR_RETURN(obj.real_fh, env_->NameToHandle(layers_.index.get(), index_name));
      }
      return obj;
    }
    bool found = false;
    if (e.kind == IndexKind::kDir && e.upper_dir) {
      auto ufd = env_->OpenByHandle(layers_.upper.root.get(), e.upper_dir->fh, O_PATH);
      if (ufd.ok()) {
        auto p = RelPathBeneath(layers_.upper, ufd->get());
        if (p.ok()) {
          dir_path = *p;
          found = true;
        }
      }
    }
    if (!found) {
      // Never copied up (or its index entry is stale): reconnect through the lower path.
      OVL_ASSIGN_OR_RETURN(std::string lpath, env_->FdPath(lfd->get()));
      const Layer* best = nullptr;
      uint8_t best_n = 0;
      for (size_t i = 0; i < layers_.lowers.size(); ++i) {
        const Layer& l = layers_.lowers[i];
        if ((lpath == l.path || lpath.rfind(l.path + "/", 0) == 0) &&
            (!best || l.path.size() > best->path.size())) {
          best = &l;
          best_n = static_cast<uint8_t>(i);
        }
      }
      if (!best) return Stale("lower directory is not beneath any lower layer");
      OVL_ASSIGN_OR_RETURN(std::string rel, RelPathBeneath(*best, lfd->get()));
      OVL_ASSIGN_OR_RETURN(dir_path, UnionPathOfLowerDir(best_n, rel));
    }
  }
  // A directory is only valid if its union path still leads to it.
  auto d = LookupPath(dir_path);
  if (!d.ok() || !(d->obj.id == f.id) || !d->obj.is_dir()) return Stale("directory moved away");
  return d->obj;
}

Result<Obj> OverlayUnion::Resolve(const Handle& handle) {
  auto fields = codec_.Decode(handle);
  if (!fields.ok()) {
    (fields.status().code() == ESTALE ? stale_ : bad_).fetch_add(1);
    return fields.status();
  }
  // The codec verified a volatile handle's generation; a persistent one has none.
  const bool want_volatile = opts_.handle_mode == UnionOptions::HandleMode::kVolatile;
  if (fields->generation.has_value() != want_volatile) {
    stale_.fetch_add(1);
    return Stale("handle from another server instance");
  }
  if (fields->id == root_.id) return root_;
  {
    MutexLock g(&cache_mu_);
    auto it = obj_cache_.find(handle);
    if (it != obj_cache_.end()) {
      hits_.fetch_add(1);
      return it->second;
    }
  }
  // Negative control: only the in-memory map of handles handed out since start.
  auto by_path = [&]() -> Result<Obj> {
    std::string path;
    {
      MutexLock g(&cache_mu_);
      auto it = path_map_.find(handle);
      if (it == path_map_.end()) return Stale("handle not in the in-memory map");
      path = it->second;
    }
    auto d = LookupPath(path);
    return (d.ok() && d->obj.id == fields->id) ? Result<Obj>(d->obj) : Stale("path changed");
  };
  if (opts_.use_index) index_lookups_.fetch_add(1);
  Result<Obj> obj = opts_.use_index ? ResolveUncached(*fields) : by_path();
  if (!obj.ok()) {
    if (obj.status().code() == ESTALE) stale_.fetch_add(1);
    return obj.status();
  }
  CacheObj(handle, *obj);
  return obj;
}

Result<Obj> OverlayUnion::ResolveDir(const Handle& handle) {
  OVL_ASSIGN_OR_RETURN(Obj obj, Resolve(handle));
  if (!obj.is_dir()) return Status::Error(ENOTDIR, "not a directory");
  return obj;
}

Result<Handle> OverlayUnion::HandleOf(const Obj& obj) const {
  HandleFields f;
  f.id = obj.id;
  f.is_dir = obj.is_dir();
  if (opts_.handle_mode == UnionOptions::HandleMode::kVolatile) f.generation = boot_generation_;
  return codec_.Encode(f);
}

Result<Node> OverlayUnion::NodeOf(const Obj& obj, const std::string& union_path) {
  OVL_ASSIGN_OR_RETURN(Handle h, HandleOf(obj));
  if (!opts_.use_index) {
    MutexLock g(&cache_mu_);
    path_map_[h] = union_path;
  }
  CacheObj(h, obj);
  return Node{h, obj.type};
}

Result<Node> OverlayUnion::Root() {
  return NodeOf(root_, "");
}

Result<Node> OverlayUnion::Decode(const Handle& handle) {
  OVL_ASSIGN_OR_RETURN(Obj obj, Resolve(handle));
  return Node{handle, obj.type};
}

Result<Node> OverlayUnion::Lookup(const Node& dir, const std::string& name) {
  if (name.empty() || name.size() > 255 || name.find('/') != std::string::npos ||
      name.find('\0') != std::string::npos) {
    return Status::Error(name.size() > 255 ? ENAMETOOLONG : ENOENT, "bad name");
  }
  ReaderLock rl(&rename_mu_);
  OVL_ASSIGN_OR_RETURN(Obj d, ResolveDir(dir.handle));
  if (name == ".") return NodeOf(d, d.path);
  if (name == "..") {
    OVL_ASSIGN_OR_RETURN(Dentry p, LookupPath(Dirname(d.path)));
    return NodeOf(p.obj, Dirname(d.path));
  }
  OVL_ASSIGN_OR_RETURN(DirStack stack, StackOf(d.path));
  OVL_ASSIGN_OR_RETURN(Dentry e, LookupIn(d.path, stack, name));
  return NodeOf(e.obj, JoinPath(d.path, name));
}

}  // namespace ovl
