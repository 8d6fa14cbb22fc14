// Registration with the local rpcbind (portmapper protocol v2, RFC 1833 sec 3), so that clients
// using default mount options can find our TCP port. Talks to 127.0.0.1:111 over TCP.
#pragma once

#include <cstdint>

#include "base/status.h"

namespace ovl::rpc {

inline constexpr uint32_t kPmapProgram = 100000;
inline constexpr uint32_t kPmapVersion = 2;
inline constexpr uint16_t kPmapPort = 111;

// Maps (prog, vers, TCP) to `port`. Any existing mapping of (prog, vers) is removed first, so a
// registration left behind by a crashed server does not block a restart.
Status RpcbindRegister(uint32_t prog, uint32_t vers, uint16_t port);

// Removes every mapping of (prog, vers). Succeeds when none existed.
Status RpcbindUnregister(uint32_t prog, uint32_t vers);

// The TCP port rpcbind holds for (prog, vers); ENOENT when it has none.
Result<uint16_t> RpcbindGetPort(uint32_t prog, uint32_t vers);

}  // namespace ovl::rpc
