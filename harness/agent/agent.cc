#include "agent/agent.h"

#include <chrono>
#include <cstdint>
#include <exception>
#include <optional>
#include <set>
#include <utility>

#include "agent/fio_load.h"
#include "agent/libnfs_executor.h"
#include "agent/load.h"
#include "agent/syscall_executor.h"
#include "throughput/load_spec.h"
#include "throughput/stats.h"

namespace ovl::agent {
namespace {

using nlohmann::json;

constexpr uint64_t kMaxTimeoutMs = 3600 * 1000;

json Ok() {
  return json{{"ok", true}};
}
json Error(const std::string& what) {
  return json{{"ok", false}, {"error", what}};
}

// The unsigned field `key` of `j`, `def` when absent; an error when out of [lo, hi].
Result<uint64_t> UintField(const json& j, const char* key, std::optional<uint64_t> def, uint64_t lo,
                           uint64_t hi) {
  auto it = j.find(key);
  if (it == j.end()) {
    if (def) return *def;
    return Status::Error(EINVAL, std::string("missing \"") + key + "\"");
  }
  if (!it->is_number_unsigned() || it->get<uint64_t>() < lo || it->get<uint64_t>() > hi) {
    return Status::Error(EINVAL, std::string("\"") + key + "\" must be an integer in [" +
                                     std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
  return it->get<uint64_t>();
}

Result<std::string> StringField(const json& j, const char* key, std::optional<std::string> def) {
  auto it = j.find(key);
  if (it == j.end()) {
    if (def) return *def;
    return Status::Error(EINVAL, std::string("missing \"") + key + "\"");
  }
  if (!it->is_string() || it->get<std::string>().empty()) {
    return Status::Error(EINVAL, std::string("\"") + key + "\" must be a non-empty string");
  }
  return it->get<std::string>();
}

Status OnlyKeys(const json& j, const std::set<std::string>& allowed) {
  for (const auto& [key, value] : j.items()) {
    if (!allowed.contains(key)) return Status::Error(EINVAL, "unknown field \"" + key + "\"");
  }
  return Status::Ok();
}

Result<LibnfsConfig> ParseLibnfs(const json& j) {
  OVL_RETURN_IF_ERROR(OnlyKeys(
      j, {"mode", "host", "nfs_port", "mount_port", "export", "uid", "gid", "timeout_ms"}));
  LibnfsConfig c;
  OVL_ASSIGN_OR_RETURN(c.host, StringField(j, "host", c.host));
  OVL_ASSIGN_OR_RETURN(uint64_t nfs_port, UintField(j, "nfs_port", std::nullopt, 1, 65535));
  OVL_ASSIGN_OR_RETURN(uint64_t mount_port, UintField(j, "mount_port", nfs_port, 1, 65535));
  OVL_ASSIGN_OR_RETURN(c.export_path, StringField(j, "export", c.export_path));
  OVL_ASSIGN_OR_RETURN(uint64_t uid, UintField(j, "uid", 0, 0, UINT32_MAX));
  OVL_ASSIGN_OR_RETURN(uint64_t gid, UintField(j, "gid", 0, 0, UINT32_MAX));
  OVL_ASSIGN_OR_RETURN(uint64_t timeout_ms,
                       UintField(j, "timeout_ms", c.timeout.count(), 1, kMaxTimeoutMs));
  c.nfs_port = static_cast<uint16_t>(nfs_port);
  c.mount_port = static_cast<uint16_t>(mount_port);
  c.uid = static_cast<uint32_t>(uid);
  c.gid = static_cast<uint32_t>(gid);
  c.timeout = std::chrono::milliseconds(timeout_ms);
  return c;
}

// A validated connect: which access path, and its settings.
struct AccessPath {
  bool libnfs = false;
  LibnfsConfig nfs;  // libnfs
  std::string root;  // syscalls
};

Result<AccessPath> ParseAccessPath(const json& config) {
  OVL_ASSIGN_OR_RETURN(std::string mode, StringField(config, "mode", std::nullopt));
  AccessPath path;
  if (mode == "libnfs") {
    path.libnfs = true;
    OVL_ASSIGN_OR_RETURN(path.nfs, ParseLibnfs(config));
    return path;
  }
  if (mode == "syscalls") {
    OVL_RETURN_IF_ERROR(OnlyKeys(config, {"mode", "root"}));
    OVL_ASSIGN_OR_RETURN(path.root, StringField(config, "root", std::nullopt));
    return path;
  }
  return Status::Error(EINVAL, "\"mode\" must be \"libnfs\" or \"syscalls\"");
}

Result<std::unique_ptr<Executor>> MakeExecutor(const AccessPath& path) {
  if (path.libnfs) {
    OVL_ASSIGN_OR_RETURN(std::unique_ptr<LibnfsExecutor> e, LibnfsExecutor::Connect(path.nfs));
    return std::unique_ptr<Executor>(std::move(e));
  }
  OVL_ASSIGN_OR_RETURN(std::unique_ptr<SyscallExecutor> e, SyscallExecutor::Open(path.root));
  return std::unique_ptr<Executor>(std::move(e));
}

// `request` without its "cmd".
json Fields(const json& request) {
  json fields = request;
  fields.erase("cmd");
  return fields;
}

enum class LineRead { kLine, kTooLong, kEnd };

// Reads one '\n'-terminated line (the last may lack it) of at most kMaxLineBytes; a longer one
// is consumed up to its end and reported as kTooLong.
LineRead ReadLine(std::istream& in, std::string* line) {
  line->clear();
  std::streambuf* buf = in.rdbuf();
  bool too_long = false;
  for (;;) {
    int c = buf->sbumpc();
    if (c == std::char_traits<char>::eof()) {
      if (line->empty() && !too_long) return LineRead::kEnd;
      break;
    }
    if (c == '\n') break;
    if (line->size() >= kMaxLineBytes) {
      too_long = true;
      line->clear();
    }
    if (!too_long) line->push_back(static_cast<char>(c));
  }
  return too_long ? LineRead::kTooLong : LineRead::kLine;
}

}  // namespace

std::string Agent::Handle(const std::string& line, bool* quit) {
  json response;
  try {
    json request = json::parse(line);
    response = HandleRequest(request, quit);
  } catch (const std::exception& e) {
    // The JSON edge: a parse or type error in a request is the runner's bug, told back to it.
    response = Error(std::string("malformed request: ") + e.what());
  }
  // Invalid UTF-8 in names or error texts must not stop the answer.
  return response.dump(-1, ' ', false, json::error_handler_t::replace);
}

json Agent::HandleRequest(const json& request, bool* quit) {
  if (!request.is_object()) return Error("a request must be a JSON object");
  auto cmd = request.find("cmd");
  if (cmd == request.end() || !cmd->is_string()) return Error("missing string \"cmd\"");
  const std::string& name = cmd->get_ref<const std::string&>();
  if (name == "op") return RunOp(request);
  if (name == "connect") return Connect(request);
  if (name == "reconnect") return Reconnect(request);
  if (name == "load") return Load(request);
  if (name == "start") return Start(request);
  if (name == "forget" || name == "quit") {
    if (request.size() != 1) return Error("\"" + name + "\" takes no fields");
    if (name == "forget") vars_.clear();
    if (name == "quit") *quit = true;
    return Ok();
  }
  return Error("unknown cmd \"" + name + "\"");
}

json Agent::Dial(json config) {
  Result<AccessPath> path = ParseAccessPath(config);
  if (!path.ok()) return Error(path.status().message());
  config_ = std::move(config);
  // Drop the old connection first: a remount or a restarted server makes it useless.
  executor_.reset();
  Result<std::unique_ptr<Executor>> executor = MakeExecutor(*path);
  if (!executor.ok()) return Error(executor.status().ToString());
  executor_ = std::move(executor).value();
  return Ok();
}

json Agent::Connect(const json& request) {
  json fields = Fields(request);
  // A malformed connect changes nothing; a valid one starts a new session.
  if (Result<AccessPath> path = ParseAccessPath(fields); !path.ok()) {
    return Error(path.status().message());
  }
  vars_.clear();
  held_.reset();
  return Dial(std::move(fields));
}

json Agent::Reconnect(const json& request) {
  if (config_.is_null()) return Error("reconnect before connect");
  json fields = Fields(request);
  if (fields.contains("mode") && fields["mode"] != config_["mode"]) {
    return Error("reconnect cannot change \"mode\"");
  }
  held_.reset();
  json merged = config_;
  merged.update(fields);
  return Dial(std::move(merged));
}

json Agent::RunOp(const json& request) {
  if (request.size() != 2 || !request.contains("op")) {
    return Error("\"op\" takes exactly the field \"op\"");
  }
  const json& op_json = request["op"];
  Result<ops::Op> op = ops::OpFromJson(op_json);
  if (!op.ok()) {
    json response = Error("malformed op: " + op.status().message());
    if (op_json.is_object() && op_json.contains("seq")) response["seq"] = op_json["seq"];
    return response;
  }
  ops::Result result = executor_ ? executor_->Execute(*op, vars_) : UnknownResult("not connected");
  return json{{"seq", op->seq}, {"result", ops::ResultToJson(result, /*with_data=*/true)}};
}

json Agent::Load(const json& request) {
  Result<throughput::LoadRequest> load = throughput::LoadRequestFromJson(request);
  if (!load.ok()) return Error(load.status().message());
  const bool fio = load->engine == topology::LoadEngine::kFio;
  if (fio && !config_.is_null() && config_["mode"] != "syscalls") {
    return Error("engine fio runs on a mounted path: this connection is " +
                 config_["mode"].get<std::string>());
  }
  if (!executor_) return Error("load before a successful connect");
  // After a fault the load dials the same access path again; the handles it holds stay.
  Redial redial = [this]() -> Executor* {
    json dialed = Dial(config_);
    return dialed.value("ok", false) ? executor_.get() : nullptr;
  };
  const auto start = std::chrono::steady_clock::now();
  held_.reset();
  const bool hold = load->hold;
  Result<std::unique_ptr<PreparedLoad>> prepared =
      fio ? PrepareFioLoad(std::move(load).value(), config_["root"].get<std::string>())
          : PrepareLoad(std::move(load).value(), executor_.get(), std::move(redial));
  if (!prepared.ok()) return Error(prepared.status().message());
  if (hold) {
    held_ = std::move(prepared).value();
    return json{{"ok", true}, {"ready", true}};
  }
  return RunPrepared(**prepared, start);
}

json Agent::Start(const json& request) {
  if (request.size() != 1) return Error("\"start\" takes no fields");
  if (!held_) return Error("start without a held load");
  std::unique_ptr<PreparedLoad> load = std::move(held_);
  return RunPrepared(*load, std::chrono::steady_clock::now());
}

json Agent::RunPrepared(PreparedLoad& load, std::chrono::steady_clock::time_point since) {
  Result<throughput::LoadReport> report = load.Run();
  if (!report.ok()) return Error(report.status().message());
  report->request_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
  return json{{"ok", true}, {"load", throughput::ToJson(*report)}};
}

void Agent::Serve(std::istream& in, std::ostream& out) {
  std::string line;
  bool quit = false;
  while (!quit) {
    LineRead read = ReadLine(in, &line);
    if (read == LineRead::kEnd) return;
    std::string response =
        read == LineRead::kTooLong
            ? Error("request longer than " + std::to_string(kMaxLineBytes) + " bytes").dump()
            : Handle(line, &quit);
    out << response << '\n' << std::flush;
  }
}

}  // namespace ovl::agent
