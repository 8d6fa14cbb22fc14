// RunLoad: the agent's load generator. It runs one load request (throughput/load_spec.h)
// through the agent's executor, the same code path the scenarios use, as fast as it can:
//
// 1. Setup, not timed: LOOKUPs of the client's directory and working-set files (held as handles,
//    as an NFS client holds them), CREATE of a fresh file (truncated) for fresh_file jobs, and
//    one WRITE of the first request for the other write jobs, so a copy-up happens before the
//    clock starts.
// 2. The timed part: operations in OpSequence order, each timed, until the duration is over or
//    max_ops were issued, whichever comes first.
//
// An operation cut off (outcome unknown: the server went away) counts as an error; the load then
// redials (every kRedialInterval, until the duration is over) and goes on with the same
// handles, as a hard-mounted client does. Errors of the server count and the load goes on.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "agent/executor.h"
#include "base/status.h"
#include "throughput/load_spec.h"
#include "throughput/stats.h"

namespace ovl::agent {

inline constexpr std::chrono::milliseconds kRedialInterval{5};

// Builds a new executor for the same access path: null while the server does not answer.
using Redial = std::function<Executor*()>;

// A load whose setup (step 1) is done. The agent can hold one between two requests, so that the
// runner starts the timed parts of several clients together, and times faults from there.
class PreparedLoad {
 public:
  virtual ~PreparedLoad() = default;
  // Step 2, the timed part; call once.
  virtual Result<throughput::LoadReport> Run() = 0;
};

// Step 1 of `request` on `executor`. An error when the setup fails (a working-set file is
// missing, the server refuses the first LOOKUP): the load cannot start. `redial` is called only
// after an operation was cut off; the executor it returns replaces `executor` for the rest of
// the load. `executor` must outlive the prepared load.
Result<std::unique_ptr<PreparedLoad>> PrepareLoad(throughput::LoadRequest request,
                                                  Executor* executor, Redial redial);

// PrepareLoad, then Run.
Result<throughput::LoadReport> RunLoad(const throughput::LoadRequest& request, Executor* executor,
                                       const Redial& redial);

}  // namespace ovl::agent
