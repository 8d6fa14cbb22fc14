#include "union/index.h"

#include <fcntl.h>
#include <sys/sysmacros.h>

#include <cstdlib>

namespace ovl {
namespace {

bool IsWhiteout(const struct stat& st) { return S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0); }

}  // namespace

std::string FormatNlinkXattr(int nlink, int lower_nlink) {
  char buf[32];
  snprintf(buf, sizeof buf, "L%+d", nlink - lower_nlink);
  return buf;
}

std::optional<int> ParseNlinkXattr(const std::string& v, int lower_nlink, int upper_nlink) {
  if (v.size() < 3 || (v[0] != 'L' && v[0] != 'U') || (v[1] != '+' && v[1] != '-')) {
    return std::nullopt;
  }
  char* end = nullptr;
  long add = std::strtol(v.c_str() + 1, &end, 10);
  if (*end != '\0') return std::nullopt;
  return static_cast<int>((v[0] == 'L' ? lower_nlink : upper_nlink) + add);
}

Result<IndexEntry> IndexStore::Lookup(const std::string& name) const {
  IndexEntry e;
  auto st = env_->Stat(layers_->index.get(), name);
  if (!st.ok()) {
    if (st.status().code() == ENOENT) return e;
    return st.status();
  }
  e.st = *st;
  if (IsWhiteout(e.st)) {
    e.kind = IndexKind::kTombstone;
  } else if (S_ISDIR(e.st.st_mode)) {
    e.kind = IndexKind::kDir;
    OVL_ASSIGN_OR_RETURN(auto upper, env_->GetXattr(layers_->index.get(), name, kXattrUpper));
    if (upper) {
      auto fb = DecodeOvlFb(*upper);
      if (fb.ok()) e.upper_dir = *fb;
    }
  } else {
    e.kind = IndexKind::kFile;
  }
  return e;
}

Status IndexStore::Install(const std::string& temp, const std::string& name) {
  OVL_RETURN_IF_ERROR(
      env_->Rename(layers_->temp.get(), temp, layers_->index.get(), name, RENAME_NOREPLACE));
  return env_->Fsync(layers_->index.get());
}

Status IndexStore::MakeTombstone(const std::string& name) {
  OVL_RETURN_IF_ERROR(DropHoldingLink(name));
  const std::string temp = TempName();
  OVL_RETURN_IF_ERROR(env_->MkNod(layers_->temp.get(), temp, S_IFCHR | 0, makedev(0, 0)));
  OVL_ASSIGN_OR_RETURN(IndexEntry cur, Lookup(name));
  if (cur.kind == IndexKind::kTombstone) return env_->Unlink(layers_->temp.get(), temp, 0);
  if (cur.kind == IndexKind::kDir) {
    // A whiteout cannot be renamed over a directory: swap them, then drop the old entry.
    OVL_RETURN_IF_ERROR(env_->Rename(layers_->temp.get(), temp, layers_->index.get(), name,
                                     RENAME_EXCHANGE));
    OVL_RETURN_IF_ERROR(env_->Fsync(layers_->index.get()));
    return RemoveTree(env_, layers_->temp.get(), temp);
  }
  OVL_RETURN_IF_ERROR(env_->Rename(layers_->temp.get(), temp, layers_->index.get(), name, 0));
  return env_->Fsync(layers_->index.get());
}

Status IndexStore::AddHoldingLink(const std::string& name) {
  Status st = env_->Link(layers_->index.get(), name, layers_->linkup.get(), name);
  if (!st.ok() && st.code() != EEXIST) return st;
  return env_->Fsync(layers_->linkup.get());
}

Status IndexStore::DropHoldingLink(const std::string& name) {
  Status st = env_->Unlink(layers_->linkup.get(), name, 0);
  if (st.code() == ENOENT) return Status::Ok();
  OVL_RETURN_IF_ERROR(st);
  return env_->Fsync(layers_->linkup.get());
}

