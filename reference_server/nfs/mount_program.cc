#include "nfs/mount_program.h"

#include <arpa/inet.h>

#include "nfs/nfs3_xdr.h"

namespace ovl::nfs {

namespace {

constexpr rpc::AcceptStat kSuccess = rpc::AcceptStat::kSuccess;
constexpr rpc::AcceptStat kGarbage = rpc::AcceptStat::kGarbageArgs;

std::string PeerName(const rpc::CallContext& ctx) {
  in_addr a{htonl(ctx.peer_ipv4)};
  char buf[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &a, buf, sizeof(buf));
  return buf;
}

// "/export/" names the same export as "/export".
std::string TrimTrailingSlashes(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

}  // namespace

rpc::AcceptStat Mount3Program::Call(const rpc::CallContext& ctx, xdr::Decoder& args,
                                    xdr::Encoder& results) {
  switch (static_cast<MountProc>(ctx.proc)) {
    case MountProc::kNull:
      return AtEnd(args) ? kSuccess : kGarbage;
    case MountProc::kMnt:
      return Mnt(ctx, args, results);
    case MountProc::kDump:
      return AtEnd(args) ? Dump(results) : kGarbage;
    case MountProc::kUmnt:
      return Umnt(ctx, args);
    case MountProc::kUmntAll: {
      if (!AtEnd(args)) return kGarbage;
      std::string peer = PeerName(ctx);
      std::lock_guard lock(mu_);
      std::erase_if(mounts_, [&](const auto& m) { return m.first == peer; });
      return kSuccess;
    }
    case MountProc::kExport:
      return AtEnd(args) ? Export(results) : kGarbage;
  }
  return rpc::AcceptStat::kProcUnavail;
}

rpc::AcceptStat Mount3Program::Mnt(const rpc::CallContext& ctx, xdr::Decoder& in,
                                   xdr::Encoder& out) {
  std::string path;
  if (!in.String(&path, kMntPathLen) || !AtEnd(in)) return kGarbage;
  if (!policy_->Allows(ctx.peer_ipv4)) {
    out.U32(static_cast<uint32_t>(Mountstat3::kAcces));
    return kSuccess;
  }
  if (TrimTrailingSlashes(path) != TrimTrailingSlashes(policy_->options().path)) {
    out.U32(static_cast<uint32_t>(Mountstat3::kNoEnt));
    return kSuccess;
  }
  Result<Node> root = fs_->Root();
  if (!root.ok()) {
    out.U32(static_cast<uint32_t>(Mountstat3::kIo));
    return kSuccess;
  }
  {
    std::lock_guard lock(mu_);
    mounts_.emplace(PeerName(ctx), path);
  }
  out.U32(static_cast<uint32_t>(Mountstat3::kOk));
  EncodeFh3(out, root->handle);
  out.U32(2);  // auth_flavors
  out.U32(rpc::kAuthSys);
  out.U32(rpc::kAuthNone);
  return kSuccess;
}

rpc::AcceptStat Mount3Program::Dump(xdr::Encoder& out) {
  std::lock_guard lock(mu_);
  for (const auto& [host, path] : mounts_) {
    out.Bool(true);
    out.String(host);
    out.String(path);
  }
  out.Bool(false);
  return kSuccess;
}

rpc::AcceptStat Mount3Program::Umnt(const rpc::CallContext& ctx, xdr::Decoder& in) {
  std::string path;
  if (!in.String(&path, kMntPathLen) || !AtEnd(in)) return kGarbage;
  std::string peer = PeerName(ctx);
  std::lock_guard lock(mu_);
  mounts_.erase({peer, path});
  return kSuccess;
}

rpc::AcceptStat Mount3Program::Export(xdr::Encoder& out) {
  const ExportOptions& options = policy_->options();
  out.Bool(true);
  out.String(options.path);
  for (const Cidr& c : options.allow) {
    out.Bool(true);
    out.String(c.ToString());
  }
  out.Bool(false);  // end of groups
  out.Bool(false);  // end of exports
  return kSuccess;
}

}  // namespace ovl::nfs
