// Merged directory listings. A cookie is a hash of the entry name, so it means the same thing
// after any eviction or restart, and listing order is cookie order: a client resuming after a
// cookie never sees an entry twice or misses one that still exists, whether or not the listing
// was rebuilt in between (so the cookie verifier stays zero).
//
// A listing is cached per directory and reused while the real directories it merged are
// unchanged (same stack, same stamps); a page then costs O(page), not O(directory). The server's
// own changes update or drop it (AfterUpperChange, ForgetListing, ForgetDirs); changes made
// behind its back show in the stamps.
#include <fcntl.h>

#include <algorithm>
#include <unordered_set>

#include "union/overlay_union.h"

namespace ovl {
namespace {

uint64_t CookieOf(const std::string& name) {
  uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a
  for (unsigned char c : name) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  h &= 0x7fffffffffffffffULL;  // some clients keep cookies in a signed offset
  return h < 3 ? h + 3 : h;    // 0 means "start"; 1 and 2 are left to "." and ".."
}

// Listing order (OverlayUnion::MergedEntry): by cookie, names breaking ties.
template <typename Entry>
bool CookieLess(const Entry& a, const Entry& b) {
  return a.cookie < b.cookie || (a.cookie == b.cookie && a.name < b.name);
}

}  // namespace

Result<DirStamp> OverlayUnion::StampOf(int fd) {
  OVL_ASSIGN_OR_RETURN(struct stat st, env_->Stat(fd, ""));
  DirStamp s;
  s.dev = st.st_dev;
  s.ino = st.st_ino;
  s.mtime = st.st_mtim;
  s.ctime = st.st_ctim;
  s.size = st.st_size;
  return s;
}

std::atomic<uint64_t>& OverlayUnion::ListingGen(const std::string& path) {
  return listing_gens_[std::hash<std::string>()(path) % listing_gens_.size()];
}

Result<OverlayUnion::OpenedDirs> OverlayUnion::OpenDirs(const std::string& path,
                                                        const DirStack& stack) {
  OpenedDirs d;
  // Stamps are taken before any entry is read: a change racing with the read then shows as a
  // stamp mismatch next time, never as a stale listing under a fresh stamp.
  auto add = [&](Result<Fd> fd) -> Result<int> {
    if (!fd.ok()) return fd.status();
    OVL_ASSIGN_OR_RETURN(DirStamp s, StampOf(fd->get()));
    d.stamps.push_back(s);
    d.owned.push_back(std::move(*fd));
    return d.owned.back().get();
  };
  if (stack.has_upper) {
    OVL_ASSIGN_OR_RETURN(d.fds.upper, add(OpenUpperDir(path, O_RDONLY | O_DIRECTORY)));
  }
  if (!stack.opaque) {
    for (const auto& l : stack.lowers) {
      OVL_ASSIGN_OR_RETURN(int fd, add(env_->OpenBeneath(layers_.lowers[l.layer].root.get(),
                                                         l.relpath.empty() ? "." : l.relpath,
                                                         O_RDONLY | O_DIRECTORY)));
      d.fds.lowers.push_back(fd);
    }
  }
  return d;
}

Result<OverlayUnion::ListingRef> OverlayUnion::Listing(const std::string& path,
                                                       const DirStack& stack,
                                                       const OpenedDirs& dirs) {
  std::atomic<uint64_t>& gen = ListingGen(path);
  const uint64_t gen_before = gen.load();
  {
    MutexLock g(&cache_mu_);
    auto it = listing_cache_.find(path);
    if (it != listing_cache_.end() && it->second->stack == stack &&
        it->second->stamps == dirs.stamps) {
      return it->second;
    }
  }
  std::unordered_set<std::string> seen;
  auto out = std::make_shared<DirListing>();
  out->stack = stack;
  out->stamps = dirs.stamps;
  auto scan = [&](int dirfd, bool upper) -> Status {
    OVL_ASSIGN_OR_RETURN(auto entries, env_->ReadDir(dirfd));
    seen.reserve(seen.size() + entries.size());
    for (auto& e : entries) {
      // A whiteout is seen too: it hides the name in the layers below.
      if (!seen.insert(e.name).second) continue;
      if (e.type == DT_CHR || e.type == DT_UNKNOWN) {
        OVL_ASSIGN_OR_RETURN(struct stat st, env_->Stat(dirfd, e.name));
        if (IsWhiteoutStat(st)) continue;
      }
      // Entries whose identity is not their own inode (lower files, which may be removed or
      // copied up, and copied-up upper entries) get their fileid by a union lookup later. A
      // lower directory met here first is the top-most one, so its own inode is its fileid.
      uint64_t ino = e.ino;
      if (!upper && (e.type != DT_DIR || !layers_.single_device)) ino = 0;
      if (upper) {
        OVL_ASSIGN_OR_RETURN(auto origin, env_->GetXattr(dirfd, e.name, kXattrOrigin));
        if (origin) ino = 0;
      }
      const uint64_t cookie = CookieOf(e.name);
      out->entries.push_back({std::move(e.name), cookie, ino});
    }
    return Status::Ok();
  };
  if (stack.has_upper) OVL_RETURN_IF_ERROR(scan(dirs.fds.upper, true));
  if (!stack.opaque) {
    for (int fd : dirs.fds.lowers) OVL_RETURN_IF_ERROR(scan(fd, false));
  }
  std::sort(out->entries.begin(), out->entries.end(), CookieLess<MergedEntry>);
  {
    MutexLock g(&out->mu);  // not shared yet: for the analysis, which cannot know that
    out->known.resize(out->entries.size());
  }
  MutexLock g(&cache_mu_);
  // A change to the directory while it was read may be missing from `out`: use it this once.
  if (gen.load() == gen_before) {
    if (listing_cache_.size() > 4096) listing_cache_.clear();
    listing_cache_[path] = out;
  }
  return ListingRef(out);
}

void OverlayUnion::AfterUpperChange(const std::string& path, int upper_fd,
                                    const Result<DirStamp>& before, const std::string& name) {
  ListingGen(path).fetch_add(1);
  ListingRef old;
  {
    MutexLock g(&cache_mu_);
    auto it = listing_cache_.find(path);
    if (it == listing_cache_.end()) return;
    old = it->second;
  }
  auto drop = [&] {
    MutexLock g(&cache_mu_);
    auto it = listing_cache_.find(path);
    if (it != listing_cache_.end() && it->second == old) listing_cache_.erase(it);
  };
  // Only a listing that was current just before this change may absorb it; anything else
  // (another change, a stack change, a failed stat) means reading the directory again.
  auto after = StampOf(upper_fd);
  auto stack = StackOf(path);
  if (!before.ok() || !after.ok() || !stack.ok() || !(*stack == old->stack) ||
      !old->stack.has_upper || old->stamps.empty() || !(old->stamps[0] == *before)) {
    return drop();
  }
  auto d = LookupIn(path, *stack, name);
  if (!d.ok() && d.status().code() != ENOENT) return drop();
  auto next = std::make_shared<DirListing>();
  next->stack = old->stack;
  next->stamps = old->stamps;
  next->stamps[0] = *after;
  next->entries = old->entries;
  std::vector<DirListing::Known> known;
  {
    MutexLock g(&old->mu);
    known = old->known;
  }
  MergedEntry me{name, CookieOf(name), 0};
  auto pos =
      std::lower_bound(next->entries.begin(), next->entries.end(), me, CookieLess<MergedEntry>);
  const size_t at = static_cast<size_t>(pos - next->entries.begin());
  const bool present = pos != next->entries.end() && pos->name == name;
  if (d.ok()) {
    me.ino = FileIdOf(d->obj);
    DirListing::Known k;
    k.fileid = me.ino;
    if (auto h = HandleOf(d->obj); h.ok()) k.handle = *h;
    if (present) {
      *pos = me;
      known[at] = k;
    } else {
      next->entries.insert(pos, me);
      known.insert(known.begin() + static_cast<ptrdiff_t>(at), k);
    }
  } else if (present) {
    next->entries.erase(pos);
    known.erase(known.begin() + static_cast<ptrdiff_t>(at));
  }
  {
    MutexLock g(&next->mu);  // not shared yet: for the analysis, which cannot know that
    next->known = std::move(known);
  }
  MutexLock g(&cache_mu_);
  auto it = listing_cache_.find(path);
  if (it == listing_cache_.end() || it->second != old) return;
  it->second = std::move(next);
}

Result<bool> OverlayUnion::DirIsEmpty(const std::string& path, const DirStack& stack) {
  OVL_ASSIGN_OR_RETURN(OpenedDirs dirs, OpenDirs(path, stack));
  OVL_ASSIGN_OR_RETURN(ListingRef listing, Listing(path, stack, dirs));
  for (const auto& e : listing->entries) {
    if (e.ino != 0) return false;
    auto d = LookupIn(path, stack, e.name, &dirs.fds);
    if (d.ok()) return false;
    if (d.status().code() != ENOENT) return d.status();
  }
  return true;
}

Result<DirPage> OverlayUnion::ReadDir(const Node& dir, uint64_t cookie, size_t max_entries,
                                      bool plus, const EntryFits& fits) {
  ReaderLock rl(&rename_mu_);
  OVL_ASSIGN_OR_RETURN(Obj d, ResolveDir(dir.handle));
  OVL_ASSIGN_OR_RETURN(DirStack stack, StackOf(d.path));
  OVL_ASSIGN_OR_RETURN(OpenedDirs dirs, OpenDirs(d.path, stack));
  OVL_ASSIGN_OR_RETURN(ListingRef listing, Listing(d.path, stack, dirs));
  const auto& entries = listing->entries;
  // The planted mistake hands out an entry's position instead (3 for the first, as 0 to 2 are
  // reserved), which a change to the directory before it moves.
  const bool positional = opts_.plants.Has(Plant::kReaddirCookieIsPosition);
  auto it = positional
                ? entries.begin() + static_cast<ptrdiff_t>(std::min<uint64_t>(
                                        cookie < 3 ? 0 : cookie - 2, entries.size()))
                : std::upper_bound(entries.begin(), entries.end(), cookie,
                                   [](uint64_t c, const MergedEntry& e) { return c < e.cookie; });
  DirPage page;
  bool refused = false;
  for (; it != entries.end() && page.entries.size() < max_entries; ++it) {
    const size_t i = static_cast<size_t>(it - entries.begin());
    DirEntryPlus out;
    out.name = it->name;
    out.cookie = positional ? i + 3 : it->cookie;
    out.fileid = it->ino;
    DirListing::Known known;
    if (it->ino == 0 || plus) {
      MutexLock g(&listing->mu);
      known = listing->known[i];
    }
    if (it->ino == 0 && !plus && known.fileid != 0) {
      out.fileid = known.fileid;
    } else if (it->ino == 0 || plus) {
      // A name keeps leading to the same object while the listing is valid, so the handle it
      // led to before decodes to it (through the handle table) without a lookup by name.
      Result<Obj> obj = Status::Error(ENOENT, "not looked up yet");
      if (!known.handle.empty()) obj = Resolve(known.handle);
      if (!obj.ok()) {
        auto e = LookupIn(d.path, stack, it->name, &dirs.fds);
        if (!e.ok()) {
          if (e.status().code() == ENOENT) continue;  // removed since the listing was made
          return e.status();
        }
        obj = std::move(e->obj);
        obj->path = JoinPath(d.path, it->name);
      }
      out.fileid = FileIdOf(*obj);
      if (plus) {
        OVL_ASSIGN_OR_RETURN(out.node, NodeOf(*obj, JoinPath(d.path, it->name)));
        auto attr = AttrOf(*obj);
        if (attr.ok()) out.attr = *attr;
      }
      if (known.handle.empty() || known.fileid == 0) {
        known.fileid = out.fileid;
        if (out.node) {
          known.handle = out.node->handle;
        } else if (auto h = HandleOf(*obj); h.ok()) {
          known.handle = *h;
        }
        MutexLock g(&listing->mu);
        listing->known[i] = known;
      }
    }
    if (fits && !fits(out)) {
      refused = true;
      break;
    }
    page.entries.push_back(std::move(out));
  }
  page.eof = !refused && it == entries.end();
  return page;
}

}  // namespace ovl
