#include "runner/agent_calls.h"

namespace ovl::runner {

ovl::Status Control(backend::AgentNode& agent, const protocol::Request& request) {
  return Ask<protocol::Ack>(agent, request).status();
}

protocol::Reconnect ReconnectRequest(const backend::ServerNode& server,
                                     const std::string& nfs_version) {
  return protocol::ReconnectTo(backend::ForNfsVersion(server.ConnectRequest(), nfs_version));
}

ovl::Result<ops::Result> ExecuteOp(backend::AgentNode& agent, const ops::Op& op) {
  OVL_ASSIGN_OR_RETURN(protocol::OpDone done, Ask<protocol::OpDone>(agent, protocol::RunOp{op}));
  if (done.seq != op.seq) {
    return ovl::Status::Error(EPROTO, agent.name() + " answered op " + std::to_string(op.seq) +
                                          " with the result of op " + std::to_string(done.seq));
  }
  return std::move(done.result);
}

}  // namespace ovl::runner
