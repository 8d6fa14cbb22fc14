#include "union/layers.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/sysmacros.h>

#include <atomic>
#include <cstring>

#include "union/index.h"

namespace ovl {
namespace {

constexpr const char* kIdentityDir = "ovlnfsd";
constexpr const char* kIdentityFile = "identity";

Result<Layer> OpenLayer(FsEnv* env, const std::string& path) {
  int raw = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (raw < 0) return Status::FromErrno("open layer " + path);
  Layer layer;
  layer.root = Fd(raw);
  OVL_ASSIGN_OR_RETURN(layer.path, env->FdPath(raw));
  OVL_ASSIGN_OR_RETURN(struct stat st, env->Stat(raw, ""));
  layer.dev = st.st_dev;
  layer.fs_uuid = FilesystemUuid(raw);
  // The layer must support file handles: the whole design rests on them.
  auto fh = env->NameToHandle(raw, "");
  if (!fh.ok()) {
    return Status::Error(fh.status().code(),
                         path + ": no file handle support (" + fh.status().message() + ")");
  }
  return layer;
}

// A lower layer that is itself an overlay mount refuses the trusted.overlay.* xattrs on kernels
// that do not escape them for nested overlays (before 6.7): its whiteouts, opaque directories
// and redirects cannot be read, and every lookup in a directory of it would fail. Refused at
// start, with the reason, instead (docs/vms.md, vm-layers).
Status CheckOverlayXattrs(FsEnv* env, const Layer& layer, const std::string& path) {
  auto opaque = env->GetXattr(layer.root.get(), "", kXattrOpaque);
  if (opaque.ok() || opaque.status().code() != EOPNOTSUPP) return Status::Ok();
  return Status::Error(EOPNOTSUPP, path + ": its " + kXattrOpaque + " cannot be read (" +
                                       opaque.status().message() +
                                       "): a nested overlay needs a kernel that escapes overlay "
                                       "xattrs (6.7 or later)");
}

Result<Fd> EnsureDir(FsEnv* env, int parent, const std::string& name) {
  Status st = env->MkDir(parent, name, 0700);
  if (!st.ok() && st.code() != EEXIST) return st;
  return env->OpenBeneath(parent, name, O_RDONLY | O_DIRECTORY);
}

OvlFb FbOf(const Layer& layer, RealFh fh, bool upper) {
  OvlFb fb;
  fb.fh = std::move(fh);
  fb.uuid = layer.fs_uuid;
  fb.upper = upper;
  return fb;
}

// Sets `attr` on dirfd to `want` the first time; afterwards insists it still matches.
Status VerifyOrSet(FsEnv* env, int dirfd, const char* attr, const std::string& want,
                   const std::string& what) {
  OVL_ASSIGN_OR_RETURN(auto have, env->GetXattr(dirfd, "", attr));
  if (!have) return env->SetXattr(dirfd, "", attr, want);
  if (*have != want) {
    return Status::Error(ESTALE, what + " belongs to another overlay (" + attr + " mismatch)");
  }
  return Status::Ok();
}

Status LoadIdentity(FsEnv* env, LayerSet& ls) {
  OVL_ASSIGN_OR_RETURN(Fd dir, EnsureDir(env, ls.work.get(), kIdentityDir));
  char buf[32];
  auto existing = env->OpenBeneath(dir.get(), kIdentityFile, O_RDONLY);
  if (existing.ok()) {
    OVL_ASSIGN_OR_RETURN(size_t n, env->PRead(existing->get(), buf, sizeof buf, 0));
    if (n != sizeof buf) return Status::Error(EINVAL, "work dir identity file is truncated");
  } else {
    if (existing.status().code() != ENOENT) return existing.status();
    if (getrandom(buf, sizeof buf, 0) != sizeof buf) return Status::FromErrno("getrandom");
    // Written under a scratch name and renamed, so a crash never leaves a half identity.
    const std::string tmp = TempName();
    OVL_ASSIGN_OR_RETURN(Fd f, env->OpenBeneath(dir.get(), tmp, O_WRONLY | O_CREAT | O_EXCL, 0600));
    OVL_ASSIGN_OR_RETURN(size_t n, env->PWrite(f.get(), buf, sizeof buf, 0));
    if (n != sizeof buf) return Status::Error(EIO, "short write of identity");
    OVL_RETURN_IF_ERROR(env->Fsync(f.get()));
    OVL_RETURN_IF_ERROR(env->Rename(dir.get(), tmp, dir.get(), kIdentityFile, RENAME_NOREPLACE));
    OVL_RETURN_IF_ERROR(env->Fsync(dir.get()));
  }
  OVL_ASSIGN_OR_RETURN(ls.pending, EnsureDir(env, dir.get(), "pending"));
  OVL_ASSIGN_OR_RETURN(ls.linkup, EnsureDir(env, dir.get(), "linkup"));
  std::memcpy(ls.export_uuid.data(), buf, 16);
  std::memcpy(ls.mac_key.data(), buf + 16, 16);
  return Status::Ok();
}

}  // namespace

std::string TempName() {
  static std::atomic<uint64_t> counter{0};
  static const uint64_t salt = [] {
    uint64_t v = 0;
    if (getrandom(&v, sizeof v, 0) != sizeof v) v = static_cast<uint64_t>(getpid());
    return v;
  }();
  char name[48];
  snprintf(name, sizeof name, "#ovl.%016llx.%llu", static_cast<unsigned long long>(salt),
           static_cast<unsigned long long>(counter.fetch_add(1)));
  return name;
}

Status RemoveTree(FsEnv* env, int dirfd, const std::string& name) {
  OVL_ASSIGN_OR_RETURN(struct stat st, env->Stat(dirfd, name));
  if (S_ISDIR(st.st_mode)) {
    OVL_ASSIGN_OR_RETURN(Fd sub, env->OpenBeneath(dirfd, name, O_RDONLY | O_DIRECTORY));
    OVL_ASSIGN_OR_RETURN(auto entries, env->ReadDir(sub.get()));
    for (const auto& e : entries) OVL_RETURN_IF_ERROR(RemoveTree(env, sub.get(), e.name));
    return env->Unlink(dirfd, name, AT_REMOVEDIR);
  }
  return env->Unlink(dirfd, name, 0);
}

Status SyncEntry(FsEnv* env, int dirfd, const std::string& name) {
  OVL_ASSIGN_OR_RETURN(struct stat st, env->Stat(dirfd, name));
  if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
    // No fd to fsync. Journalling filesystems (ext4, xfs) commit metadata changes in the order
    // they were made, so the entry's change is durable once a later change is: the directory's
    // when it changed since, else the next one the caller makes durable.
    return env->Fsync(dirfd);
  }
  OVL_ASSIGN_OR_RETURN(Fd fd, env->OpenBeneath(dirfd, name, O_RDONLY | O_NONBLOCK | O_NOCTTY));
  return env->Fsync(fd.get());
}

