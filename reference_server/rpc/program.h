// The contract between the ONC RPC transport (RFC 5531) and the programs it serves (NFS, MOUNT).
// The transport parses the call header and credentials and hands the raw argument bytes to the
// program; the program decodes them, runs the procedure and encodes the results.
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <string>
#include <vector>

#include "xdr/xdr.h"

namespace ovl::rpc {

inline constexpr uint32_t kAuthNone = 0;
inline constexpr uint32_t kAuthSys = 1;

enum class AcceptStat : uint32_t {
  kSuccess = 0,
  kProgUnavail = 1,
  kProgMismatch = 2,
  kProcUnavail = 3,
  kGarbageArgs = 4,
  kSystemErr = 5,
};

struct CallContext {
  uint32_t xid = 0;
  uint32_t prog = 0, vers = 0, proc = 0;
  uint32_t auth_flavor = kAuthNone;
  // AUTH_SYS credential (valid when auth_flavor == kAuthSys), before any squashing.
  uint32_t uid = 0, gid = 0;
  std::vector<uint32_t> gids;
  std::string machine;
  // The peer's IPv4 address in host byte order (the transport serves IPv4 only), and its port.
  uint32_t peer_ipv4 = 0;
  uint16_t peer_port = 0;
};

class Program {
 public:
  virtual ~Program() = default;
  virtual uint32_t number() const = 0;
  virtual uint32_t min_version() const = 0;
  virtual uint32_t max_version() const = 0;
  // Runs one call whose program and version are in range. `args` holds exactly the call's
  // argument bytes. On kSuccess, `results` holds the encoded results; on any other value,
  // `results` is ignored. Must return kGarbageArgs (never crash) on undecodable arguments.
  // Called concurrently from several threads.
  virtual AcceptStat Call(const CallContext& ctx, xdr::Decoder& args, xdr::Encoder& results) = 0;
};

}  // namespace ovl::rpc
