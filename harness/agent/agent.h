// Agent: the request loop of harness-agent, the client side of the harness. The runner starts
// harness-agent as a child and talks to it over stdin/stdout in the protocol of agent/protocol.h
// (one JSON object per line; every request line gets exactly one reply line, in order).
//
// What the agent does with each request:
//   connect    dials (libnfs) or opens the root (syscalls); starts a new session: drops every
//              held handle variable and a held load.
//   reconnect  dials again with the last connect's fields, overridden by those given (a server
//              back on a new port), keeps the held handle variables, drops a held load.
//   op         runs the operation; before any successful connect, or after a failed reconnect,
//              its outcome is "unknown".
//   load       runs a throughput load (agent/load.h) on the connection: as many operations as it
//              can until duration_ms or the job's max_ops, each timed; after a fault it redials
//              the last connect's fields and goes on. The load keeps its own handles: the held
//              handle variables are not touched. With "engine":"fio" (a data job on a syscalls
//              connection only) fio runs it instead (agent/fio_load.h). With "hold" it is set
//              up and held (another load drops the one held) until
//   start      runs the held load's timed part.
//   forget     drops every held handle variable.
//   quit       answers, then the agent exits 0 (as it does at end of input).
// A load whose setup failed (a working-set file missing) is answered with a Failure.
//
// A malformed connect or reconnect changes nothing. One that fails to dial (server down, root
// missing) leaves no connection but remembers its fields, so a later plain
// {"cmd":"reconnect"} retries them.
#pragma once

#include <chrono>
#include <cstddef>
#include <istream>
#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include "agent/executor.h"
#include "agent/load.h"
#include "agent/protocol.h"

namespace ovl::agent {

// The longest request line read; a longer one is answered with an error and skipped.
inline constexpr size_t kMaxLineBytes = 64 * 1024 * 1024;

class Agent {
 public:
  // The reply line (no newline) to one request line. Sets *quit on "quit". Never throws.
  std::string Handle(const std::string& line, bool* quit);

  // Answers requests from `in` on `out`, one flushed line each, until "quit" or end of input.
  void Serve(std::istream& in, std::ostream& out);

  // The held handle variables (for tests).
  const VarTable& vars() const { return vars_; }

 private:
  // One per request type: does it and gives the reply.
  protocol::Reply Run(const protocol::Connect& request);
  protocol::Reply Run(const protocol::Reconnect& request);
  protocol::Reply Run(const protocol::RunOp& request);
  protocol::Reply Run(const protocol::Load& request);
  protocol::Reply Run(const protocol::Start& request);
  protocol::Reply Run(const protocol::Forget& request);
  protocol::Reply Run(const protocol::Quit& request);
  // Runs `load`'s timed part: its report, request_seconds counted from `since`.
  protocol::Reply RunPrepared(PreparedLoad& load, std::chrono::steady_clock::time_point since);
  // Adopts `config` as config_ and replaces the executor with one built from it, left empty
  // when that fails.
  protocol::Reply Dial(protocol::Connect config);

  std::unique_ptr<Executor> executor_;
  std::unique_ptr<PreparedLoad> held_;       // set up by a "load" with "hold", run by "start"
  std::optional<protocol::Connect> config_;  // the connect in force; none before any connect
  VarTable vars_;
  OpenFiles open_files_;  // kOpen's files; kept across reconnects like vars_
};

}  // namespace ovl::agent
