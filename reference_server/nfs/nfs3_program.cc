// Dispatch, shared helpers, and the attribute, file data and file system procedures.
#include "nfs/nfs3_program.h"

#include <unistd.h>

#include <algorithm>
#include <limits>
#include <memory>

#include "nfs/access.h"
#include "nfs/nfs3_status.h"

namespace ovl::nfs {

namespace {

bool SameNfstime(const struct timespec& a, const struct timespec& b) {
  // Compared as nfstime3, since that is all the client could have seen.
  return static_cast<uint32_t>(a.tv_sec) == static_cast<uint32_t>(b.tv_sec) &&
         a.tv_nsec == b.tv_nsec;
}

// READ and WRITE work on regular files only.
Nfsstat3 CheckRegular(const Attr& attr) {
  if (attr.type == FileType::kDir) return Nfsstat3::kIsDir;
  if (attr.type != FileType::kReg) return Nfsstat3::kInval;
  return Nfsstat3::kOk;
}

// Clears the set-id bits a write by `cred` takes away (access.h: ModeAfterWrite). Done before
// the data changes, as the kernel does, so no crash leaves changed data under the old bits.
Status DropSetIdForWrite(UnionFs& fs, const Node& node, const Attr& pre, const Cred& cred) {
  const uint32_t mode = ModeAfterWrite(pre, cred);
  if (mode == pre.mode) return Status::Ok();
  SetAttrRequest req;
  req.mode = mode;
  return fs.SetAttr(node, req);
}

}  // namespace

const std::array<Nfs3Program::ProcEntry, kNfs3ProcCount> Nfs3Program::kProcs = {{
    {&Nfs3Program::Null, 0, false},     {&Nfs3Program::GetAttr, 0, false},
    {&Nfs3Program::SetAttr, 2, true},   {&Nfs3Program::Lookup, 1, false},
    {&Nfs3Program::Access, 1, false},   {&Nfs3Program::ReadLink, 1, false},
    {&Nfs3Program::Read, 1, false},     {&Nfs3Program::Write, 2, true},
    {&Nfs3Program::Create, 2, true},    {&Nfs3Program::MkDir, 2, true},
    {&Nfs3Program::Symlink, 2, true},   {&Nfs3Program::MkNod, 2, true},
    {&Nfs3Program::Remove, 2, true},    {&Nfs3Program::RmDir, 2, true},
    {&Nfs3Program::Rename, 4, true},    {&Nfs3Program::Link, 3, true},
    {&Nfs3Program::ReadDir, 1, false},  {&Nfs3Program::ReadDirPlus, 1, false},
    {&Nfs3Program::FsStat, 1, false},   {&Nfs3Program::FsInfo, 1, false},
    {&Nfs3Program::PathConf, 1, false}, {&Nfs3Program::Commit, 2, false},
}};

Nfs3Program::Nfs3Program(UnionFs* fs, const ExportPolicy* policy,
                         std::array<uint8_t, 8> write_verifier)
    : fs_(fs), policy_(policy), write_verifier_(write_verifier) {}

rpc::AcceptStat Nfs3Program::Call(const rpc::CallContext& ctx, xdr::Decoder& args,
                                  xdr::Encoder& results) {
  if (ctx.proc >= kProcs.size()) return rpc::AcceptStat::kProcUnavail;
  const ProcEntry& entry = kProcs[ctx.proc];
  if (ctx.proc != static_cast<uint32_t>(Nfs3Proc::kNull)) {
    Nfsstat3 refusal = Nfsstat3::kOk;
    if (!policy_->Allows(ctx.peer_ipv4)) {
      refusal = Nfsstat3::kAcces;
    } else if (entry.modifies && policy_->options().read_only) {
      refusal = Nfsstat3::kRofs;
    }
    if (refusal != Nfsstat3::kOk) {
      EncodeStatus(results, refusal);
      for (int i = 0; i < entry.failure_words; ++i) results.Bool(false);
      return kSuccess;
    }
  }
  return (this->*entry.handler)(policy_->CredFor(ctx), args, results);
}

std::optional<Attr> Nfs3Program::AttrOf(const Node& node) {
  Result<Attr> attr = fs_->GetAttr(node);
  if (!attr.ok()) return std::nullopt;
  return *std::move(attr);
}

Result<std::pair<Node, Attr>> Nfs3Program::Resolve(const Handle& handle) {
  OVL_ASSIGN_OR_RETURN(Node node, fs_->Decode(handle));
  OVL_ASSIGN_OR_RETURN(Attr attr, fs_->GetAttr(node));
  return std::pair{std::move(node), std::move(attr)};
}

std::optional<std::pair<Node, Attr>> Nfs3Program::ResolveOrEncodeFailure(const Handle& handle,
                                                                         FailureAttrs attrs,
                                                                         xdr::Encoder& out) {
  Result<std::pair<Node, Attr>> r = Resolve(handle);
  if (r.ok()) return *std::move(r);
  EncodeStatus(out, ToNfsstat3(r.status()));
  if (attrs == FailureAttrs::kWcc) {
    EncodeWccData(out, std::nullopt, std::nullopt);
  } else {
    EncodePostOpAttr(out, std::nullopt);
  }
  return std::nullopt;
}

std::optional<std::pair<Node, Attr>> Nfs3Program::ResolveAndEncodeAttr(const Handle& handle,
                                                                       xdr::Encoder& out) {
  std::optional<std::pair<Node, Attr>> r =
      ResolveOrEncodeFailure(handle, FailureAttrs::kPostOp, out);
  if (r) {
    EncodeStatus(out, Nfsstat3::kOk);
    EncodePostOpAttr(out, r->second);
  }
  return r;
}

rpc::AcceptStat Nfs3Program::Null(const Cred& /*cred*/, xdr::Decoder& in, xdr::Encoder& /*out*/) {
  return AtEnd(in) ? kSuccess : kGarbage;
}

rpc::AcceptStat Nfs3Program::GetAttr(const Cred& /*cred*/, xdr::Decoder& in, xdr::Encoder& out) {
  Handle fh;
  if (!DecodeFh3(in, &fh) || !AtEnd(in)) return kGarbage;
  Result<std::pair<Node, Attr>> r = Resolve(fh);
  EncodeStatus(out, ToNfsstat3(r.status()));
  if (r.ok()) EncodeFattr3(out, r->second);
  return kSuccess;
}

rpc::AcceptStat Nfs3Program::SetAttr(const Cred& cred, xdr::Decoder& in, xdr::Encoder& out) {
  Handle fh;
  SetAttrRequest req;
  bool check_guard = false;
  struct timespec guard_ctime {};
  if (!DecodeFh3(in, &fh) || !DecodeSattr3(in, &req) || !in.Bool(&check_guard) ||
      (check_guard && !DecodeNfstime3(in, &guard_ctime)) || !AtEnd(in)) {
    return kGarbage;
  }
  std::optional<std::pair<Node, Attr>> r = ResolveOrEncodeFailure(fh, FailureAttrs::kWcc, out);
  if (!r) return kSuccess;
  const auto& [node, pre] = *r;
  Status st;
  if (check_guard && !SameNfstime(pre.ctime, guard_ctime)) {
    st = Status::Error(kErrNotSync, "setattr guard: ctime changed");
  } else {
    st = CheckSetAttr(pre, cred, req);
    if (st.ok()) st = fs_->SetAttr(node, req);
  }
  EncodeStatus(out, ToNfsstat3(st));
  EncodeWccData(out, pre, AttrOf(node));
  return kSuccess;
}

rpc::AcceptStat Nfs3Program::Access(const Cred& cred, xdr::Decoder& in, xdr::Encoder& out) {
  Handle fh;
  uint32_t requested = 0;
  if (!DecodeFh3(in, &fh) || !in.U32(&requested) || !AtEnd(in)) return kGarbage;
  std::optional<std::pair<Node, Attr>> r = ResolveAndEncodeAttr(fh, out);
  if (!r) return kSuccess;
  out.U32(Access3Mask(r->second, cred, requested, policy_->options().read_only));
  return kSuccess;
}

rpc::AcceptStat Nfs3Program::ReadLink(const Cred& /*cred*/, xdr::Decoder& in, xdr::Encoder& out) {
  Handle fh;
  if (!DecodeFh3(in, &fh) || !AtEnd(in)) return kGarbage;
  std::optional<std::pair<Node, Attr>> r = ResolveOrEncodeFailure(fh, FailureAttrs::kPostOp, out);
  if (!r) return kSuccess;
  const auto& [node, attr] = *r;
  Result<std::string> target = attr.type == FileType::kLnk
                                   ? fs_->ReadLink(node)
                                   : Result<std::string>(Status::Error(EINVAL, "not a symlink"));
  EncodeStatus(out, ToNfsstat3(target.status()));
  EncodePostOpAttr(out, attr);
  if (target.ok()) out.String(*target);
  return kSuccess;
}

rpc::AcceptStat Nfs3Program::Read(const Cred& cred, xdr::Decoder& in, xdr::Encoder& out) {
  Handle fh;
  uint64_t offset = 0;
  uint32_t count = 0;
  if (!DecodeFh3(in, &fh) || !in.U64(&offset) || !in.U32(&count) || !AtEnd(in)) {
    return kGarbage;
  }
  std::optional<std::pair<Node, Attr>> r = ResolveOrEncodeFailure(fh, FailureAttrs::kPostOp, out);
  if (!r) return kSuccess;
  const auto& [node, attr] = *r;
  Nfsstat3 st = CheckRegular(attr);
  if (st == Nfsstat3::kOk && !MayReadWrite(attr, cred, R_OK)) st = Nfsstat3::kAcces;
  if (st != Nfsstat3::kOk) {
    EncodeStatus(out, st);
    EncodePostOpAttr(out, attr);
    return kSuccess;
  }
  count = std::min(count, kMaxIoSize);
  // Read straight into the buffer the reply is sent from (not zero-filled first, with room for
  // the XDR padding): the data is copied from the page cache once and to the socket once.
  auto buf = std::make_unique_for_overwrite<char[]>(size_t{count} + 3);
  Result<ReadInfo> data = fs_->ReadInto(node, offset, count, buf.get());
  EncodeStatus(out, ToNfsstat3(data.status()));
  if (!data.ok()) {
    EncodePostOpAttr(out, AttrOf(node));
    return kSuccess;
  }
  EncodePostOpAttr(out, data->attr);
  out.U32(static_cast<uint32_t>(data->count));
  out.Bool(data->eof);
  out.OpaqueTail(std::move(buf), data->count);
  return kSuccess;
}

rpc::AcceptStat Nfs3Program::Write(const Cred& cred, xdr::Decoder& in, xdr::Encoder& out) {
  Handle fh;
  uint64_t offset = 0;
  uint32_t count = 0, stable = 0;
  std::string data;
  if (!DecodeFh3(in, &fh) || !in.U64(&offset) || !in.U32(&count) || !in.U32(&stable) ||
      !in.Opaque(&data, kMaxIoSize) || !AtEnd(in)) {
    return kGarbage;
  }
  // The count must describe the data that follows (as knfsd requires); stable_how is 0..2.
  if (count != data.size() || stable > static_cast<uint32_t>(StableHow::kFileSync)) {
    return kGarbage;
  }
  std::optional<std::pair<Node, Attr>> r = ResolveOrEncodeFailure(fh, FailureAttrs::kWcc, out);
  if (!r) return kSuccess;
  const auto& [node, pre] = *r;
  Nfsstat3 st = CheckRegular(pre);
  if (st == Nfsstat3::kOk && !MayReadWrite(pre, cred, W_OK)) st = Nfsstat3::kAcces;
  if (st != Nfsstat3::kOk) {
    EncodeStatus(out, st);
    EncodeWccData(out, pre, pre);
    return kSuccess;
  }
  // An empty write changes nothing, so it keeps the bits, as in the kernel.
  Status cleared = data.empty() ? Status::Ok() : DropSetIdForWrite(*fs_, node, pre, cred);
  Result<WriteResult> written = cleared.ok()
                                    ? fs_->Write(node, offset, data, static_cast<StableHow>(stable))
                                    : Result<WriteResult>(std::move(cleared));
  EncodeStatus(out, ToNfsstat3(written.status()));
  EncodeWccData(out, pre, AttrOf(node));
  if (written.ok()) {
    out.U32(written->count);
    out.U32(static_cast<uint32_t>(written->committed));
    out.FixedOpaque(write_verifier_.data(), write_verifier_.size());
  }
  return kSuccess;
}

rpc::AcceptStat Nfs3Program::Commit(const Cred& /*cred*/, xdr::Decoder& in, xdr::Encoder& out) {
  Handle fh;
  uint64_t offset = 0;
  uint32_t count = 0;
  if (!DecodeFh3(in, &fh) || !in.U64(&offset) || !in.U32(&count) || !AtEnd(in)) {
    return kGarbage;
  }
  std::optional<std::pair<Node, Attr>> r = ResolveOrEncodeFailure(fh, FailureAttrs::kWcc, out);
  if (!r) return kSuccess;
  const auto& [node, pre] = *r;
  // The whole file is made durable whatever range was asked for, which the RFC allows.
  Status st = fs_->Commit(node);
  EncodeStatus(out, ToNfsstat3(st));
  EncodeWccData(out, pre, AttrOf(node));
  if (st.ok()) out.FixedOpaque(write_verifier_.data(), write_verifier_.size());
  return kSuccess;
}

rpc::AcceptStat Nfs3Program::FsStat(const Cred& /*cred*/, xdr::Decoder& in, xdr::Encoder& out) {
  Handle fh;
  if (!DecodeFh3(in, &fh) || !AtEnd(in)) return kGarbage;
  std::optional<std::pair<Node, Attr>> r = ResolveOrEncodeFailure(fh, FailureAttrs::kPostOp, out);
  if (!r) return kSuccess;
  Result<struct statvfs> vfs = fs_->StatFs();
  EncodeStatus(out, ToNfsstat3(vfs.status()));
  EncodePostOpAttr(out, r->second);
  if (!vfs.ok()) return kSuccess;
  const uint64_t frsize = vfs->f_frsize ? vfs->f_frsize : vfs->f_bsize;
  out.U64(vfs->f_blocks * frsize);
  out.U64(vfs->f_bfree * frsize);
  out.U64(vfs->f_bavail * frsize);
  out.U64(vfs->f_files);
  out.U64(vfs->f_ffree);
  out.U64(vfs->f_favail);
  out.U32(0);  // invarsec: the numbers change at any time
  return kSuccess;
}

rpc::AcceptStat Nfs3Program::FsInfo(const Cred& /*cred*/, xdr::Decoder& in, xdr::Encoder& out) {
  Handle fh;
  if (!DecodeFh3(in, &fh) || !AtEnd(in)) return kGarbage;
  if (!ResolveAndEncodeAttr(fh, out)) return kSuccess;
  out.U32(kMaxIoSize);                                                  // rtmax
  out.U32(kMaxIoSize);                                                  // rtpref
  out.U32(kIoMultiple);                                                 // rtmult
  out.U32(kMaxIoSize);                                                  // wtmax
  out.U32(kMaxIoSize);                                                  // wtpref
  out.U32(kIoMultiple);                                                 // wtmult
  out.U32(kDirPref);                                                    // dtpref
  out.U64(static_cast<uint64_t>(std::numeric_limits<int64_t>::max()));  // maxfilesize
  EncodeNfstime3(out, {0, 1});                                          // time_delta
  out.U32(kFsf3Link | kFsf3Symlink | kFsf3Homogeneous | kFsf3CanSetTime);
  return kSuccess;
}

rpc::AcceptStat Nfs3Program::PathConf(const Cred& /*cred*/, xdr::Decoder& in, xdr::Encoder& out) {
  Handle fh;
  if (!DecodeFh3(in, &fh) || !AtEnd(in)) return kGarbage;
  if (!ResolveAndEncodeAttr(fh, out)) return kSuccess;
  out.U32(kLinkMax);
  out.U32(kMaxNameLen);
  out.Bool(true);   // no_trunc: long names are refused, never truncated
  out.Bool(true);   // chown_restricted
  out.Bool(false);  // case_insensitive
  out.Bool(true);   // case_preserving
  return kSuccess;
}

}  // namespace ovl::nfs
