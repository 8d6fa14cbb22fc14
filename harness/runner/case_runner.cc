#include "runner/case_runner.h"

#include <thread>

#include "ops/fixture_json.h"
#include "runner/agent_calls.h"
#include "runner/case_kernel_log.h"
#include "runner/recorder.h"

namespace ovl::runner {
namespace {

using ops::Event;
using topology::FaultKind;

// The fault itself, on the server (or a client's caches); reconnecting is the caller's job.
ovl::Status InjectFault(const CaseContext& ctx, FaultKind kind, const std::string& client) {
  if (kind != FaultKind::kClientEvict) return backend::StrikeServer(*ctx.server, kind);
  auto it = ctx.agents.find(client);
  if (it == ctx.agents.end()) return ovl::Status::Error(EINVAL, "no client " + client);
  return it->second->EvictClientCaches();
}

// Injects a fault and records it (scenario::Step of type kFault).
ovl::Status RecordedFault(const CaseContext& ctx, Recorder& rec, const scenario::Step& step) {
  const double t = rec.BeginFault();
  ovl::Status st = InjectFault(ctx, step.fault, step.client);
  rec.EndFault(
      t, {{"kind", topology::NameString(topology::kFaultKindNames, step.fault)},
          {"target", step.fault == FaultKind::kClientEvict ? step.client : ctx.plan_case->server},
          {"ok", st.ok()},
          {"detail", st.ok() ? "" : st.ToString()},
          {"line", step.line}});
  return st;
}

// The handles each client's agent holds, as its results gave them: (client, variable) -> bytes.
using HeldHandles = std::map<std::pair<std::string, std::string>, std::string>;

// Mirrors agent::Executor::Execute: a successful op with `save` stores its handle (a readdir
// stores a listing position instead).
void Remember(const ops::Op& op, const ops::Result& r, HeldHandles* held) {
  if (r.outcome != ops::Result::Outcome::kOk || op.save.empty()) return;
  if (op.kind == ops::Kind::kReaddir) {
    held->erase({op.client, op.save});
  } else if (!r.handle.empty()) {
    (*held)[{op.client, op.save}] = r.handle;
  }
}

// The ops of a sweep step. When the client holds no such handle (the op that should have saved
// it failed) the step's op goes as written: the agent answers NOVAR, as the model expects.
ovl::Result<std::vector<ops::Op>> SweepOps(const scenario::Step& step, const HeldHandles& held,
                                           const ops::HandleFrame& frame) {
  auto it = held.find({step.client, step.op.target.var});
  if (it == held.end()) return std::vector<ops::Op>{step.op};
  OVL_ASSIGN_OR_RETURN(std::vector<ops::SweptHandle> swept,
                       ops::SweepHandle(it->second, frame, step.sweep_masks));
  std::vector<ops::Op> out;
  for (ops::SweptHandle& s : swept) {
    ops::Op op = step.op;
    op.target = ops::Target{};
    op.target.raw = std::move(s.bytes);
    op.target.sweep = std::move(s.point);
    op.target.sweep->of = step.op.target.var;
    out.push_back(std::move(op));
  }
  return out;
}

// The lower layers are read-only to the union: they must still hold the fixture, byte for byte.
// Checked at the end of a case, or before an offline edit of a lower layer (after it they hold
// what the harness made of them).
void CheckLowerUnchanged(const CaseContext& ctx, Recorder& rec, const ops::Fixture& fixture) {
  ovl::Status lower = ctx.server->VerifyLowerLayers(fixture);
  if (lower.code() == kErrNotSupp) return;
  rec.Append(Event::Type::kCheck, {{"what", "lower-unchanged"},
                                   {"ok", lower.ok()},
                                   {"detail", lower.ok() ? "" : lower.ToString()}});
}

// An offline edit (scenario::Step of type kOffline), recorded like a fault of kind "offline"
// that carries the edit (ops/offline.h), so the model applies it where the restart happened.
ovl::Status RecordedOffline(const CaseContext& ctx, Recorder& rec, const scenario::Step& step) {
  const double t = rec.BeginFault();
  ovl::Status st = ctx.server->Offline(step.offline);
  rec.EndFault(t, {{"kind", "offline"},
                   {"target", ctx.plan_case->server},
                   {"edit", ops::OfflineEditToJson(step.offline)},
                   {"ok", st.ok()},
                   {"detail", st.ok() ? "" : st.ToString()},
                   {"line", step.line}});
  return st;
}

// After a restart the clients keep their handles and find the server again.
ovl::Status ReconnectAll(const CaseContext& ctx) {
  for (auto& [name, agent] : ctx.agents) {
    OVL_RETURN_IF_ERROR(Control(*agent, ReconnectRequest(*ctx.server, ctx.plan_case->nfs_version)));
  }
  return ovl::Status::Ok();
}

}  // namespace

ops::HandleFrame HandleFrameOf(topology::Access access, const std::string& nfs_version) {
  switch (access) {
    case topology::Access::kLibnfs:
      return {ops::HandleFrame::Kind::kBare, ops::kNfs3MaxHandle};
    case topology::Access::kLocalSyscalls:
      return {ops::HandleFrame::Kind::kSyscall, ops::kMaxHandleSz};
    case topology::Access::kKernelMount:
      break;
  }
  return {ops::HandleFrame::Kind::kNfsClient,
          topology::IsNfs4(nfs_version) ? ops::kMaxHandleSz : ops::kNfs3MaxHandle};
}

CaseRun RunCase(const CaseContext& ctx) {
  const plan::Case& pc = *ctx.plan_case;
  const auto start = std::chrono::steady_clock::now();
  CaseRun run;
  Recorder rec(ctx.case_id, ctx.history, ctx.events, ctx.clock);
  CaseKernelLog kernel(*ctx.server, pc.server);
  auto finish = [&](CaseRun::Status status, std::string reason) {
    run.status = status;
    run.reason = std::move(reason);
    run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    (void)ctx.server->Teardown(ctx.keep);
    kernel.Record(rec);
    rec.Append(Event::Type::kEnd,
               {{"status", status == CaseRun::Status::kDone          ? "done"
                           : status == CaseRun::Status::kUnsupported ? "unsupported"
                                                                     : "unresolved"},
                {"reason", run.reason}});
    if (ovl::Status h = rec.status(); !h.ok() && status == CaseRun::Status::kDone) {
      run.status = CaseRun::Status::kUnresolved;
      run.reason = "history: " + h.ToString();
    }
    return run;
  };
  auto unresolved = [&](const std::string& what, const ovl::Status& st, const std::string& tail) {
    return finish(CaseRun::Status::kUnresolved, what + ": " + st.ToString() + "\n" + tail);
  };

  auto expansion = scenario::Expand(*ctx.scenario, pc.fault, ctx.seed);
  if (!expansion.ok()) return unresolved("scenario", expansion.status(), "");
  rec.Append(Event::Type::kCase,
             {{"scenario", pc.scenario},
              {"server", pc.server},
              {"variant", topology::NameString(topology::kVariantNames, pc.variant)},
              {"fault", pc.fault ? topology::NameString(topology::kFaultKindNames, *pc.fault) : ""},
              {"access", topology::NameString(topology::kAccessNames, pc.access)},
              {"seed", ctx.seed},
              {"fixture", ops::FixtureToJson(expansion->fixture)}});
  ovl::Status up = ctx.server->Setup(expansion->fixture, ctx.layers_dir);
  if (up.code() == kErrNotSupp) return finish(CaseRun::Status::kUnsupported, up.message());
  if (!up.ok()) return unresolved("server setup", up, ctx.server->LogTail());
  for (auto& [name, agent] : ctx.agents) {
    ovl::Status st =
        Control(*agent, backend::ForNfsVersion(ctx.server->ConnectRequest(), pc.nfs_version));
    if (!st.ok()) return unresolved("connect", st, agent->LogTail());
  }

  const scenario::Step* pending = nullptr;  // a fault to strike while the next op is in flight
  HeldHandles held;
  uint64_t seq = 0;           // of the last op sent
  bool lower_edited = false;  // an offline edit changed a lower layer
  for (const auto& step : expansion->steps) {
    if (ovl::Status h = rec.status(); !h.ok()) return unresolved("history", h, "");
    if (step.type == scenario::Step::Type::kOffline) {
      if (!lower_edited && ops::OfflineChangesLower(step.offline.kind)) {
        CheckLowerUnchanged(ctx, rec, expansion->fixture);
        lower_edited = true;
      }
      ovl::Status st = RecordedOffline(ctx, rec, step);
      if (st.code() == kErrNotSupp) return finish(CaseRun::Status::kUnsupported, st.message());
      if (st.ok()) st = ReconnectAll(ctx);
      if (!st.ok()) {
        return unresolved("offline " + ops::DescribeOfflineEdit(step.offline) + " (line " +
                              std::to_string(step.line) + ")",
                          st, ctx.server->LogTail());
      }
      continue;
    }
    if (step.type == scenario::Step::Type::kFault) {
      if (step.during_next_ms > 0) {
        pending = &step;
        continue;
      }
      ovl::Status st = RecordedFault(ctx, rec, step);
      if (st.ok() && topology::RestartsServer(step.fault)) st = ReconnectAll(ctx);
      if (!st.ok()) {
        return unresolved("fault " + topology::NameString(topology::kFaultKindNames, step.fault) +
                              " (line " + std::to_string(step.line) + ")",
                          st, ctx.server->LogTail());
      }
      continue;
    }
    auto agent = ctx.agents.find(step.client);
    if (agent == ctx.agents.end()) {
      return finish(CaseRun::Status::kUnresolved, "no agent for client " + step.client);
    }
    std::vector<ops::Op> sent{step.op};  // a sweep step sends many
    if (step.type == scenario::Step::Type::kSweep) {
      auto sweep = SweepOps(step, held, ctx.frame);
      if (!sweep.ok()) {
        return unresolved("sweep at line " + std::to_string(step.line), sweep.status(), "");
      }
      sent = std::move(sweep).value();
    }
    for (ops::Op& op : sent) {
      op.seq = ++seq;
      rec.Invoke(op);
      ovl::Status fault_status;
      std::thread striker;
      if (pending) {
        striker = std::thread([&, f = pending] {
          std::this_thread::sleep_for(std::chrono::milliseconds(f->during_next_ms));
          fault_status = RecordedFault(ctx, rec, *f);
        });
      }
      auto result = ExecuteOp(*agent->second, op);
      if (striker.joinable()) striker.join();
      if (result.ok()) {
        rec.Complete(op.seq, *result);
        Remember(op, *result, &held);
      }
      if (pending) {
        if (fault_status.ok() && topology::RestartsServer(pending->fault)) {
          fault_status = ReconnectAll(ctx);
        }
        if (!fault_status.ok()) {
          return unresolved("fault " +
                                topology::NameString(topology::kFaultKindNames, pending->fault) +
                                " (line " + std::to_string(pending->line) + ")",
                            fault_status, ctx.server->LogTail());
        }
        pending = nullptr;
      }
      if (!result.ok()) {
        return unresolved(
            "agent " + agent->second->name() + " at line " + std::to_string(step.line),
            result.status(), agent->second->LogTail());
      }
      ++run.ops;
      run.bytes += result->data.size() + (op.kind == ops::Kind::kWrite ? op.data.size() : 0);
    }
  }
  if (!lower_edited) CheckLowerUnchanged(ctx, rec, expansion->fixture);
  return finish(CaseRun::Status::kDone, "");
}

}  // namespace ovl::runner
