#include "agent/libnfs_executor.h"

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

namespace ovl::agent {
namespace {

namespace nc = ::ovl::nfsclient;

// READDIRPLUS reply sizes (RFC 1813 3.3.17), bounded by the longest name (NAME_MAX padded), so
// a request sized for n entries always has room for n whatever their names.
constexpr uint32_t kDirInfoBytes = 8 + 4 + 256 + 8;                // fileid, name, cookie
constexpr uint32_t kEntryPlusBytes = 4 + kDirInfoBytes + 88 + 72;  // + attrs, handle
constexpr uint32_t kReplyHeaderBytes = 4 + 88 + 8 + 4 + 4;         // status .. eof
constexpr uint32_t kMaxReplyBytes = 1024 * 1024;
// Pages fetched for one kReaddir when a page holds nothing but "." and "..".
constexpr int kMaxPagesPerReaddir = 3;

// "STALE" for NFS3ERR_STALE: the ops.h name of an nfsstat3.
std::string StatusName(uint32_t status) {
  std::string name = nc::Nfsstat3Name(status);
  constexpr std::string_view kPrefix = "NFS3ERR_";
  return name.rfind(kPrefix, 0) == 0 ? name.substr(kPrefix.size()) : name;
}

// The ops.h name of an RPC-level rejection, or "" when `code` is not one.
std::string RpcRejectionName(int code) {
  switch (code) {
    case nc::kErrRpcProgUnavail:
      return "RPC_PROG_UNAVAIL";
    case nc::kErrRpcProgMismatch:
      return "RPC_PROG_MISMATCH";
    case nc::kErrRpcProcUnavail:
      return "RPC_PROC_UNAVAIL";
    case nc::kErrRpcGarbageArgs:
      return "RPC_GARBAGE_ARGS";
    case nc::kErrRpcSystemErr:
      return "RPC_SYSTEM_ERR";
    case nc::kErrRpcDenied:
      return "RPC_DENIED";
    default:
      return "";
  }
}

std::string TypeName(uint32_t type) {
  switch (type) {
    case nc::kTypeReg:
      return "reg";
    case nc::kTypeDir:
      return "dir";
    case nc::kTypeLnk:
      return "lnk";
    case nc::kTypeChr:
      return "chr";
    case nc::kTypeBlk:
      return "blk";
    case nc::kTypeSock:
      return "sock";
    case nc::kTypeFifo:
      return "fifo";
    default:
      return "type" + std::to_string(type);
  }
}

std::optional<ops::Attrs> ToAttrs(const std::optional<nc::Fattr>& fattr) {
  if (!fattr) return std::nullopt;
  ops::Attrs a;
  a.type = TypeName(fattr->type);
  a.size = fattr->size;
  a.fileid = fattr->fileid;
  a.nlink = fattr->nlink;
  a.mode = fattr->mode;
  return a;
}

// The non-empty components of a '/'-separated path.
std::vector<std::string> Components(const std::string& path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    if (end > start) parts.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

ops::Result Ok() {
  return ops::Result{};
}

// Run()'s outcome for an op that yields a handle: op.save stores it.
Executor::Outcome SaveHandle(ops::Result r) {
  std::string handle = r.handle;
  return {std::move(r), std::move(handle)};
}

}  // namespace

Result<std::unique_ptr<LibnfsExecutor>> LibnfsExecutor::Connect(const LibnfsConfig& config) {
  std::unique_ptr<LibnfsExecutor> e(new LibnfsExecutor());
  e->client_.set_timeout(config.timeout);
  e->client_.SetCredentials(config.uid, config.gid);
  uint16_t mount_port = config.mount_port != 0 ? config.mount_port : config.nfs_port;
  OVL_RETURN_IF_ERROR(e->client_.Connect(config.host, config.nfs_port, mount_port));
  OVL_ASSIGN_OR_RETURN(nc::MntRes mnt, e->client_.Mnt(config.export_path));
  if (mnt.status != 0) {
    return Status::Error(
        EACCES, "MNT " + config.export_path + ": mountstat3 " + std::to_string(mnt.status));
  }
  e->root_ = std::move(mnt.handle);
  return e;
}

bool LibnfsExecutor::CallFailed(const Status& transport, ops::Result* out) {
  if (transport.ok()) return false;
  if (!client_.connected()) {
    // NfsClient drops the connection on every transport failure: nothing more can be said
    // about this op or any later one on this connection.
    broken_ = transport.ToString();
    *out = UnknownResult(broken_);
  } else if (std::string name = RpcRejectionName(transport.code()); !name.empty()) {
    *out = ErrorResult(name);
  } else {
    // The connection holds, but this call got no usable answer (a reply that could not be
    // decoded): the server may have acted on it.
    *out = UnknownResult(transport.ToString());
  }
  return true;
}

template <typename Reply>
bool LibnfsExecutor::Failed(const Result<Reply>& reply, ops::Result* out) {
  if (CallFailed(reply.status(), out)) return true;
  if (reply->status == nc::kNfs3Ok) return false;
  *out = ErrorResult(StatusName(reply->status));
  return true;
}

std::optional<std::string> LibnfsExecutor::Resolve(const ops::Target& target, const VarTable& vars,
                                                   ops::Result* out) {
  std::string error;
  if (std::optional<std::string> held = HeldHandle(target, vars, &error)) return held;
  if (!error.empty()) {
    *out = ErrorResult(error);
    return std::nullopt;
  }
  std::string fh = root_;
  for (const std::string& name : Components(target.path)) {
    Result<nc::LookupRes> r = client_.Lookup(fh, name);
    if (Failed(r, out)) return std::nullopt;
    fh = std::move(r->handle);
  }
  return fh;
}

Executor::Outcome LibnfsExecutor::Run(const ops::Op& op, const VarTable& vars) {
  if (!broken_.empty()) return {UnknownResult("connection lost earlier: " + broken_)};
  // NFSv3 has no open: nothing to keep open or act through (the plan keeps such cases away).
  if (op.kind == ops::Kind::kOpen || op.kind == ops::Kind::kClose || !op.target.fd.empty()) {
    return {ErrorResult("NOTSUPP")};
  }
  ops::Result out;
  std::optional<std::string> fh = Resolve(op.target, vars, &out);
  if (!fh) return {out};
  switch (op.kind) {
    case ops::Kind::kLookup:
      return SaveHandle(Lookup(*fh, op.name));
    case ops::Kind::kGetAttr:
      return {GetAttr(*fh)};
    case ops::Kind::kSetAttr:
      return {SetAttr(*fh, op)};
    case ops::Kind::kRead:
      return {Read(*fh, op)};
    case ops::Kind::kWrite:
      return {Write(*fh, op)};
    case ops::Kind::kCommit:
      return {Commit(*fh)};
    case ops::Kind::kCreate:
      return SaveHandle(Create(*fh, op));
    case ops::Kind::kMkdir:
      return SaveHandle(Mkdir(*fh, op));
    case ops::Kind::kSymlink:
      return SaveHandle(Symlink(*fh, op));
    case ops::Kind::kRemove:
      return {Remove(*fh, op, /*is_dir=*/false)};
    case ops::Kind::kRmdir:
      return {Remove(*fh, op, /*is_dir=*/true)};
    case ops::Kind::kRename:
      return {Rename(*fh, op, vars)};
    case ops::Kind::kLink:
      return {Link(*fh, op, vars)};
    case ops::Kind::kReaddir:
      return Readdir(*fh, op, vars);
    case ops::Kind::kReadlink:
      return {Readlink(*fh)};
    case ops::Kind::kOpen:
    case ops::Kind::kClose:
      break;  // above
  }
  return {ErrorResult("INVAL")};
}

ops::Result LibnfsExecutor::RunProbe(Probe probe, const ops::Target& target, const VarTable& vars) {
  if (!broken_.empty()) return UnknownResult("connection lost earlier: " + broken_);
  ops::Result out = Ok();
  std::optional<std::string> fh = Resolve(target, vars, &out);
  if (!fh) return out;
  switch (probe) {
    case Probe::kAccess: {
      constexpr uint32_t kAll = nc::kAccessRead | nc::kAccessLookup | nc::kAccessModify |
                                nc::kAccessExtend | nc::kAccessDelete | nc::kAccessExecute;
      Failed(client_.Access(*fh, kAll), &out);
      return out;
    }
    case Probe::kFsstat:
      Failed(client_.Fsstat(*fh), &out);
      return out;
    case Probe::kReaddir: {
      Result<nc::ReaddirRes> r =
          client_.Readdir(*fh, 0, 0, kReplyHeaderBytes + kDefaultPageEntries * kDirInfoBytes);
      if (Failed(r, &out)) return out;
      for (const nc::DirEntry& e : r->entries) out.entries.push_back({e.name, e.cookie});
      out.eof = r->eof;
      return out;
    }
  }
  return ErrorResult("INVAL");
}

ops::Result LibnfsExecutor::Lookup(const std::string& dir, const std::string& name) {
  ops::Result out = Ok();
  Result<nc::LookupRes> r = client_.Lookup(dir, name);
  if (Failed(r, &out)) return out;
  out.handle = r->handle;
  out.attrs = ToAttrs(r->attrs);
  return out;
}

ops::Result LibnfsExecutor::GetAttr(const std::string& fh) {
  ops::Result out = Ok();
  Result<nc::GetattrRes> r = client_.Getattr(fh);
  if (Failed(r, &out)) return out;
  out.attrs = ToAttrs(r->attrs);
  return out;
}

ops::Result LibnfsExecutor::SetAttr(const std::string& fh, const ops::Op& op) {
  ops::Result out = Ok();
  nc::SetAttrs attrs;
  attrs.size = op.size;
  attrs.mode = op.mode;
  Result<nc::WccRes> r = client_.Setattr(fh, attrs);
  if (Failed(r, &out)) return out;
  out.attrs = ToAttrs(r->wcc.after);
  return out;
}

ops::Result LibnfsExecutor::Read(const std::string& fh, const ops::Op& op) {
  ops::Result out = Ok();
  Result<nc::ReadRes> r = client_.Read(fh, op.offset, std::min(op.count, kMaxReadBytes));
  if (Failed(r, &out)) return out;
  out.data = std::move(r->data);
  out.eof = r->eof;
  out.attrs = ToAttrs(r->attrs);
  return out;
}

ops::Result LibnfsExecutor::Write(const std::string& fh, const ops::Op& op) {
  ops::Result out = Ok();
  Result<nc::WriteRes> r =
      client_.Write(fh, op.offset, op.data, static_cast<nc::StableHow>(op.stable));
  if (Failed(r, &out)) return out;
  out.count = r->count;
  out.committed = static_cast<ops::Stable>(r->committed);
  out.verifier = r->verifier;
  out.attrs = ToAttrs(r->wcc.after);
  return out;
}

ops::Result LibnfsExecutor::Commit(const std::string& fh) {
  ops::Result out = Ok();
  Result<nc::CommitRes> r = client_.Commit(fh, 0, 0);
  if (Failed(r, &out)) return out;
  out.verifier = r->verifier;
  out.attrs = ToAttrs(r->wcc.after);
  return out;
}

ops::Result LibnfsExecutor::Created(const std::string& dir, const std::string& name,
                                    const nc::CreateRes& reply) {
  ops::Result out = Ok();
  out.attrs = ToAttrs(reply.attrs);
  if (reply.handle) {
    out.handle = *reply.handle;
    return out;
  }
  ops::Result looked_up = Lookup(dir, name);
  if (looked_up.outcome == ops::Result::Outcome::kUnknown) return looked_up;
  out.handle = std::move(looked_up.handle);
  if (!out.attrs) out.attrs = std::move(looked_up.attrs);
  return out;
}

ops::Result LibnfsExecutor::Create(const std::string& dir, const ops::Op& op) {
  ops::Result out;
  nc::SetAttrs attrs;
  attrs.mode = op.mode;
  uint64_t verifier = 0;
  static_assert(sizeof(verifier) == sizeof(op.verifier));
  std::memcpy(&verifier, op.verifier.data(), sizeof(verifier));  // wire order, as NfsClient wants
  Result<nc::CreateRes> r =
      client_.Create(dir, op.name, static_cast<nc::CreateMode>(op.how), attrs, verifier);
  if (Failed(r, &out)) return out;
  return Created(dir, op.name, *r);
}

ops::Result LibnfsExecutor::Mkdir(const std::string& dir, const ops::Op& op) {
  ops::Result out;
  nc::SetAttrs attrs;
  attrs.mode = op.mode;
  Result<nc::CreateRes> r = client_.Mkdir(dir, op.name, attrs);
  if (Failed(r, &out)) return out;
  return Created(dir, op.name, *r);
}

ops::Result LibnfsExecutor::Symlink(const std::string& dir, const ops::Op& op) {
  ops::Result out;
  Result<nc::CreateRes> r = client_.Symlink(dir, op.name, op.link_target);
  if (Failed(r, &out)) return out;
  return Created(dir, op.name, *r);
}

ops::Result LibnfsExecutor::Remove(const std::string& dir, const ops::Op& op, bool is_dir) {
  ops::Result out = Ok();
  Result<nc::WccRes> r = is_dir ? client_.Rmdir(dir, op.name) : client_.Remove(dir, op.name);
  Failed(r, &out);
  return out;
}

ops::Result LibnfsExecutor::Rename(const std::string& from_dir, const ops::Op& op,
                                   const VarTable& vars) {
  ops::Result out = Ok();
  std::optional<std::string> to_dir = Resolve(op.target2, vars, &out);
  if (!to_dir) return out;
  Result<nc::RenameRes> r = client_.Rename(from_dir, op.name, *to_dir, op.name2);
  Failed(r, &out);
  return out;
}

ops::Result LibnfsExecutor::Link(const std::string& fh, const ops::Op& op, const VarTable& vars) {
  ops::Result out = Ok();
  std::optional<std::string> dir = Resolve(op.target2, vars, &out);
  if (!dir) return out;
  Result<nc::LinkRes> r = client_.Link(fh, *dir, op.name2);
  if (Failed(r, &out)) return out;
  out.attrs = ToAttrs(r->attrs);
  return out;
}

Executor::Outcome LibnfsExecutor::Readdir(const std::string& dir, const ops::Op& op,
                                          const VarTable& vars) {
  std::string error;
  std::optional<Position> pos = StartPosition(op, vars, &error);
  if (!pos) return {ErrorResult(error)};
  ops::Result out = Ok();
  const uint32_t want = PageEntries(op);
  // Room for the wanted entries plus "." and "..", which servers list and the page drops.
  const uint32_t room = want + 2;
  const uint32_t dircount = std::min(room * kDirInfoBytes, kMaxReplyBytes);
  const uint32_t maxcount = std::min(kReplyHeaderBytes + room * kEntryPlusBytes, kMaxReplyBytes);
  for (int page = 0; page < kMaxPagesPerReaddir; ++page) {
    Result<nc::ReaddirRes> r =
        client_.Readdirplus(dir, pos->cookie, pos->verifier, dircount, maxcount);
    if (Failed(r, &out)) return {out};
    pos->verifier = r->cookieverf;
    out.eof = r->eof;
    for (const nc::DirEntry& e : r->entries) {
      if (out.entries.size() == want) {
        out.eof = false;
        break;
      }
      pos->cookie = e.cookie;
      if (e.name != "." && e.name != "..") out.entries.push_back(ops::DirEntry{e.name, e.cookie});
    }
    if (!out.entries.empty() || out.eof) break;
  }
  return {std::move(out), EncodePosition(*pos)};
}

ops::Result LibnfsExecutor::Readlink(const std::string& fh) {
  ops::Result out = Ok();
  Result<nc::ReadlinkRes> r = client_.Readlink(fh);
  if (Failed(r, &out)) return out;
  out.link_target = std::move(r->target);
  return out;
}

}  // namespace ovl::agent
