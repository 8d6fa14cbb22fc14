#include "runner/mixed_phase.h"

#include <algorithm>
#include <iostream>

#include "runner/analyze.h"
#include "runner/mixed_runner.h"
#include "scenario/mixed.h"

namespace ovl::runner {
namespace {

// The servers the mixed workload runs against: those its faults target, or every server when
// it has no faults.
std::vector<std::string> MixedServers(const plan::Plan& plan) {
  std::vector<std::string> out;
  for (const auto& f : plan.mixed.schedule) {
    for (const auto& s : plan.servers) {
      if (s.name == f.target && std::find(out.begin(), out.end(), s.name) == out.end()) {
        out.push_back(s.name);
      }
    }
  }
  if (out.empty()) {
    for (const auto& s : plan.servers) out.push_back(s.name);
  }
  return out;
}

// The mixed workload's client instances on `server`: the planned mixed clients that reach it,
// or, when none does (a kernel-overlay server's implicit client), every instance that does.
std::vector<std::string> MixedClients(const plan::Plan& plan, const std::string& server) {
  std::vector<std::string> planned, reaching;
  for (const auto& ci : plan.clients) {
    if (std::find(ci.servers.begin(), ci.servers.end(), server) == ci.servers.end()) continue;
    reaching.push_back(ci.name);
    if (std::find(plan.mixed.clients.begin(), plan.mixed.clients.end(), ci.name) !=
        plan.mixed.clients.end()) {
      planned.push_back(ci.name);
    }
  }
  return planned.empty() ? reaching : planned;
}

}  // namespace

std::vector<plan::FaultEvent> MixedFaults(const plan::Plan& plan, const std::string& server) {
  std::vector<std::string> clients;  // topology clients of the server's mixed instances
  for (const std::string& instance : MixedClients(plan, server)) {
    for (const auto& ci : plan.clients) {
      if (ci.name == instance) clients.push_back(ci.client);
    }
  }
  std::vector<plan::FaultEvent> out;
  for (const auto& f : plan.mixed.schedule) {
    const bool mine = f.kind == topology::FaultKind::kClientEvict
                          ? std::find(clients.begin(), clients.end(), f.target) != clients.end()
                          : f.target == server;
    if (mine) out.push_back(f);
  }
  return out;
}

namespace {

// Runs the workload on one server; the case is left for the judgement when it ran to its end.
CaseReport RunOnServer(const MixedPhaseContext& ctx, const plan::PlannedServer& ps,
                       MixedPhaseResult* out) {
  const plan::Plan& plan = *ctx.plan;
  CaseReport r;
  r.id = ps.name + "/mixed";
  r.server = ps.name;
  r.scenario = scenario::kMixedScenario;
  r.fault = "random";
  r.seed = plan.seed;
  r.variant = topology::NameString(topology::kVariantNames, ps.variant);
  r.expect = topology::NameString(topology::kExpectNames, ps.expect);
  auto server = ctx.nodes->servers.find(ps.name);
  std::string unsupported = server == ctx.nodes->servers.end()
                                ? "no backend for this server in this build"
                                : server->second->Unsupported();
  std::vector<backend::AgentNode*> agents;
  std::vector<std::string> agent_clients;
  for (const auto& c : MixedClients(plan, ps.name)) {
    auto a = ctx.nodes->agents.find(c);
    if (a == ctx.nodes->agents.end()) continue;
    agents.push_back(a->second.get());
    for (const auto& ci : plan.clients) {
      if (ci.name == c) agent_clients.push_back(ci.client);
    }
  }
  if (unsupported.empty() && agents.empty()) unsupported = "no client reaches it";
  // The mixed workload creates, writes and removes: it needs an upper layer.
  if (unsupported.empty() && !ps.spec.has_upper()) {
    unsupported =
        "the mixed workload changes files; this server is a lower-only, read-only "
        "export (filesystems.upper: none)";
  }
  if (ctx.tty) std::cout << "\r\033[K[mixed] " << r.id << std::flush;
  if (!unsupported.empty()) {
    r.verdict = Verdict::kUnsupported;
    r.explanation = unsupported;
    return r;
  }
  r.access = std::string(
      topology::NameOf(topology::kAccessNames, plan.clients.empty() ? topology::Access::kLibnfs
                                                                    : plan.clients.front().access));
  r.kernel = ctx.nodes->KernelOf(ps);
  MixedContext mc;
  mc.case_id = r.id;
  mc.server_name = ps.name;
  mc.variant = ps.variant;
  mc.seed = plan.seed;
  mc.ops = plan.mixed.ops;
  mc.duration = plan.mixed.duration;
  mc.layers = static_cast<int>(ps.spec.layers);
  mc.faults = MixedFaults(plan, ps.name);
  mc.server = server->second.get();
  mc.agents = agents;
  mc.agent_clients = agent_clients;
  mc.layers_dir = ctx.run_dir + "/servers/" + ps.name + "/mixed";
  mc.keep = ctx.keep;
  std::vector<ops::Event> events;  // for the live judgement
  mc.history = ctx.history;
  mc.events = &events;
  mc.clock = ctx.clock;
  MixedRun mr = RunMixed(mc);
  r.seconds = mr.run.seconds;
  r.ops = mr.run.ops;
  out->phases.push_back({"mixed:" + ps.name, mr.run.ops, mr.run.bytes, mr.run.seconds});
  if (mr.run.status != CaseRun::Status::kDone) {
    r.verdict = mr.run.status == CaseRun::Status::kUnsupported ? Verdict::kUnsupported
                                                               : Verdict::kUnresolved;
    r.explanation = mr.run.reason;
    return r;
  }
  r.note = std::to_string(mr.faults_injected) + " faults injected, " +
           std::to_string(mr.faults_not_reached) + " after the end";
  r.log_tail = server->second->LogTail();
  JudgeCaseEvents(events, *ctx.baselines, &r);
  return r;
}

}  // namespace

MixedPhaseResult RunMixedPhase(const MixedPhaseContext& ctx) {
  MixedPhaseResult out;
  if (!ctx.plan->mixed.enabled) return out;
  for (const auto& name : MixedServers(*ctx.plan)) {
    if (*ctx.interrupted || !ctx.history->ok()) break;
    CaseReport r = RunOnServer(ctx, *ctx.plan->FindServer(name), &out);
    PrintCaseLine(r, ctx.tty, std::cout);
    out.cases.push_back(std::move(r));
  }
  if (ctx.tty) std::cout << "\r\033[K";
  return out;
}

}  // namespace ovl::runner
