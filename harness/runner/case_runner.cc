#include "runner/case_runner.h"

namespace ovl::runner {
namespace {

using ops::Event;

nlohmann::json Reconnect(const backend::ServerNode& server) {
  nlohmann::json r = server.ConnectRequest();
  r["cmd"] = "reconnect";
  return r;
}

// Sends a control request; an {"ok":false} reply is an error carrying the agent's reason.
ovl::Status Control(backend::AgentNode& agent, const nlohmann::json& request) {
  auto reply = agent.Request(request);
  if (!reply.ok()) return reply.status();
  if (!reply->value("ok", false)) {
    return ovl::Status::Error(EPROTO, agent.name() + ": " + request.value("cmd", "?") + ": " +
                                          reply->value("error", reply->dump()));
  }
  return ovl::Status::Ok();
}

class Recorder {
 public:
  explicit Recorder(const CaseContext& ctx) : ctx_(ctx) {}

  void Append(Event::Type type, nlohmann::json info = nlohmann::json::object()) {
    Event e = Make(type);
    e.info = std::move(info);
    Record(std::move(e));
  }
  void Invoke(const ops::Op& op) {
    Event e = Make(Event::Type::kInvoke);
    e.op = op;
    Record(std::move(e));
  }
  void Complete(uint64_t seq, const ops::Result& r) {
    Event e = Make(Event::Type::kComplete);
    e.seq = seq;
    e.result = r;
    Record(std::move(e));
  }

 private:
  Event Make(Event::Type type) const {
    Event e;
    e.type = type;
    e.case_id = ctx_.plan_case->id;
    e.t = ctx_.clock->Now();
    return e;
  }
  void Record(Event e) {
    ctx_.history->Append(e);
    ctx_.events->push_back(std::move(e));
  }

  const CaseContext& ctx_;
};

ovl::Status ApplyFault(const CaseContext& ctx, topology::FaultKind kind, const std::string& client) {
  switch (kind) {
    case topology::FaultKind::kEvict:
      return ctx.server->Evict();
    case topology::FaultKind::kClientEvict: {
      auto it = ctx.agents.find(client);
      if (it == ctx.agents.end()) return ovl::Status::Error(EINVAL, "no client " + client);
      return it->second->EvictClientCaches();
    }
    case topology::FaultKind::kCrash:
    case topology::FaultKind::kReboot: {
      OVL_RETURN_IF_ERROR(kind == topology::FaultKind::kCrash ? ctx.server->Crash()
                                                              : ctx.server->Reboot());
      // The clients keep their handles and find the server again (a new port, a new mount).
      for (auto& [name, agent] : ctx.agents) OVL_RETURN_IF_ERROR(Control(*agent, Reconnect(*ctx.server)));
      return ovl::Status::Ok();
    }
  }
  return ovl::Status::Error(EINVAL, "unknown fault");
}

}  // namespace

CaseRun RunCase(const CaseContext& ctx) {
  const plan::Case& pc = *ctx.plan_case;
  const auto start = std::chrono::steady_clock::now();
  CaseRun run;
  Recorder rec(ctx);
  auto finish = [&](CaseRun::Status status, std::string reason) {
    run.status = status;
    run.reason = std::move(reason);
    run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    rec.Append(Event::Type::kEnd,
               {{"status", status == CaseRun::Status::kDone ? "done"
                           : status == CaseRun::Status::kUnsupported ? "unsupported"
                                                                    : "unresolved"},
                {"reason", run.reason}});
    (void)ctx.server->Teardown(ctx.keep);
    return run;
  };

  auto expansion = scenario::Expand(*ctx.scenario, pc.fault, ctx.seed);
  if (!expansion.ok()) {
    return finish(CaseRun::Status::kUnresolved, "scenario: " + expansion.status().ToString());
  }
  rec.Append(Event::Type::kCase, {{"scenario", pc.scenario},
                                  {"server", pc.server},
                                  {"variant", std::string(topology::NameOf(topology::kVariantNames, pc.variant))},
                                  {"fault", pc.fault ? std::string(topology::NameOf(topology::kFaultKindNames, *pc.fault)) : ""},
                                  {"access", std::string(topology::NameOf(topology::kAccessNames, pc.access))},
                                  {"seed", ctx.seed},
                                  {"fixture", ops::FixtureToJson(expansion->fixture)}});
  ovl::Status up = ctx.server->Setup(expansion->fixture, ctx.layers_dir);
  if (!up.ok()) {
    if (up.code() == kErrNotSupp) return finish(CaseRun::Status::kUnsupported, up.message());
    return finish(CaseRun::Status::kUnresolved, "server setup: " + up.ToString() + "\n" +
                                                    ctx.server->LogTail());
  }
  for (auto& [name, agent] : ctx.agents) {
    ovl::Status st = Control(*agent, ctx.server->ConnectRequest());
    if (!st.ok()) return finish(CaseRun::Status::kUnresolved, "connect: " + st.ToString());
  }

  for (const auto& step : expansion->steps) {
    if (step.type == scenario::Step::Type::kFault) {
      ovl::Status st = ApplyFault(ctx, step.fault, step.client);
      rec.Append(Event::Type::kFault, {{"kind", std::string(topology::NameOf(topology::kFaultKindNames, step.fault))},
                                       {"target", step.fault == topology::FaultKind::kClientEvict
                                                      ? step.client
                                                      : pc.server},
                                       {"ok", st.ok()},
                                       {"detail", st.ok() ? "" : st.ToString()},
                                       {"line", step.line}});
      if (!st.ok()) {
        return finish(CaseRun::Status::kUnresolved,
                      "fault " + std::string(topology::NameOf(topology::kFaultKindNames, step.fault)) + " (line " +
                          std::to_string(step.line) + "): " + st.ToString() + "\n" +
                          ctx.server->LogTail());
      }
      continue;
    }
    auto agent = ctx.agents.find(step.client);
    if (agent == ctx.agents.end()) {
      return finish(CaseRun::Status::kUnresolved, "no agent for client " + step.client);
    }
    rec.Invoke(step.op);
    auto reply = agent->second->Request({{"cmd", "op"}, {"op", step.op}});
    if (!reply.ok() || !reply->contains("result")) {
      return finish(CaseRun::Status::kUnresolved,
                    "agent " + agent->second->name() + " failed at line " +
                        std::to_string(step.line) + ": " +
                        (reply.ok() ? reply->dump() : reply.status().ToString()) + "\n" +
                        agent->second->LogTail());
    }
    ops::Result result;
    try {
      result = reply->at("result").get<ops::Result>();
    } catch (const nlohmann::json::exception& e) {
      return finish(CaseRun::Status::kUnresolved, std::string("bad result from agent: ") + e.what());
    }
    rec.Complete(step.op.seq, result);
    ++run.ops;
    run.bytes += result.data.size() + (step.op.kind == ops::Kind::kWrite ? step.op.data.size() : 0);
  }
  return finish(CaseRun::Status::kDone, "");
}

}  // namespace ovl::runner
