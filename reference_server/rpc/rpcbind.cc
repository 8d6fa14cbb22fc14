#include "rpc/rpcbind.h"

#include <netinet/in.h>

#include <atomic>
#include <string>

#include "rpc/client.h"

namespace ovl::rpc {
namespace {

constexpr uint32_t kPmapSet = 1;
constexpr uint32_t kPmapUnset = 2;
constexpr uint32_t kPmapGetPort = 3;

uint32_t NextXid() {
  static std::atomic<uint32_t> xid{0x70620000};
  return xid.fetch_add(1);
}

// Runs one PMAP v2 procedure on a `struct mapping` argument and returns its single uint result.
Result<uint32_t> PmapCall(uint32_t proc, uint32_t prog, uint32_t vers, uint16_t port) {
  OVL_ASSIGN_OR_RETURN(auto client, RpcClient::Connect("127.0.0.1", kPmapPort));
  xdr::Encoder args;
  args.U32(prog);
  args.U32(vers);
  args.U32(IPPROTO_TCP);
  args.U32(port);
  CallHeader h;
  h.xid = NextXid();
  h.prog = kPmapProgram;
  h.vers = kPmapVersion;
  h.proc = proc;
  OVL_ASSIGN_OR_RETURN(Reply reply, client->Call(h, args.bytes()));
  if (!reply.accepted || reply.accept_stat != AcceptStat::kSuccess) {
    return Status::Error(EPROTO, "rpcbind refused PMAP procedure " + std::to_string(proc));
  }
  xdr::Decoder d(reply.results);
  uint32_t result = 0;
  if (!d.U32(&result)) return Status::Error(EBADMSG, "short rpcbind result");
  return result;
}

std::string Describe(uint32_t prog, uint32_t vers) {
  return "program " + std::to_string(prog) + " version " + std::to_string(vers);
}

}  // namespace

Status RpcbindRegister(uint32_t prog, uint32_t vers, uint16_t port) {
  OVL_RETURN_IF_ERROR(RpcbindUnregister(prog, vers));
  OVL_ASSIGN_OR_RETURN(uint32_t ok, PmapCall(kPmapSet, prog, vers, port));
  if (!ok) return Status::Error(EPERM, "rpcbind refused to register " + Describe(prog, vers));
  return Status::Ok();
}

Status RpcbindUnregister(uint32_t prog, uint32_t vers) {
  // UNSET answers false when nothing was mapped, which is success for us.
  return PmapCall(kPmapUnset, prog, vers, 0).status();
}

Result<uint16_t> RpcbindGetPort(uint32_t prog, uint32_t vers) {
  OVL_ASSIGN_OR_RETURN(uint32_t port, PmapCall(kPmapGetPort, prog, vers, 0));
  if (port == 0 || port > 0xffff) {
    return Status::Error(ENOENT, "rpcbind has no TCP port for " + Describe(prog, vers));
  }
  return static_cast<uint16_t>(port);
}

}  // namespace ovl::rpc
