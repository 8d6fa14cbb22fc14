// Open state and file data: OPEN, OPEN_DOWNGRADE, CLOSE, READ, WRITE, COMMIT, SETATTR,
// TEST_STATEID, FREE_STATEID.
#include <unistd.h>

#include <algorithm>
#include <memory>

#include "nfs/access.h"
#include "nfs/nfs3_program.h"
#include "nfs4/nfs4_program.h"

namespace ovl::nfs4 {

namespace {

constexpr uint32_t kOpenNoCreate = 0, kOpenCreate = 1;
constexpr uint32_t kUnchecked4 = 0, kGuarded4 = 1, kExclusive4 = 2, kExclusive41 = 3;
constexpr uint32_t kClaimNull = 0, kClaimPrevious = 1, kClaimFh = 4;
constexpr uint32_t kClaimDelegPrevFh = 6;
constexpr uint32_t kOpenDelegateNone = 0;
constexpr uint32_t kDefaultFileMode = 0644;
// Reply bytes around a READ's data (RPC and COMPOUND headers, SEQUENCE, PUTFH, READ).
constexpr uint32_t kReadOverhead = 512;
constexpr uint32_t kMaxTestStateids = 1024;

// What OPEN's arguments say, decoded before anything runs.
struct OpenArgs {
  uint32_t access = 0, deny = 0;
  std::string owner;
  uint32_t opentype = kOpenNoCreate, createmode = kUnchecked4;
  SetAttrs attrs;
  Verifier verf{};
  uint32_t claim = kClaimNull;
  std::string name;
};

Nfsstat4 DecodeOpenArgs(xdr::Decoder& in, OpenArgs* a) {
  uint32_t seqid = 0, deleg_type = 0;
  uint64_t clientid = 0;
  Stateid deleg;
  if (!in.U32(&seqid) || !in.U32(&a->access) || !in.U32(&a->deny) || !in.U64(&clientid) ||
      !in.Opaque(&a->owner, kOpaqueLimit) || !in.U32(&a->opentype)) {
    return Nfsstat4::kBadXdr;
  }
  if (a->opentype == kOpenCreate) {
    if (!in.U32(&a->createmode)) return Nfsstat4::kBadXdr;
    if (a->createmode == kExclusive4 || a->createmode == kExclusive41) {
      if (!in.FixedOpaque(a->verf.data(), a->verf.size())) return Nfsstat4::kBadXdr;
    }
    if (a->createmode != kExclusive4) {
      if (a->createmode > kExclusive41) return Nfsstat4::kBadXdr;
      if (Nfsstat4 st = DecodeFattr4Set(in, &a->attrs); st != Nfsstat4::kOk) return st;
    }
  } else if (a->opentype != kOpenNoCreate) {
    return Nfsstat4::kBadXdr;
  }
  if (!in.U32(&a->claim)) return Nfsstat4::kBadXdr;
  switch (a->claim) {
    case kClaimNull:
    case 3:  // CLAIM_DELEGATE_PREV
      return in.String(&a->name, kMaxTag) ? Nfsstat4::kOk : Nfsstat4::kBadXdr;
    case kClaimPrevious:
      return in.U32(&deleg_type) ? Nfsstat4::kOk : Nfsstat4::kBadXdr;
    case 2:  // CLAIM_DELEGATE_CUR
      return DecodeStateid(in, &deleg) && in.String(&a->name, kMaxTag) ? Nfsstat4::kOk
                                                                       : Nfsstat4::kBadXdr;
    case kClaimFh:
    case kClaimDelegPrevFh:
      return Nfsstat4::kOk;
    case 5:  // CLAIM_DELEG_CUR_FH
      return DecodeStateid(in, &deleg) ? Nfsstat4::kOk : Nfsstat4::kBadXdr;
    default:
      return Nfsstat4::kBadXdr;
  }
}

// READ and WRITE work on regular files only.
Nfsstat4 CheckRegular(const Attr& attr) {
  if (attr.type == FileType::kDir) return Nfsstat4::kIsDir;
  if (attr.type == FileType::kLnk) return Nfsstat4::kSymlink;
  if (attr.type != FileType::kReg) return Nfsstat4::kInval;
  return Nfsstat4::kOk;
}

}  // namespace

Nfsstat4 Nfs4Program::OpenTarget(Compound& c, const OpenRequest& r, Node* file, bool* created,
                                 Bitmap4* attrset, uint64_t* before, uint64_t* after) {
  if (!r.create) {
    Compound probe = c;
    if (Nfsstat4 st = LookupName(probe, r.name); st != Nfsstat4::kOk) return st;
    if (probe.cur.kind != Fh::Kind::kUnion) return Nfsstat4::kIsDir;
    *file = probe.cur.node;
    return Nfsstat4::kOk;
  }
  Node dir;
  Attr pre;
  if (Nfsstat4 st = WritableDir(c, c.cur, &dir, &pre); st != Nfsstat4::kOk) return st;
  if (pre.type != FileType::kDir) return Nfsstat4::kNotDir;
  *before = *after = ChangeOf(pre);
  if (policy_->options().read_only) return Nfsstat4::kRofs;
  if (!MayAccess(pre, c.cred, W_OK | X_OK)) return Nfsstat4::kAccess;
  if (Status st = nfs::CheckName(r.name, /*creating=*/true); !st.ok()) return ToNfsstat4(st);
  const bool existed = fs_->Lookup(dir, r.name).ok();
  SetAttrRequest req = r.attrs->req;
  CreateMode mode = r.createmode == kGuarded4     ? CreateMode::kGuarded
                    : r.createmode == kUnchecked4 ? CreateMode::kUnchecked
                                                  : CreateMode::kExclusive;
  Result<Node> made =
      fs_->Create(dir, r.name, mode, req.mode.value_or(kDefaultFileMode), r.verf, c.cred);
  if (!made.ok()) return ToNfsstat4(made.status());
  *file = *made;
  *created = !existed;
  // The attributes beyond the mode: all of them on a new file; on an existing one (UNCHECKED4)
  // only a size, which is how O_TRUNC arrives.
  req.mode.reset();
  if (existed) {
    req = SetAttrRequest{};
    req.size = r.attrs->req.size;
  }
  if (req.uid || req.gid || req.size || req.atime_how != SetAttrRequest::Time::kDontChange ||
      req.mtime_how != SetAttrRequest::Time::kDontChange) {
    Result<Attr> attr = fs_->GetAttr(*file);
    if (!attr.ok()) return ToNfsstat4(attr.status());
    Status st = nfs::CheckSetAttr(*attr, c.cred, req);
    if (st.ok()) st = fs_->SetAttr(*file, req);
    if (!st.ok()) return ToNfsstat4(st);
  }
  if (!existed) *attrset = r.attrs->set;
  if (Result<Attr> post = fs_->GetAttr(dir); post.ok()) *after = ChangeOf(*post);
  return Nfsstat4::kOk;
}

Nfsstat4 Nfs4Program::Open(Compound& c, xdr::Decoder& in, xdr::Encoder& out) {
  OpenArgs a;
  if (Nfsstat4 st = DecodeOpenArgs(in, &a); st != Nfsstat4::kOk) return st;
  const uint32_t access = a.access & kShareBoth;
  if (access == 0 || a.deny > kShareBoth) return Nfsstat4::kInval;
  if (c.cur.kind == Fh::Kind::kNone) return Nfsstat4::kNoFileHandle;
  if (a.claim != kClaimNull && a.claim != kClaimPrevious && a.claim != kClaimFh) {
    return Nfsstat4::kNotSupp;  // delegations are never granted, so none can be claimed
  }
  const bool reclaim = a.claim == kClaimPrevious;
  if (reclaim && !state_->MayReclaim(c.clientid)) {
    return state_->InGrace() ? Nfsstat4::kReclaimBad : Nfsstat4::kNoGrace;
  }
  if (!reclaim && state_->InGrace()) return Nfsstat4::kGrace;
  if ((access & kShareWrite) && policy_->options().read_only) return Nfsstat4::kRofs;
  Node file;
  bool created = false;
  Bitmap4 attrset;
  uint64_t before = 0, after = 0;
  if (a.claim == kClaimNull) {
    OpenRequest r{a.name, a.opentype == kOpenCreate, a.createmode, &a.attrs, a.verf};
    if (Nfsstat4 st = OpenTarget(c, r, &file, &created, &attrset, &before, &after);
        st != Nfsstat4::kOk) {
      return st;
    }
  } else {
    if (a.opentype == kOpenCreate) return Nfsstat4::kInval;
    if (Nfsstat4 st = CurrentNode(c, Nfsstat4::kIsDir, &file); st != Nfsstat4::kOk) return st;
  }
  Result<Attr> attr = fs_->GetAttr(file);
  if (!attr.ok()) return ToNfsstat4(attr.status());
  if (Nfsstat4 st = CheckRegular(*attr); st != Nfsstat4::kOk) return st;
  // Whoever created the file may open it whatever its mode says, as with open(2).
  if (!created) {
    if ((access & kShareRead) && !nfs::MayReadWrite(*attr, c.cred, R_OK)) return Nfsstat4::kAccess;
    if ((access & kShareWrite) && !nfs::MayReadWrite(*attr, c.cred, W_OK)) {
      return Nfsstat4::kAccess;
    }
  }
  Stateid sid;
  if (Nfsstat4 st = state_->Open(c.clientid, a.owner, file.handle, access, a.deny, reclaim, &sid);
      st != Nfsstat4::kOk) {
    return st;
  }
  c.cur = Fh{Fh::Kind::kUnion, 0, file};
  c.current_stateid = sid;
  EncodeStateid(out, sid);
  EncodeChangeInfo(out, before, after);
  out.U32(0);  // rflags
  EncodeBitmap4(out, attrset);
  out.U32(kOpenDelegateNone);
  return Nfsstat4::kOk;
}

Nfsstat4 Nfs4Program::OpenDowngrade(Compound& c, xdr::Decoder& in, xdr::Encoder& out) {
  Stateid sid;
  uint32_t seqid = 0, access = 0, deny = 0;
  if (!DecodeStateid(in, &sid) || !in.U32(&seqid) || !in.U32(&access) || !in.U32(&deny)) {
    return Nfsstat4::kBadXdr;
  }
  if (c.cur.kind == Fh::Kind::kNone) return Nfsstat4::kNoFileHandle;
  Stateid now;
  Nfsstat4 st = state_->Downgrade(c.clientid, Resolve(c, sid), access & kShareBoth, deny, &now);
  if (st != Nfsstat4::kOk) return st;
  c.current_stateid = now;
  EncodeStateid(out, now);
  return Nfsstat4::kOk;
}

Nfsstat4 Nfs4Program::Close(Compound& c, xdr::Decoder& in, xdr::Encoder& out) {
  uint32_t seqid = 0;
  Stateid sid;
  if (!in.U32(&seqid) || !DecodeStateid(in, &sid)) return Nfsstat4::kBadXdr;
  if (c.cur.kind == Fh::Kind::kNone) return Nfsstat4::kNoFileHandle;
  if (Nfsstat4 st = state_->Close(c.clientid, Resolve(c, sid)); st != Nfsstat4::kOk) return st;
  // The invalid special stateid, as RFC 8881 18.2.4 recommends.
  Stateid invalid;
  invalid.seqid = 0xffffffff;
  c.current_stateid.reset();
  EncodeStateid(out, invalid);
  return Nfsstat4::kOk;
}

Nfsstat4 Nfs4Program::IoTarget(Compound& c, const Stateid& sid, uint32_t access, Node* node,
                               Attr* attr) {
  if (Nfsstat4 st = CurrentNode(c, Nfsstat4::kIsDir, node); st != Nfsstat4::kOk) return st;
  Result<Attr> a = fs_->GetAttr(*node);
  if (!a.ok()) return ToNfsstat4(a.status());
  *attr = *a;
  if (Nfsstat4 st = CheckRegular(*attr); st != Nfsstat4::kOk) return st;
  const Stateid resolved = Resolve(c, sid);
  Nfsstat4 st = state_->CheckIo(c.clientid, resolved, node->handle, access);
  if (st != Nfsstat4::kOk) return st;
  // An open was checked against the mode when it was made; I/O without one is checked now.
  if (resolved.IsAnonymous() || resolved.IsReadBypass()) {
    if (!nfs::MayReadWrite(*attr, c.cred, access == kShareRead ? R_OK : W_OK)) {
      return Nfsstat4::kAccess;
    }
  }
  return Nfsstat4::kOk;
}

Nfsstat4 Nfs4Program::Read(Compound& c, xdr::Decoder& in, xdr::Encoder& out) {
  Stateid sid;
  uint64_t offset = 0;
  uint32_t count = 0;
  if (!DecodeStateid(in, &sid) || !in.U64(&offset) || !in.U32(&count)) return Nfsstat4::kBadXdr;
  Node node;
  Attr attr;
  if (Nfsstat4 st = IoTarget(c, sid, kShareRead, &node, &attr); st != Nfsstat4::kOk) return st;
  count =
      std::min({count, nfs::kMaxIoSize,
                c.fore.max_response > kReadOverhead ? c.fore.max_response - kReadOverhead : 0u});
  if (c.last_op && count > state_->limits().max_cached_response) {
    // Read straight into the buffer the reply is sent from, as the v3 READ does.
    auto buf = std::make_unique_for_overwrite<char[]>(size_t{count} + 3);
    Result<ReadInfo> data = fs_->ReadInto(node, offset, count, buf.get());
    if (!data.ok()) return ToNfsstat4(data.status());
    out.Bool(data->eof);
    out.OpaqueTail(std::move(buf), data->count);
    c.used_tail = true;
    return Nfsstat4::kOk;
  }
  Result<ReadResult> data = fs_->Read(node, offset, count);
  if (!data.ok()) return ToNfsstat4(data.status());
  out.Bool(data->eof);
  out.Opaque(data->data);
  return Nfsstat4::kOk;
}

Nfsstat4 Nfs4Program::Write(Compound& c, xdr::Decoder& in, xdr::Encoder& out) {
  Stateid sid;
  uint64_t offset = 0;
  uint32_t stable = 0;
  std::string data;
  if (!DecodeStateid(in, &sid) || !in.U64(&offset) || !in.U32(&stable) ||
      !in.Opaque(&data, nfs::kMaxIoSize)) {
    return Nfsstat4::kBadXdr;
  }
  if (stable > static_cast<uint32_t>(StableHow::kFileSync)) return Nfsstat4::kInval;
  Node node;
  Attr attr;
  if (Nfsstat4 st = IoTarget(c, sid, kShareWrite, &node, &attr); st != Nfsstat4::kOk) return st;
  // A write by anyone but root drops set-id bits first, as the v3 WRITE does (nfs/access.h).
  if (!data.empty()) {
    if (const uint32_t mode = nfs::ModeAfterWrite(attr, c.cred); mode != attr.mode) {
      SetAttrRequest req;
      req.mode = mode;
      if (Status st = fs_->SetAttr(node, req); !st.ok()) return ToNfsstat4(st);
    }
  }
  Result<WriteResult> written = fs_->Write(node, offset, data, static_cast<StableHow>(stable));
  if (!written.ok()) return ToNfsstat4(written.status());
  out.U32(written->count);
  out.U32(static_cast<uint32_t>(written->committed));
  out.FixedOpaque(write_verifier_.data(), write_verifier_.size());
  return Nfsstat4::kOk;
}

Nfsstat4 Nfs4Program::Commit(Compound& c, xdr::Decoder& in, xdr::Encoder& out) {
  uint64_t offset = 0;
  uint32_t count = 0;
  if (!in.U64(&offset) || !in.U32(&count)) return Nfsstat4::kBadXdr;
  Node node;
  if (Nfsstat4 st = CurrentNode(c, Nfsstat4::kIsDir, &node); st != Nfsstat4::kOk) return st;
  if (node.type == FileType::kDir) return Nfsstat4::kIsDir;
  // The whole file is made durable whatever range was asked for, as for v3.
  if (Status st = fs_->Commit(node); !st.ok()) return ToNfsstat4(st);
  out.FixedOpaque(write_verifier_.data(), write_verifier_.size());
  return Nfsstat4::kOk;
}

Nfsstat4 Nfs4Program::SetAttrOf(Compound& c, const Stateid& sid, SetAttrs& attrs) {
  Node node;
  if (Nfsstat4 st = CurrentNode(c, Nfsstat4::kRofs, &node); st != Nfsstat4::kOk) return st;
  if (policy_->options().read_only) return Nfsstat4::kRofs;
  Result<Attr> attr = fs_->GetAttr(node);
  if (!attr.ok()) return ToNfsstat4(attr.status());
  if (attrs.req.size) {
    if (state_->InGrace()) return Nfsstat4::kGrace;
    if (Nfsstat4 st = CheckRegular(*attr); st != Nfsstat4::kOk) return st;
    Nfsstat4 st = state_->CheckIo(c.clientid, Resolve(c, sid), node.handle, kShareWrite);
    if (st != Nfsstat4::kOk) return st;
  }
  Status st = nfs::CheckSetAttr(*attr, c.cred, attrs.req);
  if (st.ok()) st = fs_->SetAttr(node, attrs.req);
  return ToNfsstat4(st);
}

Nfsstat4 Nfs4Program::SetAttr(Compound& c, xdr::Decoder& in, xdr::Encoder& out) {
  Stateid sid;
  SetAttrs attrs;
  Nfsstat4 st = DecodeStateid(in, &sid) ? DecodeFattr4Set(in, &attrs) : Nfsstat4::kBadXdr;
  if (st == Nfsstat4::kOk) st = SetAttrOf(c, sid, attrs);
  // attrsset is part of the result whatever the status (RFC 8881 18.30).
  EncodeBitmap4(out, st == Nfsstat4::kOk ? attrs.set : Bitmap4{});
  return st;
}

Nfsstat4 Nfs4Program::TestStateid(Compound& c, xdr::Decoder& in, xdr::Encoder& out) {
  uint32_t n = 0;
  if (!in.U32(&n) || n > kMaxTestStateids) return Nfsstat4::kBadXdr;
  std::vector<Stateid> ids(n);
  for (Stateid& s : ids) {
    if (!DecodeStateid(in, &s)) return Nfsstat4::kBadXdr;
  }
  out.U32(n);
  for (const Stateid& s : ids) out.U32(static_cast<uint32_t>(state_->Test(c.clientid, s)));
  return Nfsstat4::kOk;
}

Nfsstat4 Nfs4Program::FreeStateid(Compound& c, xdr::Decoder& in, xdr::Encoder& /*out*/) {
  Stateid sid;
  if (!DecodeStateid(in, &sid)) return Nfsstat4::kBadXdr;
  return state_->Free(c.clientid, Resolve(c, sid));
}

}  // namespace ovl::nfs4
