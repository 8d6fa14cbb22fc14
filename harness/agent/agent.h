// Agent: the request loop of harness-agent, the client side of the harness. The runner starts
// harness-agent as a child and talks to it over stdin/stdout, one JSON object per line; every
// request line gets exactly one response line, in order.
//
// Requests:
//   {"cmd":"connect","mode":"libnfs","host":"127.0.0.1","nfs_port":N,"mount_port":N,
//    "export":"/export","uid":0,"gid":0,"timeout_ms":10000}
//       Raw NFSv3 through libnfs. nfs_port is required; the rest default to the values shown
//       (mount_port to nfs_port). timeout_ms bounds every RPC.
//   {"cmd":"connect","mode":"syscalls","root":"/mnt/point"}
//       Syscalls on a local directory (kernel overlayfs, or a kernel NFS mount in a VM).
//     A connect starts a new session: it drops every held handle variable.
//   {"cmd":"op","op":{...}}
//       Runs one operation (ops::Op in its JSON form, see ops/ops.h).
//   {"cmd":"reconnect", <any connect field but mode>}
//       After a server restart or a remount: dials again (libnfs) or reopens the root
//       (syscalls) with the last connect's fields, overridden by those given here (a server
//       back on a new port), and keeps the held handle variables.
//   {"cmd":"load","seed":N,"duration_ms":N,"timeline_ms":N,"ok_runs":false,"job":{...}}
//       Runs a throughput load (throughput/load_spec.h; agent/load.h) on the connection: as
//       many operations as it can until duration_ms or the job's max_ops, each timed; after a
//       fault it redials the last connect's fields and goes on. The load keeps its own handles:
//       the held handle variables are not touched. With "engine":"fio" (a data job on a
//       syscalls connection only) fio runs it instead (agent/fio_load.h). With "hold":true
//       the agent sets the load up, answers {"ok":true,"ready":true} and holds it;
//   {"cmd":"start"}
//       then runs the held load's timed part and answers as to a load. A connect, a reconnect
//       or another load drops a held load.
//   {"cmd":"forget"}   drops every held handle variable.
//   {"cmd":"quit"}     answers, then the agent exits 0 (as it does at end of input).
//
// Responses:
//   {"ok":true} or {"ok":false,"error":"..."} to connect, reconnect, forget, quit and to any
//   malformed request (not JSON, not an object, unknown cmd or field, bad field type, an op
//   that does not parse; "seq" is added when the malformed op had one);
//   {"ok":true,"load":{...}} to a load that ran: throughput::LoadReport's JSON (stats.h); a
//   load whose setup failed (a working-set file missing) is {"ok":false,"error":"..."};
//   {"seq":N,"result":{...}} to an op that parsed: ops::ResultToJson with data included. An op
//   before any successful connect, or after a failed reconnect, is outcome "unknown".
//
// A malformed connect or reconnect changes nothing. One that fails to dial (server down, root
// missing) leaves no connection but remembers its fields, so a later plain
// {"cmd":"reconnect"} retries them.
#pragma once

#include <chrono>
#include <cstddef>
#include <istream>
#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

#include "agent/executor.h"
#include "agent/load.h"

namespace ovl::agent {

// The longest request line read; a longer one is answered with an error and skipped.
inline constexpr size_t kMaxLineBytes = 64 * 1024 * 1024;

class Agent {
 public:
  // The response (one JSON object, no newline) to one request line. Sets *quit on "quit".
  // Never throws.
  std::string Handle(const std::string& line, bool* quit);

  // Answers requests from `in` on `out`, one flushed line each, until "quit" or end of input.
  void Serve(std::istream& in, std::ostream& out);

  // The held handle variables (for tests).
  const VarTable& vars() const { return vars_; }

 private:
  nlohmann::json HandleRequest(const nlohmann::json& request, bool* quit);
  nlohmann::json Connect(const nlohmann::json& request);
  nlohmann::json Reconnect(const nlohmann::json& request);
  nlohmann::json RunOp(const nlohmann::json& request);
  nlohmann::json Load(const nlohmann::json& request);
  nlohmann::json Start(const nlohmann::json& request);
  // Runs `load`'s timed part: its report, request_seconds counted from `since`.
  nlohmann::json RunPrepared(PreparedLoad& load, std::chrono::steady_clock::time_point since);
  // Validates `config` (the connect fields); if valid, adopts it as config_ and replaces the
  // executor with one built from it, left empty when that fails.
  nlohmann::json Dial(nlohmann::json config);

  std::unique_ptr<Executor> executor_;
  std::unique_ptr<PreparedLoad> held_;  // set up by a "load" with "hold", run by "start"
  nlohmann::json config_;  // the connect fields in force (no "cmd"); null before any connect
  VarTable vars_;
};

}  // namespace ovl::agent
