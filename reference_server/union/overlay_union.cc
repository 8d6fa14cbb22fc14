#include "union/overlay_union.h"

#include <fcntl.h>
#include <sys/random.h>

namespace ovl {
namespace {

// Only needs to differ between starts, so it never waits for the kernel's entropy pool.
uint32_t NewGeneration() {
  uint32_t g = 0;
  if (getrandom(&g, sizeof g, GRND_NONBLOCK) != sizeof g) {
    g = static_cast<uint32_t>(getpid()) ^ static_cast<uint32_t>(time(nullptr));
  }
  return g;
}

}  // namespace

OverlayUnion::OverlayUnion(const UnionOptions& opts, FsEnv* env, LayerSet layers)
    : opts_(opts),
      env_(env),
      layers_(std::move(layers)),
      index_(env_, &layers_),
      boot_generation_(NewGeneration()),
      codec_(layers_.export_uuid, layers_.mac_key, !opts.plants.Has(Plant::kHandleTagUnchecked),
             opts.handle_mode == UnionOptions::HandleMode::kVolatile
                 ? std::optional<uint32_t>(boot_generation_)
                 : std::nullopt) {}

Result<std::unique_ptr<UnionFs>> UnionFs::Open(const UnionOptions& options) {
  FsEnv* env = options.env ? options.env : DefaultFsEnv();
  OVL_ASSIGN_OR_RETURN(LayerSet layers,
                       OpenLayers(env, options.lower_dirs, options.upper_dir, options.work_dir));
  OVL_RETURN_IF_ERROR(RecoverLayers(env, layers, options.log));
  UnionOptions effective = options;
  effective.read_only |= options.upper_dir.empty();
  auto u = std::make_unique<OverlayUnion>(effective, env, std::move(layers));
  OVL_RETURN_IF_ERROR(u->InitRoot());
  return std::unique_ptr<UnionFs>(std::move(u));
}

Status OverlayUnion::InitRoot() {
  OVL_ASSIGN_OR_RETURN(struct stat st, env_->Stat(layers_.upper.root.get(), ""));
  OVL_ASSIGN_OR_RETURN(RealFh fh, env_->NameToHandle(layers_.upper.root.get(), ""));
  root_.id = ObjectId{kUpperLayer, fh};
  root_.type = FileType::kDir;
  root_.real_layer = kUpperLayer;
  root_.real_fh = fh;
  root_.origin_ino = st.st_ino;
  root_.origin_nlink = static_cast<int>(st.st_nlink);
  return Status::Ok();
}

void OverlayUnion::CacheObj(const Handle& h, const Obj& obj) {
  MutexLock g(&cache_mu_);
  if (obj_cache_.size() > kMaxCacheEntries) obj_cache_.clear();
  obj_cache_[h] = obj;
}

void OverlayUnion::ForgetObj(const Obj& obj) {
  auto h = HandleOf(obj);
  if (!h.ok()) return;
  MutexLock g(&cache_mu_);
  obj_cache_.erase(*h);
}

void OverlayUnion::ForgetDirs() {
  for (auto& gen : listing_gens_) gen.fetch_add(1);
  MutexLock g(&cache_mu_);
  stack_cache_.clear();
  listing_cache_.clear();
  obj_cache_.clear();
}

void OverlayUnion::ForgetListing(const std::string& dir_path) {
  ListingGen(dir_path).fetch_add(1);
  MutexLock g(&cache_mu_);
  listing_cache_.erase(dir_path);
}

Mutex& OverlayUnion::StripeOf(const ObjectId& id) {
  size_t h = std::hash<std::string>()(id.fh.bytes) ^ (static_cast<size_t>(id.layer) << 7);
  return stripes_[h % stripes_.size()];
}

void OverlayUnion::DropCaches() {
  for (auto& gen : listing_gens_) gen.fetch_add(1);
  MutexLock g(&cache_mu_);
  obj_cache_.clear();
  stack_cache_.clear();
  listing_cache_.clear();
  path_map_.clear();
  drops_.fetch_add(1);
}

UnionCounters OverlayUnion::Counters() const {
  UnionCounters c;
  c.decode_cache_hits = hits_.load();
  c.decode_index_lookups = index_lookups_.load();
  c.decode_stale = stale_.load();
  c.decode_bad = bad_.load();
  c.copy_ups = copy_ups_.load();
  c.cache_drops = drops_.load();
  return c;
}

}  // namespace ovl
