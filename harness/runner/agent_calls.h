// The runner's side of the agent protocol (agent/protocol.h): each request's reply checked against
// the kind it must be, the agent's failures turned into Status.
#pragma once

#include <cerrno>
#include <string>
#include <utility>
#include <variant>

#include "agent/protocol.h"
#include "backend/node.h"
#include "base/status.h"
#include "ops/ops.h"

namespace ovl::runner {

namespace protocol = agent::protocol;

// Sends `request` and gives its reply, which must be an R: an agent's Failure is EPROTO carrying
// the agent's reason, a reply of another kind EPROTO too.
template <typename R>
ovl::Result<R> Ask(backend::AgentNode& node, const protocol::Request& request) {
  OVL_ASSIGN_OR_RETURN(protocol::Reply reply, node.Request(request));
  if (auto* r = std::get_if<R>(&reply)) return std::move(*r);
  const std::string what = node.name() + ": " + std::string(protocol::CmdOf(request)) + ": ";
  if (const auto* f = std::get_if<protocol::Failure>(&reply)) {
    return ovl::Status::Error(EPROTO, what + f->error);
  }
  return ovl::Status::Error(EPROTO, what + "unexpected reply " + protocol::EncodeReply(reply));
}

// Sends a control request (connect, reconnect, forget), which the agent must acknowledge.
ovl::Status Control(backend::AgentNode& agent, const protocol::Request& request);

// The reconnect request that finds `server` again after a restart (a new port or mount), through
// a kernel mount of `nfs_version` when it is not empty (backend::ForNfsVersion).
protocol::Reconnect ReconnectRequest(const backend::ServerNode& server,
                                     const std::string& nfs_version = "");

// Runs one operation. An error Status means the agent itself failed (died, garbled reply, a
// result for another op); a server-side failure is an ops::Result with outcome kError or
// kUnknown.
ovl::Result<ops::Result> ExecuteOp(backend::AgentNode& agent, const ops::Op& op);

}  // namespace ovl::runner
