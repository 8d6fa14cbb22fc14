#include "runner/agent_calls.h"

namespace ovl::runner {

ovl::Status Control(backend::AgentNode& agent, const nlohmann::json& request) {
  auto reply = agent.Request(request);
  if (!reply.ok()) return reply.status();
  if (!reply->value("ok", false)) {
    return ovl::Status::Error(EPROTO, agent.name() + ": " + request.value("cmd", "?") + ": " +
                                          reply->value("error", reply->dump()));
  }
  return ovl::Status::Ok();
}

nlohmann::json ReconnectRequest(const backend::ServerNode& server) {
  nlohmann::json r = server.ConnectRequest();
  r["cmd"] = "reconnect";
  return r;
}

ovl::Result<ops::Result> ExecuteOp(backend::AgentNode& agent, const ops::Op& op) {
  auto reply = agent.Request({{"cmd", "op"}, {"op", op}});
  if (!reply.ok()) return reply.status();
  if (!reply->contains("result")) {
    return ovl::Status::Error(
        EPROTO, agent.name() + " refused op " + std::to_string(op.seq) + ": " + reply->dump());
  }
  try {
    return reply->at("result").get<ops::Result>();
  } catch (const nlohmann::json::exception& e) {
    return ovl::Status::Error(EPROTO, agent.name() + " sent a bad result: " + e.what());
  }
}

}  // namespace ovl::runner
