// rpcbind, the portmapper on 127.0.0.1:111 that NFS servers register their programs with
// (ganesha.nfsd will not start without it; ovlnfsd registers with it under --rpcbind).
#pragma once

#include <cstdint>

#include "base/status.h"

namespace ovl::testsupport {

inline constexpr uint16_t kRpcbindPort = 111;

// Starts rpcbind (`rpcbind -w`) unless one answers on 127.0.0.1:111 and on its unix socket,
// and waits until it does (backend::EnsureRpcbind). It stays up afterwards: it is a system
// service other servers register with, not a per-test child. ENOENT when rpcbind is not
// installed; EADDRINUSE when the port answers but the socket does not.
Status EnsureRpcbind();

}  // namespace ovl::testsupport
