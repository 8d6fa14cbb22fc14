// Names made and removed: CREATE (directories, symlinks, devices, sockets, FIFOs), REMOVE,
// RENAME, LINK. The permission rules are the v3 procedures' (nfs/namespace_checks.h).
#include <unistd.h>

#include "nfs/access.h"
#include "nfs/namespace_checks.h"
#include "nfs/nfs3_program.h"
#include "nfs4/nfs4_program.h"

namespace ovl::nfs4 {

namespace {

constexpr uint32_t kDefaultDirMode = 0755;
constexpr uint32_t kDefaultNodeMode = 0644;

// CREATE's objtype: the type and, by arm, a symlink's target or a device's numbers.
struct CreateType {
  FileType type = FileType::kDir;
  std::string target;
  uint32_t major = 0, minor = 0;
};

Nfsstat4 DecodeCreateType(xdr::Decoder& in, CreateType* t) {
  uint32_t word = 0;
  if (!in.U32(&word)) return Nfsstat4::kBadXdr;
  t->type = static_cast<FileType>(word);
  switch (t->type) {
    case FileType::kLnk:
      return in.String(&t->target, kMaxLinkText) ? Nfsstat4::kOk : Nfsstat4::kBadXdr;
    case FileType::kBlk:
    case FileType::kChr:
      return in.U32(&t->major) && in.U32(&t->minor) ? Nfsstat4::kOk : Nfsstat4::kBadXdr;
    case FileType::kSock:
    case FileType::kFifo:
    case FileType::kDir:
      return Nfsstat4::kOk;
    case FileType::kReg:
      return Nfsstat4::kBadType;  // regular files are made by OPEN
    default:
      return word >= 1 && word <= 9 ? Nfsstat4::kBadType : Nfsstat4::kBadXdr;
  }
}

// A name about to be made or removed.
Nfsstat4 CheckNewName(const std::string& name) {
  if (name.empty()) return Nfsstat4::kInval;
  if (name == "." || name == "..") return Nfsstat4::kBadName;
  Status st = nfs::CheckName(name, /*creating=*/true);
  if (st.code() == EACCES) return Nfsstat4::kBadName;  // '/' or NUL
  return ToNfsstat4(st);
}

}  // namespace

Nfsstat4 Nfs4Program::ChangingDir(const Compound& c, const Fh& fh, Node* dir, Attr* pre) {
  if (Nfsstat4 st = WritableDir(c, fh, dir, pre); st != Nfsstat4::kOk) return st;
  if (pre->type != FileType::kDir) return Nfsstat4::kNotDir;
  if (!MayAccess(*pre, c.cred, W_OK | X_OK)) return Nfsstat4::kAccess;
  return Nfsstat4::kOk;
}

uint64_t Nfs4Program::ChangeAfter(const Node& dir, const Attr& pre) {
  Result<Attr> post = fs_->GetAttr(dir);
  return ChangeOf(post.ok() ? *post : pre);
}

Nfsstat4 Nfs4Program::CreateObj(Compound& c, xdr::Decoder& in, xdr::Encoder& out) {
  CreateType t;
  std::string name;
  SetAttrs attrs;
  Nfsstat4 st = DecodeCreateType(in, &t);
  if (st == Nfsstat4::kBadXdr) return st;
  if (!in.String(&name, kMaxTag)) return Nfsstat4::kBadXdr;
  if (Nfsstat4 a = DecodeFattr4Set(in, &attrs); a != Nfsstat4::kOk) return a;
  if (st != Nfsstat4::kOk) return st;
  Node dir;
  Attr pre;
  if (Nfsstat4 d = ChangingDir(c, c.cur, &dir, &pre); d != Nfsstat4::kOk) return d;
  if (Nfsstat4 n = CheckNewName(name); n != Nfsstat4::kOk) return n;
  Result<Node> made = [&]() -> Result<Node> {
    switch (t.type) {
      case FileType::kDir:
        return fs_->MkDir(dir, name, attrs.req.mode.value_or(kDefaultDirMode), c.cred);
      case FileType::kLnk:
        if (t.target.empty() || t.target.find('\0') != std::string::npos) {
          return Status::Error(EINVAL, "symlink target empty or with NUL");
        }
        return fs_->Symlink(dir, name, t.target, c.cred);
      case FileType::kChr:
      case FileType::kBlk:
        if (c.cred.uid != 0) return Status::Error(EPERM, "only root may create device nodes");
        [[fallthrough]];
      default:
        return fs_->MkNod(dir, name, t.type, attrs.req.mode.value_or(kDefaultNodeMode), t.major,
                          t.minor, c.cred);
    }
  }();
  if (!made.ok()) return ToNfsstat4(made.status());
  // A symlink's attributes mean nothing and its owner is the caller, as for v3.
  Bitmap4 attrset = attrs.set;
  if (t.type == FileType::kLnk) {
    attrset = Bitmap4{};
  } else if (Status applied = nfs::ApplyInitialAttrs(*fs_, *made, c.cred, attrs.req);
             !applied.ok()) {
    return ToNfsstat4(applied);
  }
  EncodeChangeInfo(out, ChangeOf(pre), ChangeAfter(dir, pre));
  EncodeBitmap4(out, attrset);
  c.cur = Fh{Fh::Kind::kUnion, 0, *std::move(made)};
  return Nfsstat4::kOk;
}

Nfsstat4 Nfs4Program::Remove(Compound& c, xdr::Decoder& in, xdr::Encoder& out) {
  std::string name;
  if (!in.String(&name, kMaxTag)) return Nfsstat4::kBadXdr;
  Node dir;
  Attr pre;
  if (Nfsstat4 st = ChangingDir(c, c.cur, &dir, &pre); st != Nfsstat4::kOk) return st;
  if (Nfsstat4 st = CheckNewName(name); st != Nfsstat4::kOk) return st;
  if (state_->InGrace()) return Nfsstat4::kGrace;
  Result<Node> victim = fs_->Lookup(dir, name);
  if (!victim.ok()) return ToNfsstat4(victim.status());
  Status st = nfs::CheckStickyEntry(*fs_, c.cred, dir, pre, name, /*must_exist=*/true);
  if (st.ok()) {
    st = victim->type == FileType::kDir ? fs_->RmDir(dir, name) : fs_->Remove(dir, name);
  }
  if (!st.ok()) return ToNfsstat4(st);
  EncodeChangeInfo(out, ChangeOf(pre), ChangeAfter(dir, pre));
  return Nfsstat4::kOk;
}

Nfsstat4 Nfs4Program::Rename(Compound& c, xdr::Decoder& in, xdr::Encoder& out) {
  std::string from, to;
  if (!in.String(&from, kMaxTag) || !in.String(&to, kMaxTag)) return Nfsstat4::kBadXdr;
  if (c.saved.kind == Fh::Kind::kNone) return Nfsstat4::kNoFileHandle;
  Node from_dir, to_dir;
  Attr from_pre, to_pre;
  if (Nfsstat4 st = ChangingDir(c, c.saved, &from_dir, &from_pre); st != Nfsstat4::kOk) return st;
  if (Nfsstat4 st = ChangingDir(c, c.cur, &to_dir, &to_pre); st != Nfsstat4::kOk) return st;
  if (Nfsstat4 st = CheckNewName(from); st != Nfsstat4::kOk) return st;
  if (Nfsstat4 st = CheckNewName(to); st != Nfsstat4::kOk) return st;
  if (state_->InGrace()) return Nfsstat4::kGrace;
  Status st = nfs::CheckStickyEntry(*fs_, c.cred, from_dir, from_pre, from, /*must_exist=*/true);
  if (st.ok()) st = nfs::CheckStickyEntry(*fs_, c.cred, to_dir, to_pre, to, /*must_exist=*/false);
  if (st.ok() && from_dir.handle != to_dir.handle) {
    st = nfs::CheckMoveToNewParent(*fs_, c.cred, from_dir, from);
  }
  if (st.ok()) st = fs_->Rename(from_dir, from, to_dir, to);
  if (!st.ok()) return ToNfsstat4(st);
  EncodeChangeInfo(out, ChangeOf(from_pre), ChangeAfter(from_dir, from_pre));
  EncodeChangeInfo(out, ChangeOf(to_pre), ChangeAfter(to_dir, to_pre));
  return Nfsstat4::kOk;
}

Nfsstat4 Nfs4Program::Link(Compound& c, xdr::Decoder& in, xdr::Encoder& out) {
  std::string name;
  if (!in.String(&name, kMaxTag)) return Nfsstat4::kBadXdr;
  if (c.saved.kind == Fh::Kind::kNone) return Nfsstat4::kNoFileHandle;
  if (c.saved.kind == Fh::Kind::kPseudo) return Nfsstat4::kIsDir;
  Node dir;
  Attr pre;
  if (Nfsstat4 st = ChangingDir(c, c.cur, &dir, &pre); st != Nfsstat4::kOk) return st;
  if (Nfsstat4 st = CheckNewName(name); st != Nfsstat4::kOk) return st;
  if (c.saved.node.type == FileType::kDir) return Nfsstat4::kIsDir;
  if (Status st = fs_->Link(c.saved.node, dir, name); !st.ok()) return ToNfsstat4(st);
  EncodeChangeInfo(out, ChangeOf(pre), ChangeAfter(dir, pre));
  return Nfsstat4::kOk;
}

}  // namespace ovl::nfs4
