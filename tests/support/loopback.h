// Loopback TCP helpers for fixtures: every server a test starts listens on 127.0.0.1 only.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include "base/fd.h"
#include "base/status.h"

namespace ovl::testsupport {

// `count` distinct TCP ports on 127.0.0.1 that were free a moment ago (bound to port 0 and
// released together), for servers that need their port numbers before they start.
Result<std::vector<uint16_t>> PickFreeLoopbackPorts(size_t count);
// True when a TCP connect to 127.0.0.1:port succeeds now.
bool LoopbackPortAccepts(uint16_t port);
// Polls LoopbackPortAccepts until it holds; ETIMEDOUT after `timeout`.
Status WaitForLoopbackPort(uint16_t port, std::chrono::milliseconds timeout);

// A TCP socket listening on 127.0.0.1:`port` that nobody serves: connects complete in the
// backlog, but no request is ever read or answered (a hung server). Closing `socket` ends it.
struct SilentListener {
  Fd socket;
  uint16_t port = 0;
};
// Listens on a free loopback port.
Result<SilentListener> ListenSilentlyOnLoopback();

}  // namespace ovl::testsupport
