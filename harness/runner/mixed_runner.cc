#include "runner/mixed_runner.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "ops/fixture_json.h"
#include "runner/agent_calls.h"
#include "runner/case_kernel_log.h"
#include "runner/recorder.h"
#include "scenario/mixed.h"

namespace ovl::runner {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr milliseconds kRecoveryWait{60000};

// What the client threads and the fault scheduler share.
struct Shared {
  std::mutex mu;
  std::condition_variable cv;
  uint64_t restarts = 0;               // server restarts completed (crash or reboot)
  bool faulting = false;               // a fault is being applied right now
  Clock::time_point last_fault_end{};  // when the latest fault was over
  std::string failure;                 // first infrastructure failure: the run is UNRESOLVED
  std::atomic<uint64_t> completed{0};
  std::atomic<uint64_t> bytes{0};
  std::atomic<bool> done{false};
};

// Reconnects `agent` after a restart. Faults can fall a fraction of a second apart, so the next
// one may strike during the connect: a failed attempt waits for any fault under way to be over
// and tries again, until ctx.reconnect_grace after the later of the last fault's end and the
// first failure. `connected_at` becomes the restart count the connection was made after.
ovl::Status ReconnectUntilSettled(const MixedContext& ctx, backend::AgentNode& agent, Shared& sh,
                                  uint64_t& connected_at) {
  constexpr milliseconds kRetryPause{100};
  const Clock::time_point first_try = Clock::now();
  ovl::Status st = ovl::Status::Error(ECANCELED, "the run stopped before the reconnect");
  for (;;) {
    protocol::Reconnect request;
    {
      std::unique_lock<std::mutex> l(sh.mu);
      // The server's address (a new port after a restart) is read while no fault changes it.
      if (!sh.cv.wait_for(l, kRecoveryWait, [&] { return !sh.faulting || !sh.failure.empty(); }) ||
          !sh.failure.empty()) {
        return st;
      }
      request = ReconnectRequest(*ctx.server);
      connected_at = sh.restarts;
    }
    st = Control(agent, request);
    if (st.ok()) return st;
    std::unique_lock<std::mutex> l(sh.mu);
    sh.cv.wait_for(l, kRetryPause);  // woken early when a fault ends
    if (Clock::now() > std::max(first_try, sh.last_fault_end) + ctx.reconnect_grace) return st;
  }
}

void ClientLoop(const MixedContext& ctx, backend::AgentNode& agent, const std::vector<ops::Op>& ops,
                Recorder& rec, Shared& sh, Clock::time_point start) {
  auto fail = [&](const std::string& why) {
    std::lock_guard<std::mutex> g(sh.mu);
    if (sh.failure.empty()) sh.failure = agent.name() + ": " + why + "\n" + agent.LogTail();
    sh.cv.notify_all();
  };
  uint64_t connected_at = 0;  // restarts completed when this client last (re)connected
  for (size_t i = 0; i < ops.size(); ++i) {
    {
      std::lock_guard<std::mutex> g(sh.mu);
      if (!sh.failure.empty()) return;
    }
    // Pace the operations over the duration, so faults land among them.
    auto due = start + ctx.duration * i / ops.size();
    if (Clock::now() < due) std::this_thread::sleep_until(due);
    rec.Invoke(ops[i]);
    auto result = ExecuteOp(agent, ops[i]);
    if (!result.ok()) return fail(result.status().ToString());
    rec.Complete(ops[i].seq, *result);
    if (ovl::Status h = rec.status(); !h.ok()) return fail("history: " + h.ToString());
    sh.completed.fetch_add(1);
    sh.bytes.fetch_add(result->data.size() + ops[i].data.size());
    if (result->outcome != ops::Result::Outcome::kUnknown) continue;
    // Cut off: the server went away (perhaps while this client was idle). Wait until a restart
    // since the last connect is complete, then find the server again.
    std::unique_lock<std::mutex> l(sh.mu);
    if (!sh.cv.wait_for(l, kRecoveryWait, [&] {
          return (sh.restarts > connected_at && !sh.faulting) || !sh.failure.empty();
        })) {
      l.unlock();
      return fail("operation " + std::to_string(ops[i].seq) +
                  " got no answer and no restart followed: " + result->error);
    }
    if (!sh.failure.empty()) return;
    l.unlock();
    ovl::Status st = ReconnectUntilSettled(ctx, agent, sh, connected_at);
    if (!st.ok()) return fail("reconnect: " + st.ToString());
  }
}

}  // namespace

