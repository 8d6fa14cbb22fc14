// The harness-agent protocol as types: one struct per request the agent understands and one per
// kind of reply, with the one encoder and decoder of each direction. The runner's backends encode
// requests and decode replies with it; harness-agent decodes requests and encodes replies with it.
// Below the backends and the runner: it knows ops, throughput and base only.
//
// On the wire every request and every reply is one JSON object on one line; each request line
// gets exactly one reply line, in order. The requests (the "cmd" of each is its type's kCmd):
//   {"cmd":"connect","mode":"libnfs","host":"127.0.0.1","nfs_port":N,"mount_port":N,
//    "export":"/export","uid":0,"gid":0,"timeout_ms":10000}
//       Raw NFSv3 through libnfs. nfs_port is required; the rest default to the values shown
//       (mount_port to nfs_port, timeout_ms to libnfs_executor.h's). timeout_ms bounds every RPC.
//   {"cmd":"connect","mode":"syscalls","root":"/mnt/point"}
//       Syscalls on a local directory (kernel overlayfs, or a kernel NFS mount in a VM).
//     A connect starts a new session: it drops every held handle variable.
//   {"cmd":"op","op":{...}}
//       Runs one operation (ops::Op in its JSON form, see ops/ops.h).
//   {"cmd":"reconnect", <any connect field>}
//       After a server restart or a remount: dials again (libnfs) or reopens the root
//       (syscalls) with the last connect's fields, overridden by those given here (a server
//       back on a new port), and keeps the held handle variables. "mode", when given, must be
//       the last connect's.
//   {"cmd":"load",...}
//       Runs a throughput load (throughput/load_spec.h has its fields; agent/load.h). With
//       "hold":true the agent sets the load up, answers Ready and holds it;
//   {"cmd":"start"}
//       then runs the held load's timed part and answers as to a load.
//   {"cmd":"forget"}   drops every held handle variable.
//   {"cmd":"quit"}     answers, then the agent exits 0 (as it does at end of input).
//
// The replies:
//   {"ok":true}                       Ack: to connect, reconnect, forget, quit
//   {"ok":false,"error":"...",        Failure: to a request that does not decode or that failed
//    "seq":N}                           ("seq" when it was an op whose seq could be read)
//   {"ok":true,"ready":true}          Ready: to a load with "hold"
//   {"ok":true,"load":{...}}          LoadDone: to a load or start that ran (stats.h's JSON)
//   {"seq":N,"result":{...}}          OpDone: to an op that decoded (ops::ResultToJson, data
//                                       included), whether or not the server did it
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "base/status.h"
#include "ops/ops.h"
#include "throughput/load_spec.h"
#include "throughput/stats.h"

