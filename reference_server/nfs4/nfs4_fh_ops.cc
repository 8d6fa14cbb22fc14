// Filehandles, lookups, attributes, directory listings and security information.
#include <unistd.h>

#include <algorithm>

#include "nfs/access.h"
#include "nfs/nfs3_program.h"
#include "nfs4/nfs4_program.h"

namespace ovl::nfs4 {

namespace {

constexpr uint32_t kAuthSysFlavor = 1;
// SECINFO_NO_NAME styles.
constexpr uint32_t kSecinfoStyleCurrentFh = 0, kSecinfoStyleParent = 1;
// Bytes of an entry4 besides its name and attributes: value_follows, cookie, name length,
// bitmap length word, attrlist length word.
constexpr size_t kEntryOverhead = 4 + 8 + 4 + 4 + 4;
// READDIR replies are bounded like READs.
constexpr uint32_t kMaxReadDirReply = nfs::kMaxIoSize;

size_t Pad4(size_t n) {
  return (n + 3) & ~size_t{3};
}

}  // namespace

Stateid Nfs4Program::Resolve(const Compound& c, const Stateid& s) {
  return s.IsCurrent() && c.current_stateid ? *c.current_stateid : s;
}

Nfsstat4 Nfs4Program::DecodeFh(const Handle& h, Fh* out) {
  uint32_t depth = 0;
  switch (pseudo_->Decode(h, &depth)) {
    case PseudoFs::Kind::kPseudo:
      out->kind = Fh::Kind::kPseudo;
      out->depth = depth;
      return Nfsstat4::kOk;
    case PseudoFs::Kind::kStale:
      return Nfsstat4::kStale;
    case PseudoFs::Kind::kNotPseudo:
      break;
  }
  Result<Node> node = fs_->Decode(h);
  if (!node.ok()) return ToNfsstat4(node.status());
  out->kind = Fh::Kind::kUnion;
  out->node = *std::move(node);
  return Nfsstat4::kOk;
}

Nfsstat4 Nfs4Program::CurrentNode(const Compound& c, Nfsstat4 pseudo_status, Node* out) const {
  switch (c.cur.kind) {
    case Fh::Kind::kNone:
      return Nfsstat4::kNoFileHandle;
    case Fh::Kind::kPseudo:
      return pseudo_status;
    case Fh::Kind::kUnion:
      *out = c.cur.node;
      return Nfsstat4::kOk;
  }
  return Nfsstat4::kServerFault;
}

Result<Attr> Nfs4Program::AttrOfFh(const Fh& fh) {
  if (fh.kind == Fh::Kind::kUnion) return fs_->GetAttr(fh.node);
  OVL_ASSIGN_OR_RETURN(Node root, fs_->Root());
  OVL_ASSIGN_OR_RETURN(Attr root_attr, fs_->GetAttr(root));
  return pseudo_->AttrOf(fh.depth, root_attr.fsid);
}

Nfsstat4 Nfs4Program::EncodeAttrs(const Fh& fh, const Bitmap4& requested, xdr::Encoder& out,
                                  const Attr* known) {
  Result<Attr> attr = known ? Result<Attr>(*known) : AttrOfFh(fh);
  if (!attr.ok()) return ToNfsstat4(attr.status());
  AttrSource src;
  src.attr = *attr;
  src.fh = fh.kind == Fh::Kind::kPseudo ? pseudo_->HandleOf(fh.depth) : fh.node.handle;
  src.mounted_on_fileid = attr->fileid;
  if (fh.kind == Fh::Kind::kUnion && pseudo_->depths() > 0) {
    // The export root is mounted on the last pseudo directory's entry.
    Result<Node> root = fs_->Root();
    if (root.ok() && root->handle == fh.node.handle) {
      src.mounted_on_fileid = PseudoFs::FileidOf(pseudo_->depths() - 1);
    }
  }
  src.lease_time_s = state_->limits().lease_s;
  src.max_io = nfs::kMaxIoSize;
  if (NeedsStatFs(requested)) {
    Result<struct statvfs> vfs = fs_->StatFs();
    if (vfs.ok()) src.vfs = *vfs;
  }
  EncodeFattr4(out, requested, src);
  return Nfsstat4::kOk;
}

Nfsstat4 Nfs4Program::WritableDir(const Compound& /*c*/, const Fh& fh, Node* dir, Attr* pre) {
  if (fh.kind == Fh::Kind::kNone) return Nfsstat4::kNoFileHandle;
  if (fh.kind == Fh::Kind::kPseudo) return Nfsstat4::kRofs;
  Result<Attr> attr = fs_->GetAttr(fh.node);
  if (!attr.ok()) return ToNfsstat4(attr.status());
  *pre = *attr;
  *dir = fh.node;
  return Nfsstat4::kOk;
}

Nfsstat4 Nfs4Program::PutFh(Compound& c, xdr::Decoder& in, xdr::Encoder& /*out*/) {
  Handle h;
  if (!in.Opaque(&h, kFhSize)) return Nfsstat4::kBadXdr;
  // Longer than any handle this server makes: malformed, as for NFSv3.
  if (h.size() > kMaxHandleSize) return Nfsstat4::kBadHandle;
  Fh fh;
  if (Nfsstat4 st = DecodeFh(h, &fh); st != Nfsstat4::kOk) return st;
  c.cur = std::move(fh);
  return Nfsstat4::kOk;
}

Nfsstat4 Nfs4Program::PutRootFh(Compound& c, xdr::Decoder& /*in*/, xdr::Encoder& /*out*/) {
  if (pseudo_->depths() > 0) {
    c.cur = Fh{Fh::Kind::kPseudo, 0, {}};
    return Nfsstat4::kOk;
  }
  Result<Node> root = fs_->Root();
  if (!root.ok()) return ToNfsstat4(root.status());
  c.cur = Fh{Fh::Kind::kUnion, 0, *std::move(root)};
  return Nfsstat4::kOk;
}

Nfsstat4 Nfs4Program::GetFh(Compound& c, xdr::Decoder& /*in*/, xdr::Encoder& out) {
  if (c.cur.kind == Fh::Kind::kNone) return Nfsstat4::kNoFileHandle;
  out.Opaque(c.cur.kind == Fh::Kind::kPseudo ? pseudo_->HandleOf(c.cur.depth) : c.cur.node.handle);
  return Nfsstat4::kOk;
}

Nfsstat4 Nfs4Program::SaveFh(Compound& c, xdr::Decoder& /*in*/, xdr::Encoder& /*out*/) {
  if (c.cur.kind == Fh::Kind::kNone) return Nfsstat4::kNoFileHandle;
  c.saved = c.cur;
  return Nfsstat4::kOk;
}

Nfsstat4 Nfs4Program::RestoreFh(Compound& c, xdr::Decoder& /*in*/, xdr::Encoder& /*out*/) {
  if (c.saved.kind == Fh::Kind::kNone) return Nfsstat4::kRestoreFh;
  c.cur = c.saved;
  return Nfsstat4::kOk;
}

Nfsstat4 Nfs4Program::Lookup(Compound& c, xdr::Decoder& in, xdr::Encoder& /*out*/) {
  std::string name;
  if (!in.String(&name, kMaxTag)) return Nfsstat4::kBadXdr;
  return LookupName(c, name);
}

Nfsstat4 Nfs4Program::LookupName(Compound& c, const std::string& name) {
  if (c.cur.kind == Fh::Kind::kNone) return Nfsstat4::kNoFileHandle;
  if (name.empty()) return Nfsstat4::kInval;
  if (name.size() > kMaxComponent) return Nfsstat4::kNameTooLong;
  if (name == "." || name == ".." ||
      name.find_first_of(std::string_view("/\0", 2)) != std::string::npos) {
    return Nfsstat4::kBadName;
  }
  if (c.cur.kind == Fh::Kind::kPseudo) {
    if (name != pseudo_->EntryOf(c.cur.depth)) return Nfsstat4::kNoEnt;
    if (c.cur.depth + 1 < pseudo_->depths()) {
      ++c.cur.depth;
      return Nfsstat4::kOk;
    }
    Result<Node> root = fs_->Root();
    if (!root.ok()) return ToNfsstat4(root.status());
    c.cur = Fh{Fh::Kind::kUnion, 0, *std::move(root)};
    return Nfsstat4::kOk;
  }
  Result<Attr> dir = fs_->GetAttr(c.cur.node);
  if (!dir.ok()) return ToNfsstat4(dir.status());
  if (dir->type == FileType::kLnk) return Nfsstat4::kSymlink;
  if (dir->type != FileType::kDir) return Nfsstat4::kNotDir;
  if (!MayAccess(*dir, c.cred, X_OK)) return Nfsstat4::kAccess;
  Result<Node> found = fs_->Lookup(c.cur.node, name);
  if (!found.ok()) return ToNfsstat4(found.status());
  c.cur.node = *std::move(found);
  return Nfsstat4::kOk;
}

Nfsstat4 Nfs4Program::LookupP(Compound& c, xdr::Decoder& /*in*/, xdr::Encoder& /*out*/) {
  switch (c.cur.kind) {
    case Fh::Kind::kNone:
      return Nfsstat4::kNoFileHandle;
    case Fh::Kind::kPseudo:
      if (c.cur.depth == 0) return Nfsstat4::kNoEnt;
      --c.cur.depth;
      return Nfsstat4::kOk;
    case Fh::Kind::kUnion:
      break;
  }
  Result<Attr> dir = fs_->GetAttr(c.cur.node);
  if (!dir.ok()) return ToNfsstat4(dir.status());
  if (dir->type != FileType::kDir) return Nfsstat4::kNotDir;
  Result<Node> root = fs_->Root();
  if (!root.ok()) return ToNfsstat4(root.status());
  if (root->handle == c.cur.node.handle) {
    if (pseudo_->depths() == 0) return Nfsstat4::kNoEnt;
    c.cur = Fh{Fh::Kind::kPseudo, pseudo_->depths() - 1, {}};
    return Nfsstat4::kOk;
  }
  Result<Node> parent = fs_->Lookup(c.cur.node, "..");
  if (!parent.ok()) return ToNfsstat4(parent.status());
  c.cur.node = *std::move(parent);
  return Nfsstat4::kOk;
}

Nfsstat4 Nfs4Program::GetAttr(Compound& c, xdr::Decoder& in, xdr::Encoder& out) {
  Bitmap4 requested;
  if (!DecodeBitmap4(in, &requested)) return Nfsstat4::kBadXdr;
  if (c.cur.kind == Fh::Kind::kNone) return Nfsstat4::kNoFileHandle;
  return EncodeAttrs(c.cur, requested, out);
}

// VERIFY and NVERIFY compare the client's fattr4 with the same attributes encoded here.
Nfsstat4 Nfs4Program::Verify(Compound& c, xdr::Decoder& in, xdr::Encoder& /*out*/) {
  Bitmap4 bits;
  std::string values;
  if (!DecodeBitmap4(in, &bits) || !in.Opaque(&values, kMaxReadDirReply)) {
    return Nfsstat4::kBadXdr;
  }
  if (c.cur.kind == Fh::Kind::kNone) return Nfsstat4::kNoFileHandle;
  if (bits.And(SupportedAttrs()) != bits || bits.Has(fattr::kRdattrError)) {
    return bits.Has(fattr::kRdattrError) ? Nfsstat4::kInval : Nfsstat4::kAttrNotSupp;
  }
  xdr::Encoder mine;
  if (Nfsstat4 st = EncodeAttrs(c.cur, bits, mine); st != Nfsstat4::kOk) return st;
  xdr::Encoder theirs;
  EncodeBitmap4(theirs, bits);
  theirs.Opaque(values);
  return mine.bytes() == theirs.bytes() ? Nfsstat4::kOk : Nfsstat4::kNotSame;
}

Nfsstat4 Nfs4Program::NVerify(Compound& c, xdr::Decoder& in, xdr::Encoder& out) {
  Nfsstat4 st = Verify(c, in, out);
  if (st == Nfsstat4::kOk) return Nfsstat4::kSame;
  return st == Nfsstat4::kNotSame ? Nfsstat4::kOk : st;
}

Nfsstat4 Nfs4Program::Access(Compound& c, xdr::Decoder& in, xdr::Encoder& out) {
  uint32_t requested = 0;
  if (!in.U32(&requested)) return Nfsstat4::kBadXdr;
  if (c.cur.kind == Fh::Kind::kNone) return Nfsstat4::kNoFileHandle;
  Result<Attr> attr = AttrOfFh(c.cur);
  if (!attr.ok()) return ToNfsstat4(attr.status());
  // ACCESS4 bits are ACCESS3's (RFC 8881 18.1); a pseudo directory is read-only.
  const bool read_only = policy_->options().read_only || c.cur.kind == Fh::Kind::kPseudo;
  constexpr uint32_t kAll = 0x3f;
  out.U32(requested & kAll);
  out.U32(nfs::Access3Mask(*attr, c.cred, requested & kAll, read_only));
  return Nfsstat4::kOk;
}

Nfsstat4 Nfs4Program::ReadLink(Compound& c, xdr::Decoder& /*in*/, xdr::Encoder& out) {
  Node node;
  if (Nfsstat4 st = CurrentNode(c, Nfsstat4::kInval, &node); st != Nfsstat4::kOk) return st;
  if (node.type != FileType::kLnk) return Nfsstat4::kInval;
  Result<std::string> target = fs_->ReadLink(node);
  if (!target.ok()) return ToNfsstat4(target.status());
  out.String(*target);
  return Nfsstat4::kOk;
}

Nfsstat4 Nfs4Program::ReadDir(Compound& c, xdr::Decoder& in, xdr::Encoder& out) {
  uint64_t cookie = 0;
  Verifier verf{};
  uint32_t dircount = 0, maxcount = 0;
  Bitmap4 requested;
  if (!in.U64(&cookie) || !in.FixedOpaque(verf.data(), verf.size()) || !in.U32(&dircount) ||
      !in.U32(&maxcount) || !DecodeBitmap4(in, &requested)) {
    return Nfsstat4::kBadXdr;
  }
  if (c.cur.kind == Fh::Kind::kNone) return Nfsstat4::kNoFileHandle;
  // Cookies 1 and 2 are reserved (RFC 8881 18.23.3); the union's are never below 3.
  if (cookie == 1 || cookie == 2) return Nfsstat4::kBadCookie;
  const size_t budget = std::min(maxcount, kMaxReadDirReply);
  // The reply's fixed part: verifier, no-more-entries word, eof.
  size_t used = 8 + 4 + 4;
  if (budget < used + kEntryOverhead) return Nfsstat4::kTooSmall;
  xdr::Encoder entries;
  // `fh` is kNone for an entry the union could not look up; `known` its attributes if read.
  auto add = [&](const std::string& name, uint64_t entry_cookie, const Fh& fh,
                 const Attr* known = nullptr) {
    xdr::Encoder attrs;
    if (fh.kind == Fh::Kind::kNone || EncodeAttrs(fh, requested, attrs, known) != Nfsstat4::kOk) {
      // rdattr_error reports what went wrong with this entry alone (RFC 8881 5.8.1.12).
      attrs = xdr::Encoder();
      Bitmap4 only;
      only.Set(fattr::kRdattrError);
      EncodeBitmap4(attrs, requested.Has(fattr::kRdattrError) ? only : Bitmap4{});
      xdr::Encoder v;
      if (requested.Has(fattr::kRdattrError)) v.U32(static_cast<uint32_t>(Nfsstat4::kStale));
      attrs.Opaque(v.bytes());
    }
    const size_t size = 4 + 8 + 4 + Pad4(name.size()) + attrs.size();
    if (used + size > budget) return false;
    used += size;
    entries.Bool(true);
    entries.U64(entry_cookie);
    entries.String(name);
    entries.FixedOpaque(attrs.bytes().data(), attrs.size());
    return true;
  };
  bool eof = true;
  size_t count = 0;
  if (c.cur.kind == Fh::Kind::kPseudo) {
    // One entry: the next component, with cookie 3.
    if (cookie < 3) {
      Fh next{Fh::Kind::kPseudo, c.cur.depth + 1, {}};
      if (c.cur.depth + 1 == pseudo_->depths()) {
        Result<Node> root = fs_->Root();
        if (!root.ok()) return ToNfsstat4(root.status());
        next = Fh{Fh::Kind::kUnion, 0, *std::move(root)};
      }
      if (!add(pseudo_->EntryOf(c.cur.depth), 3, next)) return Nfsstat4::kTooSmall;
      count = 1;
    }
  } else {
    Result<Attr> dir = fs_->GetAttr(c.cur.node);
    if (!dir.ok()) return ToNfsstat4(dir.status());
    if (dir->type != FileType::kDir) return Nfsstat4::kNotDir;
    if (!MayAccess(*dir, c.cred, R_OK)) return Nfsstat4::kAccess;
    UnionFs::EntryFits fits = [&](const DirEntryPlus& e) {
      Fh fh;
      if (e.node) fh = Fh{Fh::Kind::kUnion, 0, *e.node};
      return add(e.name, e.cookie, fh, e.attr ? &*e.attr : nullptr);
    };
    Result<DirPage> page = fs_->ReadDir(c.cur.node, cookie, 4096, /*plus=*/true, fits);
    if (!page.ok()) return ToNfsstat4(page.status());
    count = page->entries.size();
    eof = page->eof;
    if (count == 0 && !eof) return Nfsstat4::kTooSmall;
  }
  const Verifier zero{};
  out.FixedOpaque(zero.data(), zero.size());
  out.FixedOpaque(entries.bytes().data(), entries.size());
  out.Bool(false);
  out.Bool(eof);
  return Nfsstat4::kOk;
}

Nfsstat4 Nfs4Program::SecInfo(Compound& c, xdr::Decoder& in, xdr::Encoder& out) {
  std::string name;
  if (!in.String(&name, kMaxTag)) return Nfsstat4::kBadXdr;
  Compound probe = c;
  if (Nfsstat4 st = LookupName(probe, name); st != Nfsstat4::kOk) return st;
  // SECINFO consumes the current filehandle (RFC 8881 2.6.3.1.1.8).
  c.cur = Fh{};
  out.U32(1);
  out.U32(kAuthSysFlavor);
  return Nfsstat4::kOk;
}

Nfsstat4 Nfs4Program::SecInfoNoName(Compound& c, xdr::Decoder& in, xdr::Encoder& out) {
  uint32_t style = 0;
  if (!in.U32(&style)) return Nfsstat4::kBadXdr;
  if (style != kSecinfoStyleCurrentFh && style != kSecinfoStyleParent) return Nfsstat4::kInval;
  if (c.cur.kind == Fh::Kind::kNone) return Nfsstat4::kNoFileHandle;
  c.cur = Fh{};
  out.U32(1);
  out.U32(kAuthSysFlavor);
  return Nfsstat4::kOk;
}

}  // namespace ovl::nfs4
