// Runs one case: fresh server layers from the scenario's fixture, the agents connected, every
// step executed in order (operations through the agents, faults through the server node), each
// event appended to the history. It judges nothing: the model reads the history afterwards.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "backend/node.h"
#include "ops/history_file.h"
#include "ops/sweep.h"
#include "plan/plan.h"
#include "scenario/scenario.h"

namespace ovl::runner {

// Seconds since the run started, for history timestamps.
class RunClock {
 public:
  double Now() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

struct CaseRun {
  enum class Status { kDone, kUnsupported, kUnresolved };
  Status status = Status::kDone;
  std::string reason;  // kUnsupported / kUnresolved: why
  uint64_t ops = 0;
  uint64_t bytes = 0;  // data read and written
  double seconds = 0;
};

struct CaseContext {
  const plan::Case* plan_case = nullptr;
  std::string case_id;  // in the history: the plan's id, with "#<round>" under --repeat
  const scenario::Scenario* scenario = nullptr;
  uint64_t seed = 0;
  backend::ServerNode* server = nullptr;
  // The case's logical clients ("A", "B") mapped to running agents.
  std::map<std::string, backend::AgentNode*> agents;
  // How the agents' handles carry the server's, for sweep steps (HandleFrameOf).
  ops::HandleFrame frame;
  std::string layers_dir;  // where the server's layers go
  bool keep = false;       // keep the layers after the case
  ops::HistoryWriter* history = nullptr;
  std::vector<ops::Event>* events = nullptr;  // this case's events, for the live judgement
  const RunClock* clock = nullptr;
};

// How the handles an agent holds carry the server's: bare over libnfs, a local file system's
// name_to_handle_at handle for local-syscalls, the Linux NFS client's wrapping for kernel-mount
// (NFSv3 handles, or NFSv4's up to 128 bytes when `nfs_version` is 4.x).
ops::HandleFrame HandleFrameOf(topology::Access access, const std::string& nfs_version);

// Runs the case. A sweep step (scenario::Step::kSweep) becomes one op per corruption of the
// handle its client holds (ops::SweepHandle, in ctx.frame), each recorded like any other; the
// ops are numbered in the order they are sent.
CaseRun RunCase(const CaseContext& ctx);

}  // namespace ovl::runner