namespace ovl::agent::protocol {

// How long the runner waits for the reply to a request is the request type's kReplyWait:
// kOp: the backend's bound for one operation (it knows how slow its transport and mounts are);
// kLoad: kLoadReplyTimeout, a throughput load's set-up or timed part (at most 240 s, the job
// definitions' bound, throughput/jobs.h).
enum class ReplyWait { kOp, kLoad };
inline constexpr std::chrono::seconds kLoadReplyTimeout{300};

// ---- Requests ----

struct LibnfsAccess {
  std::string host = "127.0.0.1";
  uint16_t nfs_port = 0;
  std::optional<uint16_t> mount_port;  // absent: nfs_port, also after a reconnect changes it
  std::string export_path = "/export";
  uint32_t uid = 0;  // AUTH_SYS credentials of every call
  uint32_t gid = 0;
  std::optional<std::chrono::milliseconds> timeout;  // per RPC; absent: the executor's default
  bool operator==(const LibnfsAccess&) const = default;
};

struct SyscallsAccess {
  std::string root;  // the directory the op paths start from
  bool operator==(const SyscallsAccess&) const = default;
};

using Access = std::variant<LibnfsAccess, SyscallsAccess>;

// The connect's "mode", the name of an Access alternative.
enum class Mode { kLibnfs, kSyscalls };
// "libnfs" or "syscalls".
std::string_view ModeName(Mode mode);
Mode ModeOf(const Access& access);

struct Connect {
  static constexpr std::string_view kCmd = "connect";
  static constexpr ReplyWait kReplyWait = ReplyWait::kOp;
  Access access;
  bool operator==(const Connect&) const = default;
};

// The connect fields a reconnect may give, each absent unless set.
struct AccessFields {
  std::optional<Mode> mode;
  std::optional<std::string> host;
  std::optional<uint16_t> nfs_port;
  std::optional<uint16_t> mount_port;
  std::optional<std::string> export_path;
  std::optional<uint32_t> uid;
  std::optional<uint32_t> gid;
  std::optional<std::chrono::milliseconds> timeout;
  std::optional<std::string> root;
  bool operator==(const AccessFields&) const = default;
};

struct Reconnect {
  static constexpr std::string_view kCmd = "reconnect";
  static constexpr ReplyWait kReplyWait = ReplyWait::kOp;
  AccessFields fields;  // override the last connect's
  bool operator==(const Reconnect&) const = default;
};

struct RunOp {
  static constexpr std::string_view kCmd = "op";
  static constexpr ReplyWait kReplyWait = ReplyWait::kOp;
  ops::Op op;
};

struct Load {
  static constexpr std::string_view kCmd = "load";
  static constexpr ReplyWait kReplyWait = ReplyWait::kLoad;
  throughput::LoadRequest request;
  bool operator==(const Load&) const = default;
};

struct Start {
  static constexpr std::string_view kCmd = "start";
  static constexpr ReplyWait kReplyWait = ReplyWait::kLoad;
  bool operator==(const Start&) const = default;
};

struct Forget {
  static constexpr std::string_view kCmd = "forget";
  static constexpr ReplyWait kReplyWait = ReplyWait::kOp;
  bool operator==(const Forget&) const = default;
};

struct Quit {
  static constexpr std::string_view kCmd = "quit";
  static constexpr ReplyWait kReplyWait = ReplyWait::kOp;
  bool operator==(const Quit&) const = default;
};

using Request = std::variant<Connect, Reconnect, RunOp, Load, Start, Forget, Quit>;

// The request's "cmd" ("connect", "op", ...), for messages.
std::string_view CmdOf(const Request& request);

// How long the agent may take to answer `request`: kLoadReplyTimeout when its type's kReplyWait
// is kLoad, else `op_timeout`.
std::chrono::milliseconds ReplyTimeout(const Request& request,
                                       std::chrono::milliseconds op_timeout);

// The reconnect that finds the server of `connect` again: every field of it, mode included.
Reconnect ReconnectTo(const Connect& connect);

// `connect` with `fields` applied over it: EINVAL when they change the mode or give a field of
// the other mode (naming it), or when the result is no valid connect (naming the field).
Result<Connect> Apply(const Connect& connect, const AccessFields& fields);

// One request line (no newline). Never throws: invalid UTF-8 in a string is replaced (U+FFFD).
std::string EncodeRequest(const Request& request);

// Decodes and checks one request line: EINVAL naming what is wrong (not JSON, not an object,
// a missing or unknown "cmd", a missing or unknown field, a field of the wrong type or out of
// range, an op that does not parse). When an "op" request's op does not parse but carries an
// unsigned "seq", *op_seq (if given) is set to it. Never throws.
Result<Request> DecodeRequest(std::string_view line, std::optional<uint64_t>* op_seq = nullptr);

// ---- Replies ----

struct Ack {
  bool operator==(const Ack&) const = default;
};

struct Failure {
  std::string error;
  std::optional<uint64_t> seq;  // of a malformed op
  bool operator==(const Failure&) const = default;
};

struct Ready {
  bool operator==(const Ready&) const = default;
};

struct LoadDone {
  throughput::LoadReport report;
};

struct OpDone {
  uint64_t seq = 0;
  ops::Result result;
};

using Reply = std::variant<Ack, Failure, Ready, LoadDone, OpDone>;

// One reply line (no newline). Never throws: invalid UTF-8 in names or error texts is replaced.
std::string EncodeReply(const Reply& reply);

// Decodes one reply line: EPROTO naming what is wrong (not JSON, not an object, a missing or
// unknown field, a field of the wrong type, a result or load report that does not parse).
// Never throws.
Result<Reply> DecodeReply(std::string_view line);

}  // namespace ovl::agent::protocol
