// Loopback TCP helpers for local servers: every server the local backend starts listens on
// 127.0.0.1 only. And one for the unix sockets local daemons register through (rpcbind's).
#pragma once

#include <netinet/in.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace ovl::backend {

// 127.0.0.1:`port` as a socket address.
sockaddr_in LoopbackAddress(uint16_t port);
// `count` distinct TCP ports on 127.0.0.1 that were free a moment ago (bound to port 0 and
// released together), for servers that need their port numbers before they start.
Result<std::vector<uint16_t>> PickFreeLoopbackPorts(size_t count);
// True when a TCP connect to 127.0.0.1:port succeeds now.
bool LoopbackPortAccepts(uint16_t port);
// True when a connect to the unix stream socket at `path` succeeds now: false for a missing
// path, a file that is no socket, and a socket nobody listens on (its daemon is gone).
bool UnixSocketAccepts(const std::string& path);

}  // namespace ovl::backend
