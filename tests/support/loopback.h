// Loopback TCP helpers for fixtures: every server a test starts listens on 127.0.0.1 only.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include "backend/loopback.h"
#include "base/fd.h"
#include "base/status.h"

namespace ovl::testsupport {

// The local backend's: see backend/loopback.h.
using backend::LoopbackPortAccepts;
using backend::PickFreeLoopbackPorts;
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
