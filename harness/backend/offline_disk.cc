#include "backend/offline_disk.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "backend/overlay_mount.h"

namespace ovl::backend {
namespace {

using Kind = ops::OfflineEdit::Kind;

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

// The lower layers holding `path`, top-most first.
std::vector<std::string> Holding(const EditableLayers& dirs, const std::string& path) {
  std::vector<std::string> out;
  for (const std::string& lower : dirs.lowers) {
    if (Exists(lower + "/" + path)) out.push_back(lower);
  }
  return out;
}

Status RemoveUpper(const ops::OfflineEdit& edit, const EditableLayers& dirs) {
  const std::string path = dirs.upper + "/" + edit.path;
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return Status::FromErrno("remove-upper: lstat " + path);
  if (!S_ISREG(st.st_mode)) return Status::Error(EINVAL, "remove-upper: not a file: " + path);
  if (::unlink(path.c_str()) != 0) return Status::FromErrno("remove-upper: unlink " + path);
  return Status::Ok();
}

Status EditLower(const ops::OfflineEdit& edit, const EditableLayers& dirs) {
  const std::vector<std::string> layers = Holding(dirs, edit.path);
  const std::string what(ops::OfflineKindName(edit.kind));
  if (layers.empty()) return Status::Error(ENOENT, what + ": no lower layer holds " + edit.path);
  for (const std::string& lower : layers) {
    const std::string from = lower + "/" + edit.path, to = lower + "/" + edit.path2;
    if (edit.kind == Kind::kRemoveLower) {
      std::error_code ec;
      std::filesystem::remove_all(from, ec);
      if (ec) return Status::Error(ec.value(), what + ": remove " + from + ": " + ec.message());
      continue;
    }
    if (Exists(to)) return Status::Error(EEXIST, what + ": " + to + " exists");
    if (edit.kind == Kind::kLinkLower) {
      if (::link(from.c_str(), to.c_str()) != 0) return Status::FromErrno(what + ": link " + to);
      return Status::Ok();  // the top-most layer's file is the one the union shows
    }
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return Status::FromErrno(what + ": rename " + from + " to " + to);
    }
  }
  return Status::Ok();
}

// What an overlay without index leaves behind when a client changes a lower dir's attributes:
// the dir and its ancestors copied up (with their origin), and no index entry for any of them.
Status CopyUpUnindexed(const ops::OfflineEdit& edit, const EditableLayers& dirs) {
  const std::string what(ops::OfflineKindName(edit.kind));
  if (dirs.upper.empty()) return Status::Error(kErrNotSupp, what + ": a lower-only export");
  if (Holding(dirs, edit.path).empty()) {
    return Status::Error(ENOENT, what + ": no lower layer holds " + edit.path);
  }
  char tmpl[] = "/tmp/ovl-offline-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return Status::FromErrno(what + ": mkdtemp");
  const std::string mnt = tmpl;
  std::string lowerdir;
  for (const std::string& lower : dirs.lowers) lowerdir += (lowerdir.empty() ? "" : ":") + lower;
  const std::string options = "lowerdir=" + lowerdir + ",upperdir=" + dirs.upper +
                              ",workdir=" + dirs.work + ",index=off,nfs_export=off";
  if (Status st = MountOverlayAs(dirs.mount_source, mnt, options, nullptr); !st.ok()) {
    ::rmdir(mnt.c_str());
    return Status::Error(st.code(), what + ": " + st.message());
  }
  const std::string path = mnt + "/" + edit.path;
  struct stat st;
  Status done = Status::Ok();
  if (::stat(path.c_str(), &st) != 0) {
    done = Status::FromErrno(what + ": stat " + path);
  } else if (!S_ISDIR(st.st_mode)) {
    done = Status::Error(EINVAL, what + ": not a dir: " + edit.path);
  } else if (::chmod(path.c_str(), st.st_mode & 07777) != 0) {
    done = Status::FromErrno(what + ": chmod " + path);
  }
  if (::umount(mnt.c_str()) != 0 && done.ok()) done = Status::FromErrno(what + ": umount " + mnt);
  ::rmdir(mnt.c_str());
  return done;
}

}  // namespace

Status ApplyOfflineEdit(const ops::OfflineEdit& edit, const EditableLayers& dirs) {
  switch (edit.kind) {
    case Kind::kRemoveUpper:
      return RemoveUpper(edit, dirs);
    case Kind::kRenameLower:
    case Kind::kRemoveLower:
    case Kind::kLinkLower:
      return EditLower(edit, dirs);
    case Kind::kCopyUpUnindexed:
      return CopyUpUnindexed(edit, dirs);
    case Kind::kCopyLayers:
      break;
  }
  return Status::Error(kErrNotSupp, "copy-layers needs a new filesystem for the layers");
}

Status RefuseNestedLowerEdit(bool nested, const ops::OfflineEdit& edit) {
  if (!nested || !ops::OfflineChangesLower(edit.kind)) return Status::Ok();
  return Status::Error(kErrNotSupp,
                       "lower layer 0 is a nested overlay mount, read-only: an offline edit of "
                       "the lower layers would have to edit the inner overlay's own layers");
}

}  // namespace ovl::backend
