// Merged directory listings. A cookie is a hash of the entry name, so it means the same thing
// after any eviction or restart, and listing order is cookie order: a client resuming after a
// cookie never sees an entry twice or misses one that still exists.
#include <fcntl.h>

#include <algorithm>
#include <set>

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

}  // namespace

Result<std::shared_ptr<const std::vector<OverlayUnion::MergedEntry>>> OverlayUnion::Listing(
    const std::string& path, const DirStack& stack) {
  {
    std::lock_guard<std::mutex> g(cache_mu_);
    auto it = listing_cache_.find(path);
    if (it != listing_cache_.end()) return it->second;
  }
  std::set<std::string> seen;
  auto out = std::make_shared<std::vector<MergedEntry>>();
  auto scan = [&](int dirfd, bool upper) -> Status {
    OVL_ASSIGN_OR_RETURN(auto entries, env_->ReadDir(dirfd));
    for (const auto& e : entries) {
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
      out->push_back({e.name, CookieOf(e.name), ino});
    }
    return Status::Ok();
  };
  if (stack.has_upper) {
    OVL_ASSIGN_OR_RETURN(Fd ufd, OpenUpperDir(path));
    OVL_RETURN_IF_ERROR(scan(ufd.get(), true));
  }
  if (!stack.opaque) {
    for (const auto& l : stack.lowers) {
      OVL_ASSIGN_OR_RETURN(Fd lfd, env_->OpenBeneath(layers_.lowers[l.layer].root.get(),
                                                     l.relpath.empty() ? "." : l.relpath,
                                                     O_RDONLY | O_DIRECTORY));
      OVL_RETURN_IF_ERROR(scan(lfd.get(), false));
    }
  }
  std::sort(out->begin(), out->end(),
            [](const MergedEntry& a, const MergedEntry& b) { return a.cookie < b.cookie; });
  std::lock_guard<std::mutex> g(cache_mu_);
  if (listing_cache_.size() > 4096) listing_cache_.clear();
  listing_cache_[path] = out;
  return std::shared_ptr<const std::vector<MergedEntry>>(out);
}

Result<bool> OverlayUnion::DirIsEmpty(const std::string& path, const DirStack& stack) {
  OVL_ASSIGN_OR_RETURN(auto listing, Listing(path, stack));
  for (const auto& e : *listing) {
    if (e.ino != 0) return false;
    auto d = LookupIn(path, stack, e.name);
    if (d.ok()) return false;
    if (d.status().code() != ENOENT) return d.status();
  }
  return true;
}

Result<DirPage> OverlayUnion::ReadDir(const Node& dir, uint64_t cookie, size_t max_entries,
                                      bool plus) {
  std::shared_lock<std::shared_mutex> rl(rename_mu_);
  OVL_ASSIGN_OR_RETURN(Obj d, ResolveDir(dir.handle));
  OVL_ASSIGN_OR_RETURN(DirStack stack, StackOf(d.path));
  OVL_ASSIGN_OR_RETURN(auto listing, Listing(d.path, stack));
  auto it = std::upper_bound(listing->begin(), listing->end(), cookie,
                             [](uint64_t c, const MergedEntry& e) { return c < e.cookie; });
  DirPage page;
  for (; it != listing->end() && page.entries.size() < max_entries; ++it) {
    DirEntryPlus out;
    out.name = it->name;
    out.cookie = it->cookie;
    out.fileid = it->ino;
    if (it->ino == 0 || plus) {
      auto e = LookupIn(d.path, stack, it->name);
      if (!e.ok()) {
        if (e.status().code() == ENOENT) continue;  // removed since the listing was made
        return e.status();
      }
      out.fileid = FileIdOf(e->obj);
      if (plus) {
        OVL_ASSIGN_OR_RETURN(out.node, NodeOf(e->obj, JoinPath(d.path, it->name)));
        auto attr = AttrOf(e->obj);
        if (attr.ok()) out.attr = *attr;
      }
    }
    page.entries.push_back(std::move(out));
  }
  page.eof = it == listing->end();
  return page;
}

}  // namespace ovl