Result<LayerSet> OpenLayers(FsEnv* env, const std::vector<std::string>& lower_dirs,
                            const std::string& upper_dir, const std::string& work_dir) {
  if (lower_dirs.empty()) return Status::Error(EINVAL, "at least one lower dir is required");
  if (lower_dirs.size() >= kUpperLayer) return Status::Error(EINVAL, "too many lower dirs");
  LayerSet ls;
  for (const auto& dir : lower_dirs) {
    OVL_ASSIGN_OR_RETURN(Layer l, OpenLayer(env, dir));
    OVL_RETURN_IF_ERROR(CheckOverlayXattrs(env, l, dir));
    ls.lowers.push_back(std::move(l));
  }
  int raw = ::open(work_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (raw < 0) return Status::FromErrno("open work dir " + work_dir);
  ls.work = Fd(raw);
  // Lower-only: an empty upper of the server's own, which nothing writes (the export is
  // read-only), keeps one code path for the root and the index.
  const bool lower_only = upper_dir.empty();
  if (lower_only) {
    OVL_ASSIGN_OR_RETURN(Fd own, EnsureDir(env, raw, "ovlnfsd"));
    OVL_RETURN_IF_ERROR(EnsureDir(env, own.get(), "upper").status());
  }
  OVL_ASSIGN_OR_RETURN(ls.upper,
                       OpenLayer(env, lower_only ? work_dir + "/ovlnfsd/upper" : upper_dir));
  OVL_ASSIGN_OR_RETURN(struct stat wst, env->Stat(raw, ""));
  if (wst.st_dev != ls.upper.dev) {
    return Status::Error(EXDEV, "work dir and upper dir must be on the same filesystem");
  }
  OVL_ASSIGN_OR_RETURN(std::string work_path, env->FdPath(raw));
  for (const std::string* p : {&ls.upper.path, &work_path}) {
    if (lower_only) break;
    const std::string& other = (p == &work_path) ? ls.upper.path : work_path;
    if (other.rfind(*p + "/", 0) == 0 || other == *p) {
      return Status::Error(EINVAL, "upper and work dirs must not contain each other");
    }
  }
  for (const auto& l : ls.lowers) ls.single_device &= (l.dev == ls.upper.dev);

  OVL_ASSIGN_OR_RETURN(ls.temp, EnsureDir(env, raw, "work"));
  OVL_ASSIGN_OR_RETURN(ls.index, EnsureDir(env, raw, "index"));
  OVL_RETURN_IF_ERROR(LoadIdentity(env, ls));

  OVL_ASSIGN_OR_RETURN(RealFh lower_root, env->NameToHandle(ls.lowers[0].root.get(), ""));
  OVL_ASSIGN_OR_RETURN(RealFh upper_root, env->NameToHandle(ls.upper.root.get(), ""));
  OVL_RETURN_IF_ERROR(VerifyOrSet(env, ls.upper.root.get(), kXattrOrigin,
                                  EncodeOvlFb(FbOf(ls.lowers[0], lower_root, false)),
                                  "upper dir " + upper_dir));
  OVL_RETURN_IF_ERROR(VerifyOrSet(env, ls.index.get(), kXattrUpper,
                                  EncodeOvlFb(FbOf(ls.upper, upper_root, true)),
                                  "work dir " + work_dir));
  return ls;
}

Status RecoverLayers(FsEnv* env, LayerSet& ls, const LogFn& log) {
  OVL_ASSIGN_OR_RETURN(auto scratch, env->ReadDir(ls.temp.get()));
  for (const auto& e : scratch) OVL_RETURN_IF_ERROR(RemoveTree(env, ls.temp.get(), e.name));
  OVL_ASSIGN_OR_RETURN(auto entries, env->ReadDir(ls.index.get()));
  IndexStore index(env, &ls);
  OVL_RETURN_IF_ERROR(index.RecoverNlinkIntents(log));
  for (const auto& e : entries) OVL_RETURN_IF_ERROR(index.RecoverEntry(e.name));
  OVL_RETURN_IF_ERROR(env->Fsync(ls.temp.get()));
  return env->Fsync(ls.index.get());
}

}  // namespace ovl
