// The runner's side of the agent protocol (harness/agent/agent.h): control requests and
// operations, with the agent's failures turned into Status.
#pragma once

#include <nlohmann/json.hpp>

#include "backend/node.h"
#include "base/status.h"
#include "ops/ops.h"

namespace ovl::runner {

// Sends a control request (connect, reconnect, forget); an {"ok":false} reply is an error
// carrying the agent's reason.
ovl::Status Control(backend::AgentNode& agent, const nlohmann::json& request);

// The "reconnect" request that finds `server` again after a restart (a new port or mount).
nlohmann::json ReconnectRequest(const backend::ServerNode& server);

// Runs one operation. An error Status means the agent itself failed (died, garbled reply);
// a server-side failure is an ops::Result with outcome kError or kUnknown.
ovl::Result<ops::Result> ExecuteOp(backend::AgentNode& agent, const ops::Op& op);

}  // namespace ovl::runner
