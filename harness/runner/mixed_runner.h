// Runs the mixed workload against one server: every client's operations in its own thread
// (paced so they span the planned duration), while a scheduler thread injects the plan's faults
// at their times. An operation cut off by a crash completes as "unknown"; its client waits for
// the server to be back, reconnects and goes on. Each event goes to the history; the model
// judges each client's subtree on its own (the clients never share names).
#pragma once

#include <string>
#include <vector>

#include "runner/case_runner.h"

namespace ovl::runner {

struct MixedContext {
  std::string case_id;  // "<server>/mixed"
  std::string server_name;
  topology::Variant variant = topology::Variant::kReference;
  uint64_t seed = 0;
  uint64_t ops = 0;  // over all clients
  std::chrono::milliseconds duration{0};
  int layers = 1;
  std::vector<plan::FaultEvent> faults;  // those targeting this server or its clients
  backend::ServerNode* server = nullptr;
  std::vector<backend::AgentNode*> agents;  // one per client, each with its own subtree
  std::vector<std::string> agent_clients;   // agents[i]'s topology client (client-evict targets)
  std::string layers_dir;
  bool keep = false;
  // How long a client keeps trying to reconnect after the last fault ended (or after its first
  // failed attempt, when no fault is near): a server not back by then makes the run UNRESOLVED.
  std::chrono::milliseconds reconnect_grace{10000};
  ops::HistoryWriter* history = nullptr;
  std::vector<ops::Event>* events = nullptr;  // for the live judgement; may be null
  const RunClock* clock = nullptr;
};

struct MixedRun {
  CaseRun run;
  uint64_t faults_injected = 0;
  uint64_t faults_not_reached = 0;  // scheduled after the workload ended
};

MixedRun RunMixed(const MixedContext& ctx);

}  // namespace ovl::runner