Status IndexStore::CreateDirEntry(const std::string& name, const OvlFb& upper_dir) {
  const std::string temp = TempName();
  OVL_RETURN_IF_ERROR(env_->MkDir(layers_->temp.get(), temp, 0));
  OVL_RETURN_IF_ERROR(env_->SetXattr(layers_->temp.get(), temp, kXattrUpper, EncodeOvlFb(upper_dir)));
  Status st = Install(temp, name);
  if (st.code() == EEXIST || st.code() == ENOTEMPTY) {
    OVL_RETURN_IF_ERROR(env_->Rename(layers_->temp.get(), temp, layers_->index.get(), name,
                                     RENAME_EXCHANGE));
    OVL_RETURN_IF_ERROR(env_->Fsync(layers_->index.get()));
    return RemoveTree(env_, layers_->temp.get(), temp);
  }
  return st;
}

int IndexStore::UnionNlink(const IndexEntry& entry, const std::string& name,
                           int lower_nlink) const {
  auto v = env_->GetXattr(layers_->index.get(), name, kXattrNlink);
  if (v.ok() && *v) {
    auto n = ParseNlinkXattr(**v, lower_nlink, static_cast<int>(entry.st.st_nlink));
    if (n) return *n;
  }
  // No count recorded: every lower name is still there.
  return lower_nlink;
}

Status IndexStore::SetUnionNlink(const std::string& name, int nlink, int lower_nlink) {
  return env_->SetXattr(layers_->index.get(), name, kXattrNlink,
                        FormatNlinkXattr(nlink, lower_nlink));
}

Status IndexStore::BeginNlinkChange(const std::string& name, int new_nlink, int lower_nlink,
                                    const std::string& parent_relpath,
                                    const std::string& entry_name, NameChange change) {
  // One record per index entry: the stripe lock of the object serialises its count changes.
  const std::string record = std::string(1, static_cast<char>(change)) + " " +
                             std::to_string(new_nlink) + " " + std::to_string(lower_nlink) + " " +
                             std::to_string(parent_relpath.size()) + " " + parent_relpath + "/" +
                             entry_name;
  const std::string temp = TempName();
  const int dir = layers_->pending.get();
  OVL_ASSIGN_OR_RETURN(Fd f, env_->OpenBeneath(dir, temp, O_WRONLY | O_CREAT | O_EXCL, 0600));
  OVL_ASSIGN_OR_RETURN(size_t n, env_->PWrite(f.get(), record.data(), record.size(), 0));
  if (n != record.size()) return Status::Error(EIO, "short intent write");
  OVL_RETURN_IF_ERROR(env_->Fsync(f.get()));
  OVL_RETURN_IF_ERROR(env_->Rename(dir, temp, dir, name, 0));
  return env_->Fsync(dir);
}

Status IndexStore::ApplyNlink(const std::string& name, int new_nlink, int lower_nlink) {
  if (new_nlink <= 0) return MakeTombstone(name);
  OVL_RETURN_IF_ERROR(SetUnionNlink(name, new_nlink, lower_nlink));
  // The entry may be a symlink, FIFO, socket or device node, which is never opened (SyncEntry):
  // then the removal of the intent record, made durable next, carries the count.
  return SyncEntry(env_, layers_->index.get(), name);
}

Status IndexStore::EndNlinkChange(const std::string& name, int new_nlink, int lower_nlink) {
  OVL_RETURN_IF_ERROR(ApplyNlink(name, new_nlink, lower_nlink));
  OVL_RETURN_IF_ERROR(env_->Unlink(layers_->pending.get(), name, 0));
  return env_->Fsync(layers_->pending.get());
}