MixedRun RunMixed(const MixedContext& ctx) {
  MixedRun out;
  const auto t0 = Clock::now();
  Recorder rec(ctx.case_id, ctx.history, ctx.events, ctx.clock);
  CaseKernelLog kernel(*ctx.server, ctx.server_name);
  auto finish = [&](CaseRun::Status status, std::string reason) {
    out.run.status = status;
    out.run.reason = std::move(reason);
    out.run.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    (void)ctx.server->Teardown(ctx.keep);
    kernel.Record(rec);
    rec.Append(ops::Event::Type::kEnd,
               {{"status", status == CaseRun::Status::kDone ? "done" : "unresolved"},
                {"reason", out.run.reason},
                {"faults_injected", out.faults_injected},
                {"faults_not_reached", out.faults_not_reached}});
    if (ovl::Status h = rec.status(); !h.ok() && status == CaseRun::Status::kDone) {
      out.run.status = CaseRun::Status::kUnresolved;
      out.run.reason = "history: " + h.ToString();
    }
    return out;
  };

  std::vector<std::string> names;
  for (auto* a : ctx.agents) names.push_back(a->name());
  scenario::MixedOptions mo;
  mo.seed = ctx.seed;
  mo.clients = names;
  mo.ops = ctx.ops;
  mo.layers = ctx.layers;
  auto workload = scenario::MakeMixedWorkload(mo);
  if (!workload.ok()) return finish(CaseRun::Status::kUnresolved, workload.status().ToString());
  rec.Append(ops::Event::Type::kCase,
             {{"scenario", scenario::kMixedScenario},
              {"server", ctx.server_name},
              {"variant", topology::NameString(topology::kVariantNames, ctx.variant)},
              {"fault", "mixed"},
              {"seed", ctx.seed},
              {"disjoint_clients", true},
              {"fixture", ops::FixtureToJson(workload->fixture)}});
  ovl::Status up = ctx.server->Setup(workload->fixture, ctx.layers_dir);
  if (!up.ok()) {
    if (up.code() == kErrNotSupp) {
      out.run.status = CaseRun::Status::kUnsupported;
      return finish(CaseRun::Status::kUnsupported, up.message());
    }
    return finish(CaseRun::Status::kUnresolved, "server setup: " + up.ToString());
  }
  for (auto* a : ctx.agents) {
    ovl::Status st = Control(*a, ctx.server->ConnectRequest());
    if (!st.ok()) return finish(CaseRun::Status::kUnresolved, "connect: " + st.ToString());
  }

  Shared sh;
  // An operation in flight across a restart waits for the server and the client's reconnect
  // back-off: its reply bound counts from the end of the latest fault.
  for (auto* a : ctx.agents) {
    a->WaitThroughOutages([&sh] {
      std::lock_guard<std::mutex> g(sh.mu);
      return sh.faulting ? Clock::now() : sh.last_fault_end;
    });
  }
  struct StopWaiting {
    const std::vector<backend::AgentNode*>& agents;
    ~StopWaiting() {
      for (auto* a : agents) a->WaitThroughOutages(nullptr);
    }
  } stop_waiting{ctx.agents};
  const auto start = Clock::now();
  std::vector<std::thread> clients;
  for (size_t i = 0; i < ctx.agents.size(); ++i) {
    clients.emplace_back(ClientLoop, std::cref(ctx), std::ref(*ctx.agents[i]),
                         std::cref(workload->ops[i]), std::ref(rec), std::ref(sh), start);
  }
  std::thread scheduler([&] {
    for (const auto& f : ctx.faults) {
      // Wait for the fault's moment: a time offset, or a number of completed operations.
      while (!sh.done &&
             (f.at_step ? sh.completed.load() < f.step : Clock::now() - start < f.time)) {
        std::this_thread::sleep_for(milliseconds(2));
      }
      if (sh.done) {
        ++out.faults_not_reached;
        continue;
      }
      {
        std::lock_guard<std::mutex> g(sh.mu);
        sh.faulting = true;
      }
      const double t = rec.BeginFault();
      ovl::Status st;
      if (f.kind != topology::FaultKind::kClientEvict) {
        st = backend::StrikeServer(*ctx.server, f.kind);
      } else {
        for (size_t i = 0; i < ctx.agents.size() && i < ctx.agent_clients.size(); ++i) {
          if (ctx.agent_clients[i] == f.target) st = ctx.agents[i]->EvictClientCaches();
        }
      }
      rec.EndFault(t, {{"kind", topology::NameString(topology::kFaultKindNames, f.kind)},
                       {"target", f.target},
                       {"ok", st.ok()},
                       {"detail", st.ok() ? "" : st.ToString()},
                       {"origin", f.origin}});
      ++out.faults_injected;
      std::lock_guard<std::mutex> g(sh.mu);
      sh.faulting = false;
      sh.last_fault_end = Clock::now();
      if (topology::RestartsServer(f.kind)) ++sh.restarts;
      if (!st.ok() && sh.failure.empty()) {
        sh.failure = "fault " + topology::NameString(topology::kFaultKindNames, f.kind) + ": " +
                     st.ToString() + "\n" + ctx.server->LogTail();
      }
      sh.cv.notify_all();
    }
  });
  for (auto& t : clients) t.join();
  sh.done = true;
  scheduler.join();
  out.run.ops = sh.completed.load();
  out.run.bytes = sh.bytes.load();
  if (!sh.failure.empty()) return finish(CaseRun::Status::kUnresolved, sh.failure);
  return finish(CaseRun::Status::kDone, "");
}

}  // namespace ovl::runner