Status IndexStore::ReplayIntent(const std::string& name) {
  const int dir = layers_->pending.get();
  // Only the server writes records, always as regular files; anything else is never opened.
  OVL_ASSIGN_OR_RETURN(struct stat rst, env_->Stat(dir, name));
  if (!S_ISREG(rst.st_mode)) return Status::Error(EINVAL, "not a regular file");
  OVL_ASSIGN_OR_RETURN(Fd f, env_->OpenBeneath(dir, name, O_RDONLY | O_NONBLOCK | O_NOCTTY));
  // Read whole: the parent's path has no bound but the filesystem's depth.
  std::string buf(static_cast<size_t>(rst.st_size), '\0');
  OVL_ASSIGN_OR_RETURN(size_t n, env_->PRead(f.get(), buf.data(), buf.size(), 0));
  buf.resize(n);
  char op = 0;
  int new_nlink = 0, lower_nlink = 0, consumed = 0;
  size_t dir_len = 0;
  if (sscanf(buf.c_str(), "%c %d %d %zu %n", &op, &new_nlink, &lower_nlink, &dir_len,
             &consumed) != 4 ||
      static_cast<size_t>(consumed) + dir_len + 1 > n) {
    return Status::Error(EINVAL, "unreadable record");
  }
  const std::string parent = buf.substr(consumed, dir_len);
  const std::string entry = buf.substr(consumed + dir_len + 1);
  OVL_ASSIGN_OR_RETURN(IndexEntry idx, Lookup(name));
  if (idx.kind == IndexKind::kTombstone) return Status::Ok();
  bool present = false, linked = false;
  auto pfd = env_->OpenBeneath(layers_->upper.root.get(), parent.empty() ? "." : parent,
                               O_PATH | O_DIRECTORY);
  if (pfd.ok()) {
    auto st = env_->Stat(pfd->get(), entry);
    present = st.ok();
    linked = present && st->st_ino == idx.st.st_ino && st->st_dev == idx.st.st_dev;
  }
  const bool done = op == static_cast<char>(NameChange::kLinked)     ? linked
                    : op == static_cast<char>(NameChange::kUnlinked) ? !linked
                                                                     : present;
  return done ? ApplyNlink(name, new_nlink, lower_nlink) : Status::Ok();
}

Status IndexStore::RecoverNlinkIntents(const LogFn& log) {
  const int dir = layers_->pending.get();
  OVL_ASSIGN_OR_RETURN(auto records, env_->ReadDir(dir));
  for (const auto& r : records) {
    // A scratch name was never completed: no change was made.
    if (r.name.rfind("#ovl.", 0) != 0) {
      // Start-up must not stop at a record it cannot complete: the count stays as it was.
      Status st = ReplayIntent(r.name);
      if (!st.ok() && log) log("intent record " + r.name + " discarded: " + st.ToString());
    }
    OVL_RETURN_IF_ERROR(env_->Unlink(dir, r.name, 0));
  }
  return env_->Fsync(dir);
}

Result<int> IndexStore::OriginNlink(const std::string& name) const {
  OVL_ASSIGN_OR_RETURN(auto raw, env_->GetXattr(layers_->index.get(), name, kXattrOrigin));
  if (!raw) return Status::Error(ENODATA, "index entry without origin");
  OVL_ASSIGN_OR_RETURN(OvlFb fb, DecodeOvlFb(*raw));
  for (const auto& lower : layers_->lowers) {
    if (lower.fs_uuid != fb.uuid) continue;
    auto fd = env_->OpenByHandle(lower.root.get(), fb.fh, O_PATH);
    if (!fd.ok()) continue;
    OVL_ASSIGN_OR_RETURN(struct stat st, env_->Stat(fd->get(), ""));
    return static_cast<int>(st.st_nlink);
  }
  return Status::Error(ESTALE, "origin of index entry not found in any lower layer");
}

Status IndexStore::RecoverEntry(const std::string& name) {
  OVL_ASSIGN_OR_RETURN(IndexEntry e, Lookup(name));
  switch (e.kind) {
    case IndexKind::kNone:
    case IndexKind::kTombstone:
      return Status::Ok();
    case IndexKind::kDir: {
      bool alive = false;
      if (e.upper_dir) {
        auto fd = env_->OpenByHandle(layers_->upper.root.get(), e.upper_dir->fh, O_PATH);
        alive = fd.ok();
      }
      return alive ? Status::Ok() : RemoveTree(env_, layers_->index.get(), name);
    }
    case IndexKind::kFile: {
      // With an upper alias the object is certainly alive; only alias-less entries may be orphans
      // (left by kernel overlayfs) or lack their holding link (a crash right after copy-up).
      const bool held = env_->Stat(layers_->linkup.get(), name).ok();
      if (e.st.st_nlink > (held ? 2u : 1u)) return Status::Ok();
      auto lower_nlink = OriginNlink(name);
      if (!lower_nlink.ok()) return Status::Ok();  // not ours to judge; leave it untouched
      if (UnionNlink(e, name, *lower_nlink) <= 0) return MakeTombstone(name);
      return (!held && *lower_nlink == 1) ? AddHoldingLink(name) : Status::Ok();
    }
  }
  return Status::Ok();
}

}  // namespace ovl
